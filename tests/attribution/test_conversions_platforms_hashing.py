"""Per-platform normalisation and hashing, against the platforms' published examples
(PROTOCOLS §2.9, §3.3), and the adapter registry."""

import pytest

from attribution.conversions import platforms
from attribution.conversions.platforms import hashing

PHONE_GOOGLE = "40d3f4e02db27d66cf4cfdda506c2c945f115a7955cc8491dda98ce5beabcda0"  # +14155550100
JANE = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"  # jane.doe@example.com


def test_google_hashes_e164_with_the_plus_as_googles_published_example():
    assert hashing.google_hashed_phone("+14155550100") == PHONE_GOOGLE


def test_google_email_hash_matches_googles_published_example():
    assert hashing.google_hashed_email(" Jane.Doe@Example.com ") == JANE


def test_google_drops_dots_and_plus_suffix_only_for_gmail_addresses():
    assert hashing.google_email(" Alex.Smith+promo@GMail.com ") == "alexsmith@gmail.com"
    assert hashing.google_hashed_email(" Alex.Smith+promo@GMail.com ") == hashing.sha256_hex(
        "alexsmith@gmail.com"
    )
    assert hashing.google_hashed_email(" Alex.Smith+promo@GMail.com ").startswith("72d3b188")
    assert hashing.google_hashed_email(" Alex.Smith+promo@GMail.com ").endswith("3d7d")
    assert hashing.google_email("a.b+c@googlemail.com") == "ab@googlemail.com"
    assert hashing.google_email("jane.doe+x@example.com") == "jane.doe+x@example.com"


def test_meta_hashes_digits_without_the_plus_as_metas_published_example():
    assert hashing.meta_phone("+16505551212") == "16505551212"
    assert hashing.meta_hashed_phone("+16505551212") == (
        "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
    )
    assert hashing.meta_hashed_phone("+14155550100") == (
        "5e7ec4c79ccac6e420876e65ad0e6b4b2ccf73ec3dccb50297bf2890a1ec73b9"
    )


def test_meta_email_hash_matches_metas_published_example_without_a_gmail_rule():
    assert hashing.meta_hashed_email("John_Smith@gmail.com") == (
        "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
    )
    assert hashing.meta_email("j.smith+x@gmail.com") == "j.smith+x@gmail.com"


def test_microsoft_hashes_e164_and_the_trimmed_lowercased_email():
    assert hashing.microsoft_hashed_phone("+14155550100") == PHONE_GOOGLE
    assert hashing.microsoft_hashed_email(" Jane.Doe@EXAMPLE.com") == JANE


@pytest.mark.parametrize(
    "function",
    [
        hashing.google_hashed_phone,
        hashing.meta_hashed_phone,
        hashing.microsoft_hashed_phone,
    ],
)
@pytest.mark.parametrize("number", ["", "4155550100", "+0123456789", "+1 415 555 0100", "anon"])
def test_a_number_that_is_not_e164_gives_no_identifier(function, number):
    assert function(number) == ""


@pytest.mark.parametrize(
    "function",
    [hashing.google_hashed_phone, hashing.meta_hashed_phone, hashing.microsoft_hashed_phone],
)
def test_an_erased_callers_pseudonym_gives_no_identifier(function):
    # A CRM update of an erased outcome rebuilds its outbox row: it must carry no phone hash.
    assert function("+999123456789012") == ""


@pytest.mark.parametrize(
    "function",
    [hashing.google_hashed_email, hashing.meta_hashed_email, hashing.microsoft_hashed_email],
)
@pytest.mark.parametrize("address", ["", "jane", "jane@", "@example.com", "ja ne@example.com"])
def test_a_malformed_email_gives_no_identifier(function, address):
    assert function(address) == ""


def test_every_destination_kind_has_an_adapter_with_the_whole_interface():
    assert platforms.KINDS == (
        "google_data_manager",
        "google_ads",
        "meta",
        "microsoft_ads",
        "webhook",
    )
    limits = {kind: platforms.adapter(kind).BATCH_LIMIT for kind in platforms.KINDS}
    assert limits == {
        "google_data_manager": 2000,
        "google_ads": 2000,
        "meta": 1000,
        "microsoft_ads": 1000,
        "webhook": 1,
    }
    for kind in platforms.KINDS:
        module = platforms.adapter(kind)
        assert kind == module.KIND
        assert isinstance(module.SUPPORTS_RESTATEMENT, bool)
        for function in (module.build, module.send, module.group_key):
            assert callable(function)


def test_default_base_urls_come_from_settings_when_read(settings):
    settings.CONVERSIONS_BASE_URLS = {
        **settings.CONVERSIONS_BASE_URLS,
        "meta": "http://proxy.internal/graph",
    }
    assert platforms.adapter("meta").DEFAULT_BASE_URL == "http://proxy.internal/graph"
    assert platforms.adapter("webhook").DEFAULT_BASE_URL == ""


def test_an_unknown_kind_has_no_adapter():
    with pytest.raises(KeyError, match="tiktok"):
        platforms.adapter("tiktok")
