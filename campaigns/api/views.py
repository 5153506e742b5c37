"""REST endpoints of the campaigns app: parse, call one selector or service, shape the output."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import selectors, services
from campaigns.api import serializers as api
from campaigns.api.idempotency import idempotent_posts
from campaigns.api.tenancy import AccountScopedViewSet, request_account
from campaigns.models import Campaign, DailyCost, Role

MAX_BATCH = 1000


class AccountView(APIView):
    """The key's own account. Every key reads it; only an `admin` key changes it."""

    write_roles = (Role.ADMIN,)

    @extend_schema(responses=api.AccountSerializer)
    def get(self, request):
        return Response(api.AccountSerializer(request_account(request)).data)

    @extend_schema(request=api.AccountSerializer, responses=api.AccountSerializer)
    def patch(self, request):
        account = request_account(request)
        data = api.AccountSerializer(
            account, data=request.data, partial=True, context={"account": account}
        )
        data.is_valid(raise_exception=True)
        account = services.update_account(account=account, **data.validated_data)
        return Response(api.AccountSerializer(account).data)


class CampaignFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Campaign
        fields = ["channel", "active", "utm_campaign"]


@idempotent_posts
class CampaignViewSet(AccountScopedViewSet):
    serializer_class = api.CampaignSerializer
    filterset_class = CampaignFilter
    selector = selectors.campaigns
    create_service = services.create_campaign
    update_service = services.update_campaign
    instance_arg = "campaign"


@idempotent_posts
class KeywordViewSet(AccountScopedViewSet):
    serializer_class = api.KeywordSerializer
    filterset_fields = {"campaign": ["exact"], "active": ["exact"], "text": ["exact", "icontains"]}
    selector = selectors.keywords
    create_service = services.create_keyword
    update_service = services.update_keyword
    instance_arg = "keyword"


@idempotent_posts
class PoolViewSet(AccountScopedViewSet):
    serializer_class = api.PoolSerializer
    filterset_fields = ["campaign", "keyword", "active", "is_default"]
    selector = selectors.pools
    create_service = services.create_pool
    update_service = services.update_pool
    instance_arg = "pool"


@idempotent_posts
class NumberViewSet(AccountScopedViewSet):
    serializer_class = api.NumberSerializer
    filterset_fields = ["kind", "campaign", "pool", "active", "e164", "provider"]
    selector = selectors.numbers
    create_service = services.create_number
    update_service = services.update_number
    instance_arg = "number"


class CostFilter(django_filters.FilterSet):
    start = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    end = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = DailyCost
        fields = ["campaign", "keyword", "date"]


@idempotent_posts
class CostViewSet(AccountScopedViewSet):
    """Daily spend. POST takes one object or a list of up to 1,000 and upserts on
    (campaign, keyword, date): retrying a batch is safe. A bad item rejects the whole batch."""

    serializer_class = api.CostSerializer
    filterset_class = CostFilter
    selector = selectors.costs
    write_roles = (Role.ADMIN, Role.INTEGRATION, Role.FINANCE)
    http_method_names = ["get", "post", "delete", "head", "options"]

    @extend_schema(
        request=api.CostSerializer,
        responses={
            201: api.CostSerializer(many=True),
            200: OpenApiResponse(api.CostSerializer(many=True), description="Nothing new."),
        },
        description="One object or a list of up to 1,000. 201 when any row was new, else 200.",
    )
    def create(self, request, *args, **kwargs):
        many = isinstance(request.data, list)
        data = (
            self.get_serializer(data=request.data, many=many, max_length=MAX_BATCH)
            if many
            else self.get_serializer(data=request.data)
        )
        data.is_valid(raise_exception=True)
        items = data.validated_data if many else [data.validated_data]
        rows = [services.CostRow(**{"keyword": None, **item}) for item in items]
        costs, created = services.upsert_costs(account=request_account(request), rows=rows)
        body = api.CostSerializer(costs, many=True).data
        return Response(
            body if many else body[0],
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
