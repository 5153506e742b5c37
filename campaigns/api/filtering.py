"""The REST API's filter backend: the tenancy rule (`campaigns.api.tenancy`) for list filters.

Its own module because DRF reads DEFAULT_FILTER_BACKENDS while `rest_framework.generics` is
being imported: this module must not import DRF's views itself."""

from django_filters.rest_framework import DjangoFilterBackend


class AccountScopedFilterBackend(DjangoFilterBackend):
    """List filters that name an object (`?campaign=<id>`) choose among the key's account's
    objects only. Another account's id is then refused exactly like an id that does not exist
    (400), where an unscoped filter would answer it with an empty list and so tell one account
    which ids another holds."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None or getattr(request, "auth", None) is None:
            return filterset
        account = request.auth.account
        for name, field in filterset.filters.items():
            choices = getattr(field, "queryset", None)
            if choices is None or callable(choices):
                continue
            if not any(f.name == "account" for f in choices.model._meta.fields):
                raise TypeError(f"Filter {name!r} chooses among {choices.model}, not scoped.")
            field.queryset = choices.filter(account=account)
        return filterset
