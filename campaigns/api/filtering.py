"""The REST API's filter backend: the tenancy rule (`campaigns.api.tenancy`) for list filters.

Its own module because DRF reads DEFAULT_FILTER_BACKENDS while `rest_framework.generics` is
being imported: this module must not import DRF's views itself."""

import datetime as dt

from django.core.exceptions import ValidationError
from django_filters import IsoDateTimeFilter
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, in UTC. Python reads offsets up to ±23:59 and years 1 to 9999, but
    PostgreSQL refuses an offset past ±15:59 ("time zone displacement out of range": a 500);
    in UTC every such moment is a value PostgreSQL takes, and one that leaves Python's range
    when moved there is bad input."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None or moment.utcoffset() is None:
            return moment
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:
            raise ValidationError(
                "This moment is out of range: send a year from 1 to 9999.", code="overflow"
            ) from None


class AccountScopedFilterBackend(DjangoFilterBackend):
    """List filters that name an object (`?campaign=<id>`) choose among the key's account's
    objects only. Another account's id is then refused exactly like an id that does not exist
    (400), where an unscoped filter would answer it with an empty list and so tell one account
    which ids another holds."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None or getattr(request, "auth", None) is None:
            return filterset
        for field in filterset.filters.values():
            if isinstance(field, IsoDateTimeFilter):  # each filterset has its own copies
                field.field_class = UtcIsoDateTimeField
                field.__dict__.pop("_field", None)  # a form field built before the swap
        account = request.auth.account
        for name, field in filterset.filters.items():
            choices = getattr(field, "queryset", None)
            if choices is None or callable(choices):
                continue
            if not any(f.name == "account" for f in choices.model._meta.fields):
                raise TypeError(f"Filter {name!r} chooses among {choices.model}, not scoped.")
            field.queryset = choices.filter(account=account)
        return filterset
