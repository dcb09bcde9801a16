"""Money as integers in the currency's minor unit, with its ISO 4217 code.

Decimal appears only at the edges (a rules programme's amount, a permit tree's fee, what
a reader sees); sums and comparisons are on integers. Formatting follows the reader's
language through Django's localised number formats (thousands and decimal separators);
only the few currency symbols a council here uses are known, others show their code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from django.utils import formats, numberformat, translation

from townhall.core.errors import ValidationFailed

# Minor-unit exponents that differ from 2 (ISO 4217).
EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "JOD": 3, "TND": 3}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "$", "AUD": "$", "MXN": "$"}
# Symbol written before the number in these languages ("$1,250.00"), after it elsewhere
# ("1250,00 $", as CLDR writes Spanish).
SYMBOL_FIRST = {"en"}
NBSP = "\u00a0"


def exponent(currency: str) -> int:
    return EXPONENTS.get(currency.upper(), 2)


def currency_check(currency: str) -> str:
    """Return the code upper-cased; raise ValidationFailed if it is not three letters."""
    code = (currency or "").strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValidationFailed(
            "Not a currency code", details={"currency": ["Give an ISO 4217 code, like USD."]}
        )
    return code


@dataclass(frozen=True, order=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount_minor, int) or isinstance(self.amount_minor, bool):
            raise TypeError("amount_minor must be an int")

    @classmethod
    def from_decimal(cls, amount: Decimal | int | str, currency: str) -> Money:
        """Minor units of a decimal amount (a rules result, a permit fee): rounded half to
        even at the currency's precision; ValidationFailed if it is not a finite number."""
        code = currency_check(currency)
        try:
            value = Decimal(amount)
        except (InvalidOperation, ValueError, TypeError):
            value = Decimal("NaN")
        if not value.is_finite():
            raise ValidationFailed("Not an amount", details={"amount": ["Give a number."]})
        scaled = (value * (Decimal(10) ** exponent(code))).quantize(
            Decimal(1), rounding=ROUND_HALF_EVEN
        )
        return cls(int(scaled), code)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-exponent(self.currency))


def money_format(money: Money, language: str | None = None) -> str:
    """The amount as a reader of `language` (the active one by default) writes it."""
    lang = (language or translation.get_language() or "en").split("-")[0].lower()
    places = exponent(money.currency)
    with translation.override(lang):
        number = numberformat.format(
            money.to_decimal(),
            str(formats.get_format("DECIMAL_SEPARATOR", lang)),
            decimal_pos=places,
            grouping=int(formats.get_format("NUMBER_GROUPING", lang) or 3),
            thousand_sep=str(formats.get_format("THOUSAND_SEPARATOR", lang)),
            force_grouping=True,
        )
    symbol = SYMBOLS.get(money.currency)
    if symbol is None:
        return f"{number}{NBSP}{money.currency}"
    if lang in SYMBOL_FIRST:
        return f"-{symbol}{number[1:]}" if number.startswith("-") else f"{symbol}{number}"
    return f"{number}{NBSP}{symbol}"
