"""Matching in memory: whole words and phrases in any case, patterns with a
timeout, attributes, and the preview's highlight (escaped)."""

from __future__ import annotations

from typing import Any

import pytest

from parley.autotag.matching import CompiledRule, attribute_matches, compile_rule, words_of
from parley.autotag.preview import highlight


def _rule(kind: str = "keyword", **fields: Any) -> CompiledRule:
    base: dict[str, Any] = {
        "rule_id": 1,
        "name": "r",
        "kind": kind,
        "keywords": [],
        "pattern": "",
        "attribute_key": "",
        "attribute_op": "equals",
        "attribute_value": "",
        "contact_tag_ids": (1,),
        "conversation_tag_ids": (),
        "stop_after": False,
    }
    return compile_rule(**{**base, **fields})


def _matches(rule: CompiledRule, text: str) -> bool:
    return rule.matches(text=text, words=words_of(text), first=False, attributes=None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HOW much?", True),
        ("how  much is it", True),
        ("how are you", False),
        ("please send an e-mail", True),
        ("email me", False),
        ("Price!", True),
        ("pricey", False),
        ("Ünïcode PRÏCE", False),
    ],
)
def test_keywords(text: str, expected: bool) -> None:
    assert _matches(_rule(keywords=["how much", "e-mail", "price"]), text) is expected


def test_phrase_starting_with_punctuation_still_matches() -> None:
    assert _matches(_rule(keywords=["#urgent now"]), "this is #URGENT now")


def test_pattern_and_spans() -> None:
    rule = _rule("pattern", pattern=r"(?i)order\s*#?\d{5,}")
    text = "Order #12345 and order 99"
    assert _matches(rule, text)
    assert rule.spans(text) == [(0, 12)]
    assert (
        str(highlight("<b>" + text, [(3, 15)])) == "&lt;b&gt;<mark>Order #12345</mark> and order 99"
    )


def test_attributes() -> None:
    assert attribute_matches("Enterprise", "equals", "enterprise")
    assert not attribute_matches("Enterprise plus", "equals", "enterprise")
    assert attribute_matches(["a", "Enterprise plus"], "contains", "enterprise")
    assert not attribute_matches(None, "contains", "x")
