"""What the customer's phone shows: a template's header, body with sample values,
footer and buttons, for the WhatsApp-bubble preview."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parley.msgtemplates.render import PLACEHOLDER_RE, placeholders
from parley.msgtemplates.spec import MEDIA_FORMATS, TemplateSpec


@dataclass
class Segment:
    text: str
    variable: str = ""  # set when this piece is a variable's value (or its raw {{name}})
    missing: bool = False


@dataclass
class Button:
    type: str
    text: str
    detail: str = ""  # the URL (filled) or phone number


@dataclass
class Bubble:
    header_format: str = "NONE"
    header: list[Segment] = field(default_factory=list)
    header_media: str = ""
    body: list[Segment] = field(default_factory=list)
    footer: str = ""
    buttons: list[Button] = field(default_factory=list)

    @property
    def body_text(self) -> str:
        return "".join(s.text for s in self.body)


def _fill(text: str, values: dict[str, str]) -> list[Segment]:
    parts = PLACEHOLDER_RE.split(text)
    out: list[Segment] = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            if part:
                out.append(Segment(part))
            continue
        value = values.get(part, "")
        out.append(Segment(value or f"{{{{{part}}}}}", variable=part, missing=not value))
    return out


def bubble(spec: TemplateSpec, samples: dict[str, str] | None = None) -> Bubble:
    """Sample values by variable key ("1", "first_name", "header", "button:<i>");
    the template's own examples fill what the samples leave out."""
    values = {**spec.examples, **{k: v for k, v in (samples or {}).items() if v}}
    out = Bubble(header_format=spec.header_format, footer=spec.footer)
    if spec.header_format == "TEXT":
        names = placeholders(spec.header_text)
        header_values = {n: values.get("header", "") for n in names[:1]}
        out.header = _fill(spec.header_text, header_values)
    elif spec.header_format in MEDIA_FORMATS:
        out.header_media = values.get("header") or spec.header_media
    out.body = _fill(spec.body, values)
    for i, b in enumerate(spec.buttons):
        detail = b.phone_number if b.type == "PHONE_NUMBER" else b.url
        if b.has_variable:
            suffix = values.get(f"button:{i}") or b.example
            detail = PLACEHOLDER_RE.sub(suffix or "{{1}}", b.url)
        out.buttons.append(Button(type=b.type, text=b.text, detail=detail))
    return out


def samples_from(data: Any, keys: list[str], prefix: str = "sample") -> dict[str, str]:
    """Sample values typed on a page: ``<prefix>-<key>``."""
    return {k: str(data.get(f"{prefix}-{k}") or "").strip() for k in keys}
