"""The Python prefix rules agree with the front door's on the shared case table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reflex_django import prefixes

CASES = json.loads((Path(__file__).resolve().parents[2] / "tests" / "prefix_cases.json").read_text("utf-8"))


@pytest.mark.parametrize("row", CASES["normalise"], ids=lambda row: repr(row["raw"]))
def test_normalising_agrees_with_the_table(row: dict[str, str]) -> None:
    if "prefix" in row:
        assert prefixes.normalize_prefix(row["raw"]) == row["prefix"]
    else:
        with pytest.raises(prefixes.PrefixError) as caught:
            prefixes.normalize_prefix(row["raw"])
        assert caught.value.kind == row["error"]
        assert "hint:" in str(caught.value)


@pytest.mark.parametrize(("path", "target"), CASES["route"]["cases"])
def test_routing_agrees_with_the_table(path: str, target: str) -> None:
    table = [prefixes.normalize_prefix(p) for p in CASES["route"]["prefixes"]]
    assert ("django" if prefixes.routes_to_django(path, table) else "reflex") == target


def test_the_table_covers_every_error_kind_and_both_targets() -> None:
    kinds = {row.get("error") for row in CASES["normalise"]}
    assert {"root", "bad_char", "dot_segment", "reserved"} <= kinds
    assert {t for _, t in CASES["route"]["cases"]} == {"django", "reflex"}


def test_static_url_from_another_origin_is_not_a_prefix() -> None:
    assert prefixes.static_prefix("/static/") == "/static"
    assert prefixes.static_prefix("https://cdn.example.com/s/") is None
    assert prefixes.static_prefix("//cdn.example.com/s/") is None
    assert prefixes.static_prefix("") is None
