"""Personal data in the admin: staff reads audited, and masked for `reporting`/`finance` members.

`PersonalDataAdmin` goes first among the bases of a ModelAdmin over calls, outcomes, sessions
or conversions (all `AccountScopedAdmin`s). It

- annotates every row with the viewer's role in the row's account (`viewer_role`: one
  correlated subquery on the unique (user, account) membership, so the changelist stays one
  query); a superuser is `admin` everywhere;
- shows a masked viewer the row's `masked_fields` through `campaigns.masking` in columns and
  on the change page, which is read-only for them (a form would carry the full value), and
  hides inlines (an outcome's history holds old caller numbers);
- leaves the masked fields out of the search of a user masked in any of their accounts:
  searching a full number and seeing one row come back would confirm the number;
- appends an audit event per account for each changelist page read (the rows shown of that
  account) and for each change page read, with the staff user as the actor.
"""

from collections import Counter

from django.contrib import admin
from django.db.models import CharField, OuterRef, Subquery, Value

from campaigns import masking
from campaigns.audit import context, services
from campaigns.audit.models import AuditAction
from campaigns.models import Account, Membership, Role

LABELS = {
    "caller_e164": "Caller number",
    "caller_raw": "Caller ID as sent",
    "recording_url": "Recording",
    "email": "Email",
    "ip": "IP address",
    "payload": "Payload",
    "e164": "Number",
}


def viewer_role(request):
    """The request's user's role in each row's account, as a query expression."""
    if request.user.is_superuser:
        return Value(Role.ADMIN, output_field=CharField())
    roles = Membership.objects.filter(user=request.user, account=OuterRef("account"))
    return Subquery(roles.values("role")[:1], output_field=CharField())


def role_in(user, account: Account) -> str | None:
    """The user's role in `account` (admin for a superuser; None for a non-member)."""
    if user.is_superuser:
        return Role.ADMIN
    membership = Membership.objects.filter(user=user, account=account).first()
    return membership.role if membership else None


def record_read(
    request, account: Account, *, resource: str, count: int, action: str = AuditAction.READ
) -> None:
    """One event for a staff user's read (or export) outside a ModelAdmin: the dashboard."""
    services.record_access(
        account=account,
        actor=context.actor_of(request),
        action=action,
        resource=resource,
        count=count,
        filters=request.GET.keys(),
    )


def masked_anywhere(request) -> bool:
    """Whether the user is a masked member of any account (cached on the request)."""
    if request.user.is_superuser:
        return False
    if not hasattr(request, "_masked_anywhere"):
        roles = Membership.objects.filter(user=request.user).values_list("role", flat=True)
        request._masked_anywhere = any(not masking.sees_personal_data(r) for r in roles)
    return request._masked_anywhere


def masked_column(field: str, kind: str):
    @admin.display(description=LABELS[field])
    def column(self, obj):
        value = getattr(obj, field)
        if kind == "hidden":
            return "hidden" if value else "—"
        return masking.MASKS[kind](value) or "—"

    column.__name__ = f"masked_{field}"
    return column


class PersonalDataAdmin:
    audit_resource = ""
    masked_fields: dict[str, str] = {}  # model field → masking kind (or "hidden")

    masked_caller_e164 = masked_column("caller_e164", "phone")
    masked_caller_raw = masked_column("caller_raw", "digits")
    masked_recording_url = masked_column("recording_url", "recording")
    masked_email = masked_column("email", "email")
    masked_ip = masked_column("ip", "ip")
    masked_payload = masked_column("payload", "hidden")

    def role_of(self, obj) -> str:
        # No annotation (an object loaded elsewhere) is masked: the safe side.
        return getattr(obj, "viewer_role", None) or Role.REPORTING

    def is_masked(self, obj) -> bool:
        return not masking.sees_personal_data(self.role_of(obj))

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(viewer_role=viewer_role(request))

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or not self.is_masked(obj))

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is None or not self.is_masked(obj):
            return fields
        return [f"masked_{name}" if name in self.masked_fields else name for name in fields]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is None or not self.is_masked(obj):
            return readonly
        return [f"masked_{name}" if name in self.masked_fields else name for name in readonly]

    def get_inlines(self, request, obj):
        if obj is not None and self.is_masked(obj):
            return []
        return super().get_inlines(request, obj)

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        # Without a search term the page only draws the box: no need to ask for the roles.
        if not request.GET.get("q") or not masked_anywhere(request):
            return fields
        return [name for name in fields if name.lstrip("=^@") not in self.masked_fields]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if request.method == "GET" and response.status_code == 200 and changelist is not None:
            rows = Counter(obj.account_id for obj in changelist.result_list)
            for account_id, count in sorted(rows.items()):
                self._record_read(request, account_id, count=count)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", {}).get("original")
        if request.method == "GET" and response.status_code == 200 and original is not None:
            self._record_read(request, original.account_id, count=1, object_id=original.pk)
        return response

    def _record_read(self, request, account_id: int, *, count: int, object_id=None) -> None:
        services.record_access(
            account=Account(pk=account_id),
            actor=context.actor_of(request),
            resource=self.audit_resource,
            count=count,
            filters=request.GET.keys(),
            object_id=object_id,
        )
