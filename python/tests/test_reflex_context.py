"""Context processors for Reflex, and DjangoContextState through a real event."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from reflex_django import DjangoContextState
from reflex_django import reflex_context as rc
from reflex_django.context import begin_event_request, end_event_request
from reflex_django.middleware import resolve_event_request
from reflex_harness import Reflex, bridged_app, running

P = "rdj_testproject.processors"
BUILTINS = (
    "reflex_django.reflex_context.builtin_user_context",
    "reflex_django.reflex_context.builtin_i18n_context",
)


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rc, "_warned", set())


async def _request(cookie: str = "", language: str = "fr") -> Any:
    headers = {"host": "localhost:3000", "cookie": cookie, "accept-language": language}
    return await resolve_event_request({"headers": headers, "asPath": "/about?x=1", "ip": "::1"})


async def test_explicit_processors_are_merged_and_sanitised(make_user, login, caplog) -> None:
    user = make_user(groups=("staff",))
    request = await _request(f"{settings.SESSION_COOKIE_NAME}={login(user)}")
    paths = (*BUILTINS, f"{P}.page", f"{P}.with_a_date", f"{P}.broken", f"{P}.not_a_dict")
    with (
        override_settings(REFLEX_DJANGO_CONTEXT_PROCESSORS=paths, REFLEX_DJANGO_USER_SNAPSHOT_INCLUDE_GROUPS=True),
        caplog.at_level(logging.WARNING),
    ):
        first = await rc.collect_reflex_context(request)
        second = await rc.collect_reflex_context(request)
    assert first == second
    assert first["user"]["username"] == user.username
    assert first["user"]["group_names"] == ["staff"]
    assert first["LANGUAGE_CODE"] == "fr" and first["LANGUAGE_BIDI"] is False
    assert first["LANGUAGES"] == [["en", "English"], ["fr", "French"], ["ar", "Arabic"]]
    assert (first["page"], first["answer"], first["ok"]) == ("/about", 42, "yes")
    assert "when" not in first
    json.dumps(first)
    # One warning per problem, not one per event; the failing processor is logged each time.
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("'when'" in m and "not JSON" in m for m in warnings) == 1
    assert sum("not_a_dict" in m for m in warnings) == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and all("broken failed" in r.getMessage() for r in errors)


async def test_template_processors_are_sanitised(make_user, login, caplog) -> None:
    user = make_user()
    request = await _request(f"{settings.SESSION_COOKIE_NAME}={login(user)}")
    token = begin_event_request(request)  # as the bridge does: activates "fr"
    try:
        with (
            override_settings(REFLEX_DJANGO_USE_TEMPLATE_CONTEXT_PROCESSORS=True),
            caplog.at_level(logging.WARNING),
        ):
            context = await rc.collect_reflex_context(request)
    finally:
        end_event_request(token)
    assert context["user"]["username"] == user.username  # a snapshot, not the model
    assert not {"request", "perms", "messages", "csrf_token"} & set(context)
    assert context["STATIC_URL"] == "/static/"
    assert context["LANGUAGE_CODE"] == "fr"
    assert "'csrf_token'" in caplog.text  # a lazy object: skipped with a warning
    json.dumps(context)


async def test_explicit_list_wins_over_template_processors() -> None:
    with override_settings(
        REFLEX_DJANGO_CONTEXT_PROCESSORS=[f"{P}.page"],
        REFLEX_DJANGO_USE_TEMPLATE_CONTEXT_PROCESSORS=True,
    ):
        assert rc.reflex_context_processor_paths() == (f"{P}.page",)
        assert await rc.collect_reflex_context(await _request()) == {"page": "/about", "answer": 42}


async def test_nothing_configured_or_no_request() -> None:
    assert rc.reflex_context_processor_paths() == ()
    assert await rc.collect_reflex_context(await _request()) == {}
    with override_settings(REFLEX_DJANGO_CONTEXT_PROCESSORS=BUILTINS):
        assert await rc.collect_reflex_context(None) == {}


def test_template_processor_paths() -> None:
    paths = rc.template_context_processor_paths()
    assert paths == tuple(settings.TEMPLATES[0]["OPTIONS"]["context_processors"])
    extra = {"BACKEND": "django.template.backends.jinja2.Jinja2", "OPTIONS": {}}
    with override_settings(TEMPLATES=[*settings.TEMPLATES, extra, settings.TEMPLATES[0]]):
        assert rc.template_context_processor_paths() == paths  # once each, Django engines only


async def test_unimportable_processor_is_a_clear_error() -> None:
    with (
        override_settings(REFLEX_DJANGO_CONTEXT_PROCESSORS=["nowhere.processor"]),
        pytest.raises(ImproperlyConfigured, match=r"cannot import context processor 'nowhere\.processor'"),
    ):
        await rc.collect_reflex_context(await _request())


@pytest.fixture
async def reflex() -> AsyncIterator[Reflex]:
    async with running(bridged_app()) as r:
        yield r


async def test_context_state_through_an_event(reflex: Reflex, make_user, login) -> None:
    user = make_user()
    tab = await reflex.tab(cookies={settings.SESSION_COOKIE_NAME: login(user)})
    with override_settings(REFLEX_DJANGO_CONTEXT_PROCESSORS=BUILTINS):
        await tab.send(DjangoContextState.load_django_context, "/about")
        await reflex.settle()
    state = await reflex.state(tab, DjangoContextState)
    assert state.django_context["user"]["username"] == user.username
    assert json.loads(state.django_context_json) == state.django_context
