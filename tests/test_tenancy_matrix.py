"""Account B can neither see nor change account A's objects, on every API route.

The routes are found by walking the URL configuration, so a new endpoint is covered without
new test code; a route whose model has no factory in tests/factories.py fails loudly."""

import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.viewsets import ViewSetMixin

from campaigns.api.tenancy import ScopedRelatedField
from tests.factories import FACTORIES, make_for_account


@dataclass(frozen=True)
class Route:
    path: str  # with `{pk}` for the detail routes
    view: type
    actions: dict

    @property
    def model(self):
        return self.view.serializer_class.Meta.model

    @property
    def is_detail(self) -> bool:
        return "{pk}" in self.path


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def api_routes() -> list[Route]:
    routes = []
    for raw, callback in _walk(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        if not raw.startswith("api/v1/") or view is None or not issubclass(view, ViewSetMixin):
            continue
        path = "/" + re.sub(r"\(\?P<pk>[^)]*\)|<pk>", "{pk}", raw).replace("^", "").replace("$", "")
        routes.append(Route(path=path, view=view, actions=callback.actions))
    return routes


ROUTES = api_routes()
DETAIL_ROUTES = [r for r in ROUTES if r.is_detail]
LIST_ROUTES = [r for r in ROUTES if not r.is_detail]


def test_the_walk_finds_every_resource():
    models = {route.model.__name__ for route in ROUTES}
    assert models >= {
        "Campaign",
        "Keyword",
        "NumberPool",
        "TrackingNumber",
        "DailyCost",
        "VisitorSession",
    }
    for route in ROUTES:
        assert route.model in FACTORIES, f"add a factory for {route.model.__name__}"


@pytest.mark.parametrize("route", DETAIL_ROUTES, ids=lambda r: r.path)
def test_another_accounts_object_is_404_for_every_method(route, account, other_account, api_for):
    obj = make_for_account(route.model, account)
    url = route.path.format(pk=obj.pk)
    alice, bob = api_for(account), api_for(other_account)
    if "get" in route.actions:  # an action route (conversions/{pk}/retry/) may be POST only
        assert alice.get(url).status_code == 200  # the object is reachable by its owner

    for method in set(route.actions) & set(route.view.http_method_names):
        response = getattr(bob, method)(url, {"name": "stolen", "active": False})
        assert response.status_code == 404, (method, url, response.content)
        if method != "head":
            assert response.json()["code"] == "not_found"

    obj.refresh_from_db()  # still there, unchanged
    assert getattr(obj, "name", "") != "stolen"
    assert getattr(obj, "active", True) is True


@pytest.mark.parametrize("route", LIST_ROUTES, ids=lambda r: r.path)
def test_lists_show_only_the_keys_own_account(route, account, other_account, api_for):
    client = api_for(other_account)
    # Rows the key's own issue wrote (its audit event) are the account's too.
    before = {str(item["id"]) for item in client.get(route.path).json()["results"]}
    mine = make_for_account(route.model, other_account)
    theirs = make_for_account(route.model, account)
    response = client.get(route.path)
    assert response.status_code == 200
    ids = {str(item["id"]) for item in response.json()["results"]}
    assert ids == before | {str(mine.pk)}
    assert str(theirs.pk) not in ids


def _scoped_fields(route):
    serializer = route.view.serializer_class()
    return {
        name: field.queryset.model
        for name, field in serializer.fields.items()
        if isinstance(field, ScopedRelatedField) and not field.read_only
    }


WRITE_CASES = [
    (route, name, model)
    for route in LIST_ROUTES
    if "post" in route.actions
    for name, model in _scoped_fields(route).items()
]


@pytest.mark.parametrize(
    ("route", "field", "model"), WRITE_CASES, ids=lambda v: getattr(v, "path", str(v))
)
def test_another_accounts_id_in_a_body_is_a_400_naming_the_field(
    route, field, model, account, other_account, api_for
):
    foreign = make_for_account(model, account)
    count_before = route.model.objects.count()
    response = api_for(other_account).post(route.path, {field: foreign.pk})
    assert response.status_code == 400
    assert response.json()["errors"][field] == [
        f"No {model._meta.verbose_name} with id {foreign.pk} in this account."
    ]
    assert route.model.objects.count() == count_before


def test_write_cases_cover_every_foreign_key_in_a_body():
    found = {(route.model.__name__, field) for route, field, _ in WRITE_CASES}
    assert found >= {
        ("Keyword", "campaign"),
        ("NumberPool", "campaign"),
        ("NumberPool", "keyword"),
        ("TrackingNumber", "campaign"),
        ("TrackingNumber", "pool"),
        ("DailyCost", "campaign"),
        ("DailyCost", "keyword"),
    }


def test_the_account_endpoint_shows_only_the_keys_account(account, other_account, api_for):
    assert api_for(other_account).get("/api/v1/account/").json()["name"] == "Bob Roofing"
    assert api_for(account).get("/api/v1/account/").json()["name"] == "Alice Plumbing"
