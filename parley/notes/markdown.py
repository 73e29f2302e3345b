"""Markdown for notes, rendered safely.

Two locks: markdown-it never passes raw HTML through (``html: False``) and
only knows a few constructs; nh3 then whitelists the tags, attributes and URL
schemes of whatever came out, so a bug in either alone lets nothing
executable through.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from parley.notes.mentions import MENTION, Member, clean_handle

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "hr", "span",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}, "span": {"title"}}
ALLOWED_CLASSES = {"span": {"mention"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"


@dataclass
class Rendered:
    html: str
    mentioned: list[Member] = field(default_factory=list)


def _mentions_rule(state: StateCore) -> None:
    """Turn "@handle" of a known member into a mention token, in plain text
    only: never inside code or a link's text."""
    members: dict[str, Member] = state.env.get("members", {})
    if not members:
        return
    found: dict[int, Member] = state.env.setdefault("mentioned", {})
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        in_link = 0
        for tok in block.children:
            if tok.type == "link_open":
                in_link += 1
            elif tok.type == "link_close":
                in_link -= 1
            if tok.type != "text" or in_link or "@" not in tok.content:
                children.append(tok)
                continue
            children.extend(_split_mentions(tok, members, found))
        block.children = children


def _split_mentions(
    tok: Token, members: dict[str, Member], found: dict[int, Member]
) -> list[Token]:
    out: list[Token] = []
    text = tok.content
    pos = 0
    for match in MENTION.finditer(text):
        raw = match.group(1)
        handle = clean_handle(raw)
        member = members.get(handle)
        if member is None:
            continue
        start = match.start()
        end = match.start(1) + len(raw.rstrip("."))
        if start > pos:
            out.append(_text(text[pos:start]))
        mention = Token("mention", "span", 0)
        mention.meta = {"handle": member.handle, "name": member.name}
        out.append(mention)
        found.setdefault(member.user_id, member)
        pos = end
    if not out:
        return [tok]
    if pos < len(text):
        out.append(_text(text[pos:]))
    return out


def _text(content: str) -> Token:
    tok = Token("text", "", 0)
    tok.content = content
    return tok


def _render_mention(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    meta = tokens[idx].meta
    return (
        f'<span class="mention" title="{html.escape(meta["name"])}">'
        f"@{html.escape(meta['handle'])}</span>"
    )


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
    # Images would let a note load third-party trackers into colleagues' browsers.
    md.disable("image")
    md.core.ruler.after("text_join", "mentions", _mentions_rule)
    md.add_render_rule("mention", _render_mention)
    return md


_MD = _build()


def sanitize(dirty: str) -> str:
    return nh3.clean(
        dirty,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        # Relative links would resolve inside Parley (e.g. a logout URL).
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render(body: str, members: dict[str, Member] | None = None) -> Rendered:
    env: dict[str, Any] = {"members": members or {}}
    dirty = _MD.render(body, env)
    mentioned: dict[int, Member] = env.get("mentioned", {})
    return Rendered(html=sanitize(dirty), mentioned=list(mentioned.values()))
