"""What a `reporting` or `finance` viewer sees of personal data: the one masking rule of the
admin and the REST API.

- A phone number keeps its country code and its last two digits, the rest of its digits
  become bullets in the number's own international grouping: `+14155552671` →
  `+1 •••-•••-••71`. The country code says where calls come from (a reporting question); the
  last two let a person tell two callers apart in one list; the area code is masked too,
  because with it only five digits would be left to guess.
- Other caller text (an invalid number kept raw) keeps its last two digits the same way.
- An email keeps its first letter and its top-level domain: `jane@acme.com` → `j•••@•••.com`.
- An IP address keeps its network half: `203.0.113.7` → `203.0.•.•`, IPv6 its first two groups.
- A recording is never linked: the viewer learns only that there is one.

`admin` and `integration` roles (and superusers in the admin) see everything.
"""

import ipaddress

import phonenumbers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.models import ApiKey, Role

BULLET = "•"
MASKED_ROLES = frozenset({Role.REPORTING, Role.FINANCE})
RECORDING_AVAILABLE = "recording available"


def sees_personal_data(role: str | None) -> bool:
    """Whether a viewer with `role` sees numbers, emails, IPs and recordings in full."""
    return role not in MASKED_ROLES


def mask_digits(text: str, keep: int = 2) -> str:
    """Every digit but the last `keep` becomes a bullet; other characters stay."""
    total = sum(char.isdigit() for char in text)
    seen, out = 0, []
    for char in text:
        if char.isdigit():
            seen += 1
            out.append(char if seen > total - keep else BULLET)
        else:
            out.append(char)
    return "".join(out)


def mask_phone(e164: str | None) -> str | None:
    if not e164:
        return e164 or None
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return mask_digits(e164)
    code = f"+{number.country_code}"
    shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if not shown.startswith(code):
        return mask_digits(e164)
    return code + mask_digits(shown[len(code) :])


def mask_email(email: str | None) -> str | None:
    if not email:
        return email
    local, _, domain = email.rpartition("@")
    top = domain.rsplit(".", 1)[-1] if "." in domain else ""
    return f"{local[:1]}{BULLET * 3}@{BULLET * 3}{'.' + top if top else ''}"


def mask_ip(ip: str | None) -> str | None:
    if not ip:
        return ip
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return BULLET * 3
    if address.version == 4:
        head = ".".join(str(address).split(".")[:2])
        return f"{head}.{BULLET}.{BULLET}"
    groups = address.exploded.split(":")
    return ":".join(groups[:2]) + f":{BULLET}" * 6


def mask_recording(url: str | None) -> str | None:
    return RECORDING_AVAILABLE if url else None


MASKS = {
    "phone": mask_phone,
    "digits": lambda text: mask_digits(text) if text else text,
    "email": mask_email,
    "ip": mask_ip,
    "recording": mask_recording,
}


def mask(kind: str, value, *, role: str | None):
    """`value` as a viewer with `role` may see it (`kind`: phone, digits, email, ip, recording)."""
    return value if sees_personal_data(role) else MASKS[kind](value)


def shown_caller(e164: str, raw: str, *, role: str | None) -> str:
    """A call's caller as a list shows it: the number, else what the network sent (a withheld
    or invalid caller ID), else "withheld"; masked for a masked role."""
    if sees_personal_data(role):
        return e164 or raw or "withheld"
    return mask_phone(e164) or mask_digits(raw) or "withheld"


def role_of_request(request) -> str | None:
    """The role of the API key that made `request`; None (sees everything) without one."""
    api_key = getattr(request, "auth", None)
    return api_key.role if isinstance(api_key, ApiKey) else None


@extend_schema_field(OpenApiTypes.STR)
class MaskedField(serializers.Field):
    """A read-only field shown masked to a `reporting` or `finance` key (the request in the
    serializer's context says which; without one, as to a writer). A phone number's empty
    value is null (a withheld caller ID). For the API, a masked recording is null: the URL
    itself is the secret, and the key has no use for the words."""

    def __init__(self, kind: str, **kwargs):
        self.kind = kind
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        if self.kind == "phone":
            value = value or None
        if not value or sees_personal_data(role_of_request(self.context.get("request"))):
            return value
        return None if self.kind == "recording" else MASKS[self.kind](value)
