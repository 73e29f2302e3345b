"""Notes are markdown written by colleagues: whatever they type, nothing
executable reaches another person's browser."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from parley.notes.markdown import render, sanitize
from parley.notes.mentions import Member

ANA = Member(user_id=7, handle="ana", name="Ana Silva", email="ana@example.test")
MEMBERS = {"ana": ANA, "ana@example.test": ANA}

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java&#115;cript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "<svg onload=alert(1)>",
    "<iframe src=https://evil.example></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '![x](https://evil.example/x.png" onerror="alert(1))',
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    "```\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
    "<<script>script>alert(1)<</script>/script>",
    "[x](<javascript:alert(1)>)",
    "<style>body{display:none}</style>",
]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


SAFE_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a"}
SAFE_TAGS |= {"h1", "h2", "h3", "h4", "hr", "span"}


def _executable(html: str) -> list[str]:
    """What a browser would run or load from ``html``, parsed as a browser
    would (escaped text like "&lt;img onerror=" is harmless and ignored)."""
    parser = _Elements()
    parser.feed(html)
    bad = []
    for tag, attrs in parser.found:
        if tag not in SAFE_TAGS:
            bad.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "src", "srcdoc", "formaction"):
                bad.append(f"{tag}[{name}]")
            if name == "href" and not re.match(r"^(https?:|mailto:)", value or ""):
                bad.append(f"{tag}[href={value}]")
    return bad


@pytest.mark.parametrize("attack", ATTACKS)
def test_nothing_executable_survives_rendering(attack: str) -> None:
    html = render(attack, MEMBERS).html
    assert _executable(html) == [], html


@pytest.mark.parametrize(
    "dirty",
    [
        '<a href="javascript:alert(1)">x</a>',
        '<p onclick="alert(1)">x</p>',
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        '<span class="mention evil" style="position:fixed">x</span>',
        '<a href="/w/acme/delete/">relative</a>',
    ],
)
def test_the_sanitiser_alone_also_stops_them(dirty: str) -> None:
    """Second lock: even HTML that markdown-it would never emit is cleaned."""
    html = sanitize(dirty)
    assert _executable(html) == [], html
    assert "style=" not in html and "evil" not in html and "alert(1)</" not in html
    assert 'href="/' not in html


def test_raw_html_is_shown_as_text_not_dropped() -> None:
    html = render("Customer wrote <b>urgent</b> & <script>x</script>").html
    assert "&lt;b&gt;urgent&lt;/b&gt;" in html
    assert "&lt;script&gt;" in html


def test_markdown_basics_render() -> None:
    html = render("**bold** _em_ `code`\nnext line\n\n- one\n- two\n\n> quoted").html
    assert "<strong>bold</strong>" in html and "<em>em</em>" in html
    assert "<code>code</code>" in html
    assert "<br>" in html  # single newlines break lines, as people expect in notes
    assert "<ul>" in html and "<li>one</li>" in html
    assert "<blockquote>" in html


def test_links_are_safe_and_marked_nofollow() -> None:
    html = render("[site](https://example.com) and [mail](mailto:a@example.com)").html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">site</a>' in html
    assert 'href="mailto:a@example.com"' in html
    # No linkify: a bare address stays text (nothing turns into a link unasked).
    assert "<a" not in render("see https://example.com").html


def test_images_are_not_loaded() -> None:
    html = render("![pixel](https://tracker.example/p.gif)").html
    assert "<img" not in html


def test_mentions_become_chips_only_for_members_and_outside_code() -> None:
    rendered = render(
        "Hi @ana, mail bob@ana.example, ask @bob. `@ana` [@ana](https://x.example)", MEMBERS
    )
    assert rendered.html.count('class="mention"') == 1
    assert '<span class="mention" title="Ana Silva">@ana</span>' in rendered.html
    assert "@bob" in rendered.html  # not a member: plain text
    assert [m.user_id for m in rendered.mentioned] == [7]


def test_a_mention_at_the_end_of_a_sentence_or_by_email() -> None:
    assert [m.user_id for m in render("thanks @ana.", MEMBERS).mentioned] == [7]
    assert [m.user_id for m in render("cc @ANA@example.test", MEMBERS).mentioned] == [7]
    assert render("thanks @ana.", MEMBERS).html.endswith("</span>.</p>\n")


def test_the_detector_itself_sees_live_html() -> None:
    """Guards the guard: the checks above would notice a real hole."""
    assert _executable('<img src=x onerror="alert(1)">') == ["<img>", "img[src]", "img[onerror]"]
    assert _executable('<a href="javascript:alert(1)">x</a>') == ["a[href=javascript:alert(1)]"]
    assert _executable("<p>&lt;img src=x onerror=alert(1)&gt;</p>") == []
