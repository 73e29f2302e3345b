"""Currencies (ISO 4217) and how amounts are shown."""

from __future__ import annotations

from decimal import Decimal

from parley.core.errors import ActionError
from parley.tenancy.models import Workspace

# Active ISO 4217 codes (2024), so a typo like "EUD" is refused instead of stored.
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL
    BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR
    IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL
    LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
    SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
    USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
    """.split()  # noqa: SIM905 (a list literal would be 170 lines)
)

# The currency a new deal starts with, from the workspace's country; USD otherwise.
_EURO = [
    "AT",
    "BE",
    "CY",
    "DE",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PT",
    "SI",
    "SK",
]
_BY_COUNTRY = {
    **dict.fromkeys(_EURO, "EUR"),
    "GB": "GBP",
    "IN": "INR",
    "BR": "BRL",
    "MX": "MXN",
    "ID": "IDR",
    "NG": "NGN",
    "ZA": "ZAR",
    "AE": "AED",
    "SA": "SAR",
    "TR": "TRY",
    "CA": "CAD",
    "AU": "AUD",
    "CH": "CHF",
    "AR": "ARS",
    "CO": "COP",
    "CL": "CLP",
    "PE": "PEN",
    "EG": "EGP",
    "KE": "KES",
    "PK": "PKR",
    "MY": "MYR",
    "SG": "SGD",
    "PH": "PHP",
    "JP": "JPY",
    "PL": "PLN",
    "SE": "SEK",
}

MAX_VALUE = Decimal("999999999999.99")


def default_currency(workspace: Workspace) -> str:
    return _BY_COUNTRY.get(workspace.default_country.upper(), "USD")


def clean_currency(raw: str) -> str:
    code = raw.strip().upper()
    if code not in ISO_4217:
        raise ActionError(
            f"{raw!r} is not an ISO 4217 currency code; write three letters such as USD or EUR.",
            code="invalid_currency",
            field="currency",
        )
    return code


def clean_value(value: Decimal | int | str) -> Decimal:
    try:
        amount = Decimal(str(value).strip() or "0")
    except ArithmeticError as exc:
        raise ActionError(
            f"{value!r} is not an amount; write it like 1250.50.",
            code="invalid_value",
            field="value",
        ) from exc
    if not amount.is_finite() or amount < 0 or amount > MAX_VALUE:
        raise ActionError(
            "The value is an amount between 0 and 999,999,999,999.99.",
            code="invalid_value",
            field="value",
        )
    return amount.quantize(Decimal("0.01"))


def format_money(amount: Decimal, currency: str) -> str:
    """ "USD 12,500" or "EUR 99.90": cents only when there are any."""
    whole = amount == amount.to_integral_value()
    return f"{currency} {amount:,.0f}" if whole else f"{currency} {amount:,.2f}"
