"""`GET /dni/v1/<public key>.js`: the snippet as served (size, headers, filled-in values)."""

import json
from urllib.parse import quote

import pytest

from attribution.dni import snippet_view
from tests.factories import AccountFactory


@pytest.fixture
def account(db):
    return AccountFactory(public_key="pk_test_snippet")


@pytest.fixture(autouse=True)
def _no_public_base_url(settings):
    settings.PUBLIC_BASE_URL = ""


def test_the_snippet_fits_its_10240_byte_budget(client, account):
    response = client.get("/dni/v1/pk_test_snippet.js")
    assert response.status_code == 200
    assert len(response.content) <= 10_240


def test_the_snippet_is_javascript_cacheable_for_five_minutes(client, account):
    response = client.get("/dni/v1/pk_test_snippet.js")
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=300"


def test_the_key_and_the_api_base_of_the_request_are_filled_in(client, account):
    body = client.get("/dni/v1/pk_test_snippet.js").content.decode()
    assert 'var KEY = "pk_test_snippet";' in body
    assert 'var API = "http://testserver";' in body
    assert "__CALLPATH_" not in body


def test_public_base_url_is_the_api_base_when_set(client, account, settings):
    settings.PUBLIC_BASE_URL = "https://track.example.com"
    body = client.get("/dni/v1/pk_test_snippet.js").content.decode()
    assert 'var API = "https://track.example.com";' in body


def test_a_key_with_quotes_and_markup_stays_one_string_literal(client, db):
    key = 'pk_"+alert(1)+"<b>&' + "\u2028"
    AccountFactory(public_key=key)
    response = client.get("/dni/v1/" + quote(key) + ".js")
    assert response.status_code == 200
    line = next(s for s in response.content.decode().splitlines() if s.startswith("var KEY = "))
    assert line == r'var KEY = "pk_\"+alert(1)+\"\u003cb\u003e\u0026\u2028";'
    assert json.loads(line.removeprefix("var KEY = ").removesuffix(";")) == key


def test_a_key_naming_a_placeholder_is_not_filled_in_twice(client, db):
    AccountFactory(public_key="__CALLPATH_API__")
    body = client.get("/dni/v1/__CALLPATH_API__.js").content.decode()
    assert 'var KEY = "__CALLPATH_API__";' in body
    assert 'var API = "http://testserver";' in body


def test_an_unknown_key_is_a_404_javascript_comment(client, account):
    response = client.get("/dni/v1/pk_nobody.js")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=60"
    assert response.content == b"/* Callpath: no account has this public key. */\n"


def test_the_served_source_has_no_comment_only_lines_or_indentation():
    lines = snippet_view.SNIPPET.splitlines()
    assert lines[0] == "/*! Callpath DNI snippet (docs/dni.md)."
    assert not [line for line in lines if line != line.strip() or line.startswith("//")]
