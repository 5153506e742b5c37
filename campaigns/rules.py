"""Pure checks on account settings: currencies, time zones, regions, web origins. No ORM, no I/O."""

import zoneinfo
from functools import cache
from urllib.parse import urlsplit

import phonenumbers

# ISO 4217 active codes (2024 list), funds codes and precious metals left out.
CURRENCIES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL
    BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR
    IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL
    LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
    SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
    USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905 - a list of 180 quoted codes reads worse
)


@cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_currency(code: str) -> bool:
    return code in CURRENCIES


def is_time_zone(name: str) -> bool:
    return name in time_zones()


def is_region(code: str) -> bool:
    return code in phonenumbers.SUPPORTED_REGIONS


def normalise_origin(origin: str) -> str:
    """`https://Shop.Example.com/` → `https://shop.example.com`; raises ValueError otherwise.

    An origin is a scheme, a host and an optional port: what a browser sends in `Origin`."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{origin}' is not an origin like https://www.example.com")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"'{origin}' has more than a scheme, host and port")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"
