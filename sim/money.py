"""Exact money: integer cents in every event, Decimal only at the edges (config, display)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def to_cents(amount: Decimal | str | int) -> int:
    """Dollars (as text, int or Decimal) to whole cents; fractions of a cent are an error."""
    try:
        value = Decimal(str(amount)) * 100
    except InvalidOperation:
        raise ValueError(f"not an amount of money: {amount!r}") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError(f"not a whole number of cents: {amount!r}")
    return int(value)


def to_dollars(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def format_cents(cents: int) -> str:
    """12345 -> '123.45', -5 -> '-0.05'."""
    return f"{to_dollars(cents):.2f}"


def div_round(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half to even, in integers: no float anywhere."""
    if denominator == 0:
        raise ZeroDivisionError("div_round by zero")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient
