DATETIME_FORMAT = r"j \d\e F \d\e Y, H:i"
