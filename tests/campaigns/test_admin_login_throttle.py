"""The admin log-in is throttled per (username, client IP): password guessing gets 429 after
ADMIN_LOGIN_FAILURE_LIMIT failures, and nobody else is locked out by it (django-axes)."""

import pytest
from axes.models import AccessAttempt
from django.test import Client

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff(django_user_model, settings):
    # A fast hasher: this file makes ~20 log-in attempts, each hashing a password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return django_user_model.objects.create_user(
        "alice", password=PASSWORD, is_staff=True, is_superuser=True
    )


def attempt(password: str, *, ip: str = "203.0.113.7", username: str = "alice"):
    client = Client(REMOTE_ADDR=ip)
    return client.post(LOGIN, {"username": username, "password": password})


def test_five_wrong_passwords_lock_the_pair_out_even_with_the_right_one(staff, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert attempt("guess").status_code == 200  # the form again, with its error

    assert attempt("guess").status_code == 429
    locked = attempt(PASSWORD)

    assert locked.status_code == 429
    assert "too many" in locked.content.decode().lower()
    # The attempt made while locked counts too (and starts the cool-off again).
    assert AccessAttempt.objects.get(username="alice").failures_since_start == 6


def test_a_lockout_does_not_lock_the_user_out_from_another_address(staff):
    for _ in range(5):
        attempt("guess", ip="203.0.113.7")

    response = attempt(PASSWORD, ip="198.51.100.20")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_a_lockout_does_not_lock_out_another_user_at_the_same_address(staff, django_user_model):
    django_user_model.objects.create_user("bob", password=PASSWORD, is_staff=True)
    for _ in range(5):
        attempt("guess", username="alice")

    assert attempt(PASSWORD, username="bob").status_code == 302


def test_a_successful_log_in_clears_earlier_failures(staff):
    for _ in range(4):
        attempt("guess")
    assert attempt(PASSWORD).status_code == 302

    for _ in range(4):
        assert attempt("guess").status_code == 200
    assert attempt(PASSWORD).status_code == 302
