"""Admin log-ins and failed log-ins in the audit trail, through Django's auth signals (the
framework's hook for them: the login view is Django's own). Connected in CampaignsConfig.ready.

A log-in is recorded once per account the user is a member of, so each account's admins see
who entered with access to it; a superuser without memberships gets one event with no account.
A failed log-in names the user only when the username is one: a mistyped password typed into
the username box must not land in the trail, so an unknown name is recorded as such."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from campaigns.audit import context, services
from campaigns.audit.models import AuditAction
from campaigns.models import Membership


def _record(action: str, *, user, request, detail: dict | None = None) -> None:
    where = context.actor_of(request) if request is not None else context.Actor()
    accounts = []
    if user is not None:
        # Memberships, not `accounts_of_user`: that is every account for a superuser.
        memberships = Membership.objects.filter(user=user).select_related("account")
        accounts = [membership.account for membership in memberships]
    for account in accounts or [None]:
        services.record_event(
            account=account,
            action=action,
            resource="admin_session",
            user=user,
            method=where.method,
            path=where.path,
            ip=where.ip,
            detail=detail,
            actor_label=None if user is not None else "unknown user",
        )


@receiver(user_logged_in, dispatch_uid="audit_login")
def record_login(sender, request, user, **kwargs) -> None:
    _record(AuditAction.LOGIN, user=user, request=request)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def record_login_failed(sender, credentials, request=None, **kwargs) -> None:
    model = get_user_model()
    username = credentials.get(model.USERNAME_FIELD) or credentials.get("username") or ""
    user = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
    _record(AuditAction.LOGIN_FAILED, user=user, request=request)
