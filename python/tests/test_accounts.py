"""Registration and password reset rules (`reflex_django.auth.accounts`), real Django."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import django
import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection
from django.db.models.signals import pre_save
from django.test import override_settings

from dbthread import in_db_thread
from reflex_django.auth.accounts import (
    check_reset_link,
    register_user,
    reset_password,
    send_password_reset,
    wait_for_outgoing_mail,
)
from reflex_django.auth.conf import DEFAULT_MESSAGES

M = DEFAULT_MESSAGES
# Django's own text, which the forms show unless MESSAGES words it otherwise.
DJANGO_MISMATCH = str(SetPasswordForm.error_messages["password_mismatch"])
VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
GOOD = "correct horse battery"


def register(username: str, email: str = "", password1: str = GOOD, password2: str | None = None):
    return in_db_thread(register_user, username, email, password1, GOOD if password2 is None else password2)


@pytest.fixture(autouse=True)
def _outbox() -> Iterator[None]:
    from django.core.cache import cache

    cache.clear()  # the reset limits count in the cache
    mail.outbox = []
    yield
    mail.outbox = []


def reset(email: str, **kwargs: Any) -> list[str]:
    """`send_password_reset`, then the mail it handed to the mailing thread."""
    answer = in_db_thread(send_password_reset, email, **kwargs)
    wait_for_outgoing_mail()
    return answer


def test_registers_an_active_user_with_a_hashed_password() -> None:
    user, errors = register("grace", "Grace@Example.COM")
    assert errors == [] and user.pk
    stored = in_db_thread(User.objects.get, pk=user.pk)
    assert stored.is_active and not stored.is_staff
    assert stored.email == "Grace@example.com"  # the domain part is normalised
    assert stored.password != GOOD
    assert in_db_thread(authenticate, username="grace", password=GOOD) == stored


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("", ""), M["username_required"]),
        (("   ", ""), M["username_required"]),
        (("ada", "not-an-email"), M["email_invalid"]),
        (("ada", "", ""), M["password_required"]),
        (("ada", "", GOOD, GOOD + "!"), DJANGO_MISMATCH),
        (("ada", "", "short", "short"), "Use at least 8 characters."),
        (("bad name!", ""), "Enter a valid username."),
    ],
)
def test_form_errors(args: tuple, error: str) -> None:
    user, errors = register(*args)
    assert user is None and any(error in e for e in errors), errors
    assert not in_db_thread(User.objects.filter(username=args[0].strip()).exists)


def test_email_required_and_min_length_settings() -> None:
    with override_settings(REFLEX_DJANGO_AUTH={"EMAIL_REQUIRED": True, "PASSWORD_MIN_LENGTH": 30}):
        assert register("ada")[1] == [M["email_required"], "Use at least 30 characters."]
        assert register("ada", "ada@example.com")[1] == ["Use at least 30 characters."]


@override_settings(AUTH_PASSWORD_VALIDATORS=VALIDATORS)
def test_djangos_password_validators() -> None:
    assert "This password is too common." in register("ada", "", "password123", "password123")[1]
    assert "This password is entirely numeric." in register("ada", "", "8675309123", "8675309123")[1]
    similar = register("margaret.hamilton", "", "margaret.hamilton", "margaret.hamilton")[1]
    assert any("too similar" in e for e in similar), similar
    # The new user's email is there for the check too.
    by_email = register("zed", "grace.hopper@example.com", "grace.hopper.example", "grace.hopper.example")[1]
    assert any("too similar to the email address" in e for e in by_email), by_email
    assert register("ada", "", GOOD, GOOD)[1] == []


def test_duplicate_usernames_case_insensitive(make_user) -> None:
    existing = make_user()
    for name in (existing.username, existing.username.upper(), existing.username.title()):
        assert register(name) == (None, [M["username_taken"]]), name


def test_a_concurrent_signup_of_the_same_name_is_a_form_error() -> None:
    """Another request inserts the name between our duplicate check and our insert."""

    def other_request() -> None:  # its own thread, its own connection and transaction
        try:
            User.objects.create_user("racer", password="x")
        finally:
            connection.close()

    def sneak_in(sender: Any, instance: Any, **kwargs: Any) -> None:
        if instance.pk is None and instance.username == "racer":
            pre_save.disconnect(sneak_in, sender=User)
            thread = threading.Thread(target=other_request)
            thread.start()
            thread.join()

    pre_save.connect(sneak_in, sender=User)
    try:
        assert register("racer") == (None, [M["username_taken"]])
    finally:
        pre_save.disconnect(sneak_in, sender=User)
    assert in_db_thread(User.objects.filter(username="racer").count) == 1


def _link_parts(body: str) -> tuple[str, str, str]:
    match = re.search(r"(https://app\.example\.com)/password-reset/confirm/([^/\s]+)/([^/\s]+)", body)
    assert match, body
    return match.group(1), match.group(2), match.group(3)


def test_reset_sends_a_link_built_from_the_site_origin(make_user) -> None:
    user = make_user(email="Reset.Me@example.com")
    assert reset("reset.me@EXAMPLE.com") == []
    [sent] = mail.outbox
    assert sent.to == ["Reset.Me@example.com"]
    assert sent.subject == "Reset your password on app.example.com"
    assert user.username in sent.body
    _origin, uid, key = _link_parts(sent.body)
    assert in_db_thread(check_reset_link, uid, key) == user


def test_reset_answers_the_same_for_unknown_inactive_and_passwordless_users(make_user) -> None:
    make_user(email="gone@example.com", is_active=False)
    no_password = make_user(email="sso@example.com")
    no_password.set_unusable_password()
    in_db_thread(no_password.save)
    for email in ("nobody@example.com", "gone@example.com", "sso@example.com"):
        assert reset(email) == []
    assert mail.outbox == []


def test_reset_link_works_once(make_user) -> None:
    user = make_user(email="once@example.com")
    reset("once@example.com")
    _, uid, key = _link_parts(mail.outbox[0].body)
    assert in_db_thread(reset_password, uid, key, "new pass one", "new pass two") == [DJANGO_MISMATCH]
    assert in_db_thread(reset_password, uid, key, "tiny", "tiny") == ["Use at least 8 characters."]
    assert in_db_thread(reset_password, uid, key, GOOD, GOOD) == []
    assert in_db_thread(authenticate, username=user.username, password=GOOD) == user
    assert in_db_thread(check_reset_link, uid, key) is None
    assert in_db_thread(reset_password, uid, key, "another one!", "another one!") == [M["reset_link_invalid"]]
    assert in_db_thread(authenticate, username=user.username, password=GOOD) == user


@override_settings(AUTH_PASSWORD_VALIDATORS=VALIDATORS)
def test_reset_applies_the_validators(make_user) -> None:
    make_user(email="v@example.com")
    reset("v@example.com")
    _, uid, key = _link_parts(mail.outbox[0].body)
    assert in_db_thread(reset_password, uid, key, "password123", "password123") == ["This password is too common."]


def test_bad_links(make_user) -> None:
    user = make_user(email="bad@example.com")
    reset("bad@example.com")
    _, uid, key = _link_parts(mail.outbox[0].body)
    for bad_uid, bad_key in ((uid, key[:-1] + "x"), ("!!", key), ("", ""), ("OTk5OTk5", key)):
        assert in_db_thread(check_reset_link, bad_uid, bad_key) is None
    user.is_active = False
    in_db_thread(user.save)
    assert in_db_thread(check_reset_link, uid, key) is None


def test_reset_input_errors() -> None:
    assert reset("") == [M["email_required"]]
    assert reset("nope") == [M["email_invalid"]]


def test_reset_without_a_site_origin_is_a_form_error(make_user) -> None:
    make_user(email="o@example.com")
    with override_settings(REFLEX_DJANGO_AUTH={}):
        assert reset("o@example.com") == [M["reset_unavailable"]]
    assert mail.outbox == []


def _failing_mail() -> dict[str, Any]:
    return _mail_backend("rdj_testproject.failing_mail.EmailBackend")


def _mail_backend(backend: str) -> dict[str, Any]:
    if django.VERSION >= (6, 1):
        return {"MAILERS": {"default": {"BACKEND": backend}}}
    return {"EMAIL_BACKEND": backend}


def test_a_mail_failure_answers_the_same_and_is_logged(make_user, caplog) -> None:
    make_user(email="down@example.com")
    with override_settings(**_failing_mail()):
        assert reset("down@example.com") == []
    assert "could not send a password reset email" in caplog.text


def test_the_answer_takes_as_long_for_known_and_unknown_addresses(make_user) -> None:
    """The mail goes out on its own thread: a slow mail server shows in no timing.
    The two medians are printed; equality within noise is for the eye, not asserted."""
    import statistics
    import time

    from django.conf import settings

    make_user(email="known@example.com")
    timings: dict[str, list[float]] = {"known@example.com": [], "unknown@example.com": []}
    with override_settings(
        **_mail_backend("rdj_testproject.slow_mail.EmailBackend"),
        REFLEX_DJANGO_AUTH={**settings.REFLEX_DJANGO_AUTH, "RESET_ATTEMPTS": 0},
    ):
        for _ in range(15):
            for email in timings:
                started = time.perf_counter()
                assert in_db_thread(send_password_reset, email) == []
                timings[email].append(time.perf_counter() - started)
        wait_for_outgoing_mail()
    known, unknown = (statistics.median(t) * 1000 for t in timings.values())
    print(f"reset answered in {known:.1f} ms (known address) vs {unknown:.1f} ms (unknown); mail takes 300 ms")
    assert len(mail.outbox) == 15  # the known address got its mails, afterwards


def test_resets_are_limited_per_address_and_per_client(make_user) -> None:
    make_user(email="bombed@example.com")
    for _ in range(5):
        assert reset("bombed@example.com") == []
    assert len(mail.outbox) == 3  # RESET_ATTEMPTS, then the same answer and no mail
    mail.outbox = []
    make_user(email="other@example.com")
    for n in range(12):
        assert reset(f"x{n}@example.com" if n < 11 else "other@example.com", client_address="203.0.113.5") == []
    assert mail.outbox == []  # the 12th request from that client was over its limit
    assert reset("other@example.com", client_address="198.51.100.9") == []
    assert len(mail.outbox) == 1


def test_djangos_form_messages_are_translated_and_may_be_reworded() -> None:
    """The sign-up and reset forms are Django's: their texts follow the language, and a
    project's MESSAGES text replaces them."""
    from django.utils import translation

    def in_german() -> tuple[str, list[str]]:  # the language is per thread
        with translation.override("de"):
            expected = str(SetPasswordForm.error_messages["password_mismatch"])
            return expected, register_user("translated_ada", "", GOOD, GOOD + "!")[1]

    german, errors = in_db_thread(in_german)
    assert german != DJANGO_MISMATCH and errors == [german]
    with override_settings(
        REFLEX_DJANGO_AUTH={"SITE_ORIGIN": "https://app.example.com", "MESSAGES": {"password_mismatch": "Nope."}}
    ):
        assert register("reworded_ada", "", GOOD, GOOD + "!")[1] == ["Nope."]
