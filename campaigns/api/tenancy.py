"""The one tenancy mechanism of the REST API.

- `AccountScopedViewSet.get_queryset` asks a selector for the key's account's rows, so another
  account's object is 404 on read, write and delete.
- `ScopedRelatedField` resolves ids in a request body within the same account, so another
  account's id is a 400 naming the field, never a link.
- `filtering.AccountScopedFilterBackend` does the same for ids in list filters (`?campaign=1`).
Views never filter by account themselves.
"""

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers, viewsets

from campaigns import services


def request_account(request):
    return request.auth.account


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {"incorrect_type": "Expected an id (integer), got {data_type}."}

    def get_queryset(self):
        queryset = super().get_queryset()
        account = self.context.get("account")
        if account is None:  # schema generation
            return queryset.none()
        return queryset.filter(account=account)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        queryset = self.get_queryset()
        try:
            return queryset.get(pk=data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        except ObjectDoesNotExist:
            model = queryset.model._meta.verbose_name
            raise serializers.ValidationError(
                f"No {model} with id {data} in this account."
            ) from None


class StrictSerializerMixin:
    """Reject fields the resource does not have, instead of silently dropping them (a typo in
    `forward_too` must not look like success)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class AccountScopedViewSet(viewsets.ModelViewSet):
    """CRUD over one account's rows: a selector reads, services write."""

    selector = None  # callable(*, account) -> QuerySet
    create_service = None  # callable(*, account, **fields) -> instance
    update_service = None  # callable(*, account, <instance_arg>=instance, **fields) -> instance
    instance_arg = ""
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.serializer_class.Meta.model.objects.none()
        return type(self).selector(account=request_account(self.request))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self.request, "auth", None) is not None:
            context["account"] = request_account(self.request)
        return context

    def perform_create(self, serializer):
        serializer.instance = type(self).create_service(
            account=request_account(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = type(self).update_service(
            account=request_account(self.request),
            **{self.instance_arg: serializer.instance},
            **serializer.validated_data,
        )

    def perform_destroy(self, instance):
        services.delete_object(account=request_account(self.request), instance=instance)
