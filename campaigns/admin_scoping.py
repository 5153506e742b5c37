"""The one tenancy mechanism of the admin, as `AccountScopedAdmin` is for the REST API.

A staff user sees, picks and writes only the rows of the accounts they are a member of
(`selectors.accounts_of_user`); a superuser sees every account.

- `get_queryset` filters on `account`, so another account's object is absent from changelists,
  date hierarchies and raw-id popups, and "does not exist" on its change, delete and history
  pages; the object-level permissions say no as well, for any caller that skips the queryset.
- `formfield_for_foreignkey` offers only those accounts' rows: another account's id posted by
  hand is "Select a valid choice".
- `AccountScopedForm` checks that every related row belongs to the object's own account (a
  superuser sees every account, and a keyword must not hang from another account's campaign).
- List filters on relations offer only those accounts' rows: the stock filter lists the whole
  related table, naming other tenants' campaigns.
- An object never moves between accounts: `account` is read-only once it exists.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from campaigns import selectors
from campaigns.errors import DomainError
from campaigns.models import Account


def account_ids(request) -> frozenset[int] | None:
    """Ids of the accounts the user may see; None means all (a superuser). Cached on the request:
    every permission check and form field asks."""
    if request.user.is_superuser:
        return None
    if not hasattr(request, "_admin_account_ids"):
        accounts = selectors.accounts_of_user(user=request.user)
        request._admin_account_ids = frozenset(accounts.values_list("pk", flat=True))
    return request._admin_account_ids


def account_lookup(model) -> str | None:
    """How rows of `model` name their account, or None for models outside tenancy (users)."""
    if model is Account:
        return "pk"
    try:
        model._meta.get_field("account")
    except FieldDoesNotExist:
        return None
    return "account"


def scope(queryset: models.QuerySet, request) -> models.QuerySet:
    """`queryset` narrowed to the user's accounts (unchanged for models outside tenancy)."""
    ids = account_ids(request)
    lookup = account_lookup(queryset.model)
    if ids is None or lookup is None:
        return queryset
    return queryset.filter(**{f"{lookup}__in": ids})


def account_id_of(obj: models.Model) -> int | None:
    return obj.pk if isinstance(obj, Account) else obj.account_id


def count_of(model: type[models.Model], field: str) -> Coalesce:
    """COUNT of `model` rows pointing here through `field`, as a correlated subquery: two
    `Count()` joins in one query would multiply each other's rows."""
    rows = (
        model.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)


def adopt(obj: models.Model, saved: models.Model) -> None:
    """Make the admin's own instance the row a service saved: the admin goes on to log the
    change and build its redirect from `obj`."""
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


class ScopedRelatedFilter(admin.RelatedFieldListFilter):
    def field_choices(self, field, request, model_admin):
        queryset = scope(field.related_model._default_manager.all(), request)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in queryset]


class AccountScopedForm(forms.ModelForm):
    # Set per request by AccountScopedAdmin.get_form.
    allowed_account_ids: frozenset[int] | None = None
    service_errors: dict = {}

    def account(self) -> Account | None:
        """The account the object belongs to, or will once saved."""
        if isinstance(self.instance, Account):
            return self.instance if self.instance.pk else None
        if "account" in self.fields:
            return self.cleaned_data.get("account")
        return self.instance.account if self.instance.account_id else None

    def clean(self):
        cleaned = super().clean()
        for field, errors in self.service_errors.items():
            self.add_error(field if field in self.fields else None, errors)
        account = self.account()
        if account is None:
            return cleaned
        if self.allowed_account_ids is not None and account.pk not in self.allowed_account_ids:
            raise forms.ValidationError("You can only write to accounts you are a member of.")
        for name, value in list(cleaned.items()):
            if getattr(value, "account_id", account.pk) != account.pk:
                self.add_error(name, f"This {value._meta.verbose_name} belongs to another account.")
        return cleaned


class AccountScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin over one model's rows, limited to the user's accounts (module docstring).

    Writes go through services when the subclass names them, as the REST viewsets do:
    `create_service(account=…, **fields)` and `update_service(account=…, <instance_arg>=…,
    **changed_fields)`. A service's refusal (a rule only it knows, or a race past the form's
    checks) shows the form again with its reasons instead of a 500."""

    form = AccountScopedForm
    show_full_result_count = False  # no second COUNT(*) over the whole table on filtered pages
    list_per_page = 50
    create_service = None
    update_service = None
    instance_arg = ""

    def owns(self, request, obj) -> bool:
        ids = account_ids(request)
        return obj is None or ids is None or account_id_of(obj) in ids

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self.owns(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.owns(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.owns(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and account_lookup(self.model) == "account":
            readonly.append("account")
        return readonly

    def get_list_filter(self, request):
        filters = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and "__" not in item:
                field = self.model._meta.get_field(item)
                if field.many_to_one and account_lookup(field.related_model):
                    item = (item, ScopedRelatedFilter)
            filters.append(item)
        return filters

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs and account_lookup(db_field.related_model):
            queryset = self.get_field_queryset(kwargs.get("using"), db_field, request)
            if queryset is None:
                queryset = db_field.related_model._default_manager.all()
            kwargs["queryset"] = scope(queryset, request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        attrs = {
            "allowed_account_ids": account_ids(request),
            "service_errors": getattr(request, "_admin_service_errors", {}),
        }
        return type(form.__name__, (form,), attrs)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            # The view's transaction has rolled back. Validate the same POST again with the
            # service's reasons added to the form: it is shown again and nothing is saved.
            request._admin_service_errors = exc.fields or {None: [exc.message]}
            return super().changeform_view(request, object_id, form_url, extra_context)

    def service_fields(self, form, change: bool) -> dict:
        """The form's values of model fields: all of them for a new object, else the changed."""
        names = {field.name for field in self.model._meta.concrete_fields}
        wanted = form.changed_data if change else form.cleaned_data
        return {name: form.cleaned_data[name] for name in wanted if name in names}

    def check_owner(self, request, obj) -> None:
        if not self.owns(request, obj):  # the form refused already; a guard for custom forms
            raise PermissionDenied("This object belongs to an account you are not a member of.")

    def save_model(self, request, obj, form, change):
        self.check_owner(request, obj)
        service = type(self).update_service if change else type(self).create_service
        if service is None:
            super().save_model(request, obj, form, change)
            return
        fields = self.service_fields(form, change)
        fields.pop("account", None)
        if change:
            # The service sees the stored row, not the form's edited copy, so that rules
            # comparing old and new values (a fixed currency) compare the right things.
            original = self.model._default_manager.get(pk=obj.pk)
            saved = service(account=original.account, **{self.instance_arg: original}, **fields)
        else:
            saved = service(account=obj.account, **fields)
        adopt(obj, saved)
