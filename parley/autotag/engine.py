"""Applying a workspace's auto-tag rules to a batch of inbound messages.

Where it runs: inline, inside the ingest transaction (the message.received
handler), not in a job. Why:
- it is cheap: one round trip per batch to read the rules' version (with the
  contacts' attributes when attribute rules exist), matching in memory
  against rules compiled once per process, and, only when something matched,
  one more round trip writing every tag, timeline entry and hit count (see
  WRITE_SQL). A job would cost an enqueue per batch (an INSERT and a NOTIFY)
  before doing the same work again in a worker;
- the tags are atomic with the message: the inbox shows the message already
  tagged, and workflows or drips triggered by "tag added" see both;
- failure stays contained: the domain-event bus runs each handler in a
  savepoint, and a pattern cannot stall it (matching has a timeout).

Firings are counted per rule (RuleStats: hits, last hit) rather than written
to the execution log: one log row per firing would add an INSERT per matched
message on the hottest path in the product.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from django.utils import timezone

from parley.autotag.matching import CompiledRule, compile_rule, words_of
from parley.autotag.models import Rule
from parley.core import domain_events, interest, prepared
from parley.core.domain_events import ReceivedMessage
from parley.crm.models import Contact, Tag

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[CompiledRule, ...]
    tag_names: dict[int, str]
    needs_attributes: bool
    # Keyword rules by the words that can make them match (their words and
    # the first words of their phrases): a message only runs the keyword rules
    # its words name, plus ``always`` (every other rule), in rule order.
    index: dict[str, tuple[int, ...]] = field(default_factory=dict)
    always: tuple[int, ...] = ()


def _index(rules: Sequence[CompiledRule]) -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
    index: dict[str, list[int]] = defaultdict(list)
    always: list[int] = []
    for position, rule in enumerate(rules):
        if rule.kind == Rule.Kind.KEYWORD and (
            rule.phrase is None or rule.phrase_heads is not None
        ):
            for word in rule.words | (rule.phrase_heads or frozenset()):
                index[word].append(position)
        else:
            always.append(position)
    return {w: tuple(p) for w, p in index.items()}, tuple(always)


def clear_cache() -> None:
    """Forget every process's compiled rules (tests that reset the database)."""
    interest.forget()


def _compile(workspace_id: int) -> RuleSet:
    rows = list(
        Rule.objects.filter(workspace_id=workspace_id, enabled=True).order_by("position", "id")
    )
    wanted = {t for r in rows for t in (*r.contact_tag_ids, *r.conversation_tag_ids)}
    tag_names = dict(
        Tag.objects.filter(workspace_id=workspace_id, id__in=wanted).values_list("id", "name")
    )
    compiled: list[CompiledRule] = []
    for row in rows:
        contact_tags = tuple(t for t in row.contact_tag_ids if t in tag_names)
        conversation_tags = tuple(t for t in row.conversation_tag_ids if t in tag_names)
        if not contact_tags and not conversation_tags:
            continue  # its tags were deleted: nothing left to do
        try:
            compiled.append(
                compile_rule(
                    rule_id=row.pk,
                    name=row.name,
                    kind=row.kind,
                    keywords=list(row.keywords),
                    pattern=row.pattern,
                    attribute_key=row.attribute_key,
                    attribute_op=row.attribute_op,
                    attribute_value=row.attribute_value,
                    contact_tag_ids=contact_tags,
                    conversation_tag_ids=conversation_tags,
                    stop_after=row.stop_after,
                )
            )
        except Exception:
            # Validated on save; a rule that no longer compiles is skipped, not fatal.
            log.warning("autotag_rule_uncompilable", rule_id=row.pk)
    index, always = _index(compiled)
    return RuleSet(
        tuple(compiled),
        tag_names,
        any(r.kind == Rule.Kind.ATTRIBUTE for r in compiled),
        index,
        always,
    )


def ruleset(workspace_id: int) -> RuleSet:
    """The workspace's enabled rules, compiled once per process and reused
    while the workspace's interest version holds (rule and tag changes bump
    it): no query of its own inside a domain-event telling."""
    return interest.cached(workspace_id, "autotag.rules", lambda: _compile(workspace_id))


def _attributes(
    workspace_id: int, messages: Sequence[ReceivedMessage]
) -> dict[int, Mapping[str, Any]]:
    """The contacts' attributes: as ingest read them with the batch, or from
    the database for a caller that did not pass them."""
    known = {
        m.contact_id: m.contact_attributes for m in messages if m.contact_attributes is not None
    }
    missing = {m.contact_id for m in messages} - known.keys()
    if missing:
        known.update(
            Contact.objects.filter(workspace_id=workspace_id, id__in=missing).values_list(
                "id", "attributes"
            )
        )
    return known


@dataclass
class Outcome:
    contact_pairs: set[tuple[int, int]]
    conversation_pairs: set[tuple[int, int]]
    hits: dict[int, int]


def evaluate(
    rules: RuleSet,
    messages: Sequence[ReceivedMessage],
    attributes: Mapping[int, Mapping[str, Any]],
) -> Outcome:
    """Match in memory: each message runs down the rules in order until one
    that matched says "stop" (keyword rules its words cannot match are
    skipped without a look)."""
    outcome = Outcome(set(), set(), defaultdict(int))
    compiled = rules.rules
    for message in messages:
        text = message.text or ""
        words = words_of(text)
        named: set[int] = set()
        for word in words:
            positions = rules.index.get(word)
            if positions:
                named.update(positions)
        order = sorted(named.union(rules.always)) if named else rules.always
        contact_attributes = attributes.get(message.contact_id)
        for position in order:
            rule = compiled[position]
            if not rule.matches(
                text=text, words=words, first=message.first, attributes=contact_attributes
            ):
                continue
            outcome.hits[rule.rule_id] += 1
            for tag_id in rule.contact_tag_ids:
                outcome.contact_pairs.add((message.contact_id, tag_id))
            for tag_id in rule.conversation_tag_ids:
                outcome.conversation_pairs.add((message.conversation_id, tag_id))
            if rule.stop_after:
                break
    return outcome


def apply(workspace_id: int, messages: Sequence[ReceivedMessage]) -> Outcome | None:
    """Tag what the batch's messages match; returns None without rules.
    No read while the compiled rules hold (ingest passes the contacts'
    attributes along), one write when something matched."""
    if not messages:
        return None
    rules = ruleset(workspace_id)
    if not rules.rules:
        return None
    attributes = _attributes(workspace_id, messages) if rules.needs_attributes else {}
    outcome = evaluate(rules, messages, attributes)
    if outcome.hits:
        _write(workspace_id, outcome)
    return outcome


def announce(workspace_id: int, added: list[tuple[int, int]]) -> None:
    """contact.tagged, once per tag (the event names one tag): drips and
    workflows react to it. Their handlers' time is theirs; the bench reports
    it apart."""
    by_tag: dict[int, list[int]] = defaultdict(list)
    for contact_id, tag_id in added:
        by_tag[tag_id].append(contact_id)
    for tag_id, contact_ids in sorted(by_tag.items()):
        domain_events.emit(
            workspace_id,
            domain_events.CONTACT_TAGGED,
            contact_ids=sorted(contact_ids),
            tag_id=tag_id,
        )


# Every write of a batch in one statement (one round trip): the contact tags
# not there yet, their timeline entries (crm's ContactEvent rows, as
# crm.history.record_many writes them), the conversation tags, and the rules'
# hit counts. The rows are crm's and inbox's; the shapes are those of their
# models, and the tests read them back through the models.
WRITE_SQL = """
WITH added AS (
    INSERT INTO crm_contacttag (workspace_id, contact_id, tag_id, created_at)
    SELECT %(ws)s, u.o, u.t, %(now)s
    FROM unnest(%(contact_ids)s::bigint[], %(contact_tags)s::bigint[]) AS u(o, t)
    ON CONFLICT (workspace_id, contact_id, tag_id) DO NOTHING
    RETURNING contact_id, tag_id
), history AS (
    INSERT INTO crm_contactevent (workspace_id, contact_id, kind, summary, actor_id, data, at)
    SELECT %(ws)s, a.contact_id, 'tagged', left('An auto-tag rule added the tag ' || t.name, 300),
           NULL, jsonb_build_object('tag_id', a.tag_id, 'source', 'autotag'), %(now)s
    FROM added a JOIN crm_tag t ON t.id = a.tag_id AND t.workspace_id = %(ws)s
), conversation_tags AS (
    INSERT INTO inbox_conversationtag (workspace_id, conversation_id, tag_id, created_at)
    SELECT %(ws)s, u.o, u.t, %(now)s
    FROM unnest(%(conversation_ids)s::bigint[], %(conversation_tags)s::bigint[]) AS u(o, t)
    ON CONFLICT (workspace_id, conversation_id, tag_id) DO NOTHING
), stats AS (
    -- The join skips a rule deleted since the rules were compiled.
    INSERT INTO autotag_rulestats (rule_id, workspace_id, hits, last_hit_at)
    SELECT u.id, %(ws)s, u.n, %(now)s
    FROM unnest(%(rule_ids)s::bigint[], %(rule_hits)s::bigint[]) AS u(id, n)
    JOIN autotag_rule r ON r.id = u.id AND r.workspace_id = %(ws)s
    ON CONFLICT (rule_id) DO UPDATE
    SET hits = autotag_rulestats.hits + EXCLUDED.hits, last_hit_at = EXCLUDED.last_hit_at
)
SELECT contact_id, tag_id FROM added
"""


def _columns(pairs: set[tuple[int, int]]) -> tuple[list[int], list[int]]:
    ordered = sorted(pairs)
    return [a for a, _ in ordered], [b for _, b in ordered]


def _write(workspace_id: int, outcome: Outcome) -> None:
    contact_ids, contact_tags = _columns(outcome.contact_pairs)
    conversation_ids, conversation_tags = _columns(outcome.conversation_pairs)
    rule_ids, rule_hits = _columns(set(outcome.hits.items()))
    # Prepared: planning these four inserts took longer than running them.
    with prepared.cursor() as cursor:
        cursor.execute(
            WRITE_SQL,
            {
                "ws": workspace_id,
                "now": timezone.now(),
                "contact_ids": contact_ids,
                "contact_tags": contact_tags,
                "conversation_ids": conversation_ids,
                "conversation_tags": conversation_tags,
                "rule_ids": rule_ids,
                "rule_hits": rule_hits,
            },
        )
        added = [(int(c), int(t)) for c, t in cursor.fetchall()]
    if added:
        announce(workspace_id, added)
