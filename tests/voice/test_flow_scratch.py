from typing import Any

from tests.voice.conftest import Caller


def test_scratch(caller: Caller, home: Any) -> None:
    print(caller.call())
    print(caller.press("4"))
    print(caller.say("there is a big pothole"))
    print(caller.press("2"))
    print(caller.say("100 Queen Street West"))
    print(caller.say("it is deep and dangerous"))
    print(caller.press("1"))
    print(caller.say("yes"))
    print(caller.body)
    print(caller.press("3"))
    print(caller.say("T H 26 dash 0 0 0 0 0 1"))
    print(caller.press("5"))
    print(caller.body)
    assert 0
