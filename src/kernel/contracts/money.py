"""Money rules shared by modules: ISO 4217 codes and rounding to the minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Active ISO 4217 alphabetic codes.
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
    CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
    GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD
    KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO
    NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS
    SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND
    VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG ZWL
    """.split()
)

CENT = Decimal("0.01")


def is_currency(code: str) -> bool:
    return code in ISO_4217


def round_money(amount: Decimal) -> Decimal:
    """Half-up to two decimals (the minor unit of the currencies we price in)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def rate_problem(value: Decimal, high: Decimal = Decimal(1_000_000), places: int = 4) -> str | None:
    """Why `value` is not a usable rate or amount (finite, 0..high, at most `places` decimals), or None."""
    if not value.is_finite():
        return "must be a finite number"
    if value < 0:
        return "must be at least 0"
    if value > high:
        return f"must be at most {high}"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        return f"must have at most {places} decimal places"
    return None


def money_json(amount: Decimal | None) -> float | None:
    """A JSON number with at most two decimals (api-v1 §6.6); float repr of a 2-place Decimal is exact text."""
    return None if amount is None else float(round_money(amount))
