"""A rule compiled for matching in memory, and the checks run when a rule is
saved (so that nothing slow or broken reaches the inbound path).

Patterns are compiled with the ``regex`` package, whose matching takes a
timeout: a pattern that would backtrack catastrophically on some message is
stopped after PATTERN_TIMEOUT and counts as "no match", instead of stalling
the ingest of every message behind it. On top of that, saving refuses long
patterns and the classic catastrophic shape (a quantified group holding a
quantifier, like ``(a+)+``), so such a pattern is caught while someone is
there to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import regex
import structlog

from parley.core.errors import ActionError

log = structlog.get_logger(__name__)

MAX_PATTERN = 300
MAX_KEYWORDS = 50
MAX_KEYWORD = 100
# Per search. WhatsApp texts are at most 4,096 characters; an honest pattern
# takes microseconds on them.
PATTERN_TIMEOUT = 0.002
MAX_TEXT = 4096

WORD = regex.compile(r"\w+")
# A group that is quantified and holds a quantifier: (x+)+, (x*)*, (x+){2,}, (?:x|y+)* ...
NESTED_QUANTIFIER = regex.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]")


def clean_keywords(raw: list[str]) -> list[str]:
    words: list[str] = []
    for item in raw:
        word = " ".join(str(item).split())
        if word and word.casefold() not in {w.casefold() for w in words}:
            words.append(word)
    if not words:
        raise ActionError("List at least one keyword.", code="required", field="keywords")
    if len(words) > MAX_KEYWORDS:
        raise ActionError(
            f"A rule holds up to {MAX_KEYWORDS} keywords.", code="too_many", field="keywords"
        )
    long = [w for w in words if len(w) > MAX_KEYWORD]
    if long:
        raise ActionError(
            f"A keyword holds up to {MAX_KEYWORD} characters ({long[0][:20]!r}... is longer).",
            code="too_long",
            field="keywords",
        )
    return words


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """Validate and compile a pattern, or say what to fix."""
    if not pattern.strip():
        raise ActionError("Write the pattern.", code="required", field="pattern")
    if len(pattern) > MAX_PATTERN:
        raise ActionError(
            f"A pattern holds up to {MAX_PATTERN} characters.", code="too_long", field="pattern"
        )
    if NESTED_QUANTIFIER.search(pattern):
        raise ActionError(
            "This pattern repeats a group that itself repeats (like (a+)+): such patterns can "
            "take seconds on some messages. Remove the inner or outer repetition.",
            code="pattern_too_complex",
            field="pattern",
        )
    try:
        compiled = regex.compile(pattern, regex.VERSION0)
    except regex.error as exc:
        raise ActionError(
            f"This is not a valid regular expression: {exc}.",
            code="invalid_pattern",
            field="pattern",
        ) from None
    try:
        # A last look at behaviour: a pattern that times out on an ordinary
        # repetitive text would time out on customers' messages too.
        compiled.search("a" * 2000 + "!", timeout=0.05)
        compiled.search("ab " * 700 + "\n", timeout=0.05)
    except TimeoutError:
        raise ActionError(
            "This pattern is too slow on long messages; simplify it.",
            code="pattern_too_complex",
            field="pattern",
        ) from None
    return compiled


def _keyword_matchers(
    keywords: list[str],
) -> tuple[frozenset[str], regex.Pattern[str] | None, frozenset[str] | None]:
    """Single words are found in the message's word set; phrases (or words
    with punctuation) by one case-insensitive regex with word edges, tried
    only when the message holds the first word of one of them."""
    single: set[str] = set()
    phrases: list[str] = []
    heads: set[str] | None = set()
    for keyword in keywords:
        folded = keyword.casefold()
        if WORD.fullmatch(folded):
            single.add(folded)
            continue
        phrases.append(folded)
        words = WORD.findall(folded)
        if words and heads is not None and folded.startswith(words[0]):
            heads.add(words[0])
        else:
            heads = None  # starts with punctuation: no cheap pre-check
    phrase = None
    if phrases:
        body = "|".join(
            r"\s+".join(regex.escape(part) for part in p.split()) for p in sorted(phrases)
        )
        phrase = regex.compile(rf"(?<!\w)(?:{body})(?!\w)", regex.IGNORECASE | regex.V0)
    return frozenset(single), phrase, frozenset(heads) if heads is not None else None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule_id: int
    name: str
    kind: str
    stop_after: bool
    contact_tag_ids: tuple[int, ...]
    conversation_tag_ids: tuple[int, ...]
    words: frozenset[str] = frozenset()
    phrase: regex.Pattern[str] | None = None
    # First words of the phrases (None: no pre-check possible).
    phrase_heads: frozenset[str] | None = None
    pattern: regex.Pattern[str] | None = None
    attribute_key: str = ""
    attribute_op: str = "equals"
    attribute_value: str = ""
    spans_pattern: regex.Pattern[str] | None = field(default=None, compare=False)

    def matches(
        self, *, text: str, words: frozenset[str], first: bool, attributes: Mapping[str, Any] | None
    ) -> bool:
        if self.kind == "keyword":
            if not self.words.isdisjoint(words):
                return True
            if self.phrase is None:
                return False
            if self.phrase_heads is not None and self.phrase_heads.isdisjoint(words):
                return False
            return self.phrase.search(text) is not None
        if self.kind == "pattern":
            assert self.pattern is not None
            try:
                return self.pattern.search(text[:MAX_TEXT], timeout=PATTERN_TIMEOUT) is not None
            except TimeoutError:
                log.warning("autotag_pattern_timeout", rule_id=self.rule_id)
                return False
        if self.kind == "first_message":
            return first
        if self.kind == "attribute":
            return attribute_matches(
                (attributes or {}).get(self.attribute_key), self.attribute_op, self.attribute_value
            )
        return False

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the rule matched in ``text`` (for the preview's highlight)."""
        finder = self.spans_pattern
        if finder is None:
            return []
        try:
            return [m.span() for m in finder.finditer(text[:MAX_TEXT], timeout=PATTERN_TIMEOUT)][
                :50
            ]
        except TimeoutError:
            return []


def attribute_matches(value: Any, op: str, target: str) -> bool:
    if value is None:
        return False
    values = value if isinstance(value, list) else [value]
    wanted = target.casefold()
    for item in values:
        text = str(item).casefold()
        if (op == "contains" and wanted in text) or (op != "contains" and text == wanted):
            return True
    return False


def words_of(text: str) -> frozenset[str]:
    return frozenset(WORD.findall(text[:MAX_TEXT].casefold())) if text else frozenset()


def compile_rule(
    *,
    rule_id: int,
    name: str,
    kind: str,
    keywords: list[str],
    pattern: str,
    attribute_key: str,
    attribute_op: str,
    attribute_value: str,
    contact_tag_ids: tuple[int, ...],
    conversation_tag_ids: tuple[int, ...],
    stop_after: bool,
) -> CompiledRule:
    """Raises ActionError for a rule that cannot run."""
    base: dict[str, Any] = {
        "rule_id": rule_id,
        "name": name,
        "kind": kind,
        "stop_after": stop_after,
        "contact_tag_ids": contact_tag_ids,
        "conversation_tag_ids": conversation_tag_ids,
    }
    if kind == "keyword":
        words, phrase, heads = _keyword_matchers(clean_keywords(keywords))
        every = "|".join(
            r"\s+".join(regex.escape(part) for part in k.casefold().split())
            for k in clean_keywords(keywords)
        )
        spans = regex.compile(rf"(?<!\w)(?:{every})(?!\w)", regex.IGNORECASE | regex.V0)
        return CompiledRule(
            **base, words=words, phrase=phrase, phrase_heads=heads, spans_pattern=spans
        )
    if kind == "pattern":
        compiled = compile_pattern(pattern)
        return CompiledRule(**base, pattern=compiled, spans_pattern=compiled)
    if kind == "first_message":
        return CompiledRule(**base)
    if kind == "attribute":
        if not attribute_key.strip():
            raise ActionError("Pick the attribute.", code="required", field="attribute_key")
        if not attribute_value.strip():
            raise ActionError(
                "Write the value to compare with.", code="required", field="attribute_value"
            )
        if attribute_op not in ("equals", "contains"):
            raise ActionError(
                "Compare with equals or contains.", code="invalid_op", field="attribute_op"
            )
        return CompiledRule(
            **base,
            attribute_key=attribute_key.strip(),
            attribute_op=attribute_op,
            attribute_value=attribute_value.strip(),
        )
    raise ActionError(
        f"Unknown kind {kind!r}; use keyword, pattern, first_message or attribute.",
        code="invalid_kind",
        field="kind",
    )
