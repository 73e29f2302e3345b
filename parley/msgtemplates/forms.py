"""The template editor's fields: read a POST into a TemplateSpec, and lay a spec
(with its errors) out as rows for templates/msgtemplates/editor.html."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parley.msgtemplates.spec import (
    BUTTON_TYPES,
    CATEGORIES,
    HEADER_FORMATS,
    MAX_BUTTONS,
    ButtonSpec,
    TemplateSpec,
)

CATEGORY_LABELS = {
    "MARKETING": "Marketing",
    "UTILITY": "Utility",
    "AUTHENTICATION": "Authentication",
}
HEADER_LABELS = {
    "NONE": "No header",
    "TEXT": "Text",
    "IMAGE": "Image",
    "VIDEO": "Video",
    "DOCUMENT": "Document",
}
BUTTON_LABELS = {"QUICK_REPLY": "Quick reply", "URL": "Visit website", "PHONE_NUMBER": "Call"}
LANGUAGES = (
    "en_US",
    "en_GB",
    "en",
    "es",
    "es_ES",
    "es_MX",
    "pt_BR",
    "pt_PT",
    "fr",
    "de",
    "it",
    "nl",
    "id",
    "hi",
    "ar",
    "tr",
    "ru",
)


def spec_from_post(data: Any, *, name: str = "", language: str = "") -> TemplateSpec:
    """``name`` and ``language`` override the posted ones (an edit cannot change them)."""
    buttons: list[ButtonSpec] = []
    for i in range(MAX_BUTTONS + 5):
        if f"button-{i}-type" not in data:
            break
        buttons.append(
            ButtonSpec(
                type=str(data.get(f"button-{i}-type") or ""),
                text=str(data.get(f"button-{i}-text") or ""),
                url=str(data.get(f"button-{i}-url") or ""),
                phone_number=str(data.get(f"button-{i}-phone_number") or ""),
                example=str(data.get(f"button-{i}-example") or ""),
            )
        )
    examples = {
        str(key)[len("example-") :]: str(data.get(key) or "")
        for key in data
        if str(key).startswith("example-")
    }
    return TemplateSpec(
        name=name or str(data.get("name") or ""),
        category=str(data.get("category") or ""),
        language=language or str(data.get("language") or ""),
        body=str(data.get("body") or ""),
        header_format=str(data.get("header_format") or "NONE"),
        header_text=str(data.get("header_text") or ""),
        header_media=str(data.get("header_media") or ""),
        footer=str(data.get("footer") or ""),
        buttons=buttons,
        examples=examples,
    )


@dataclass
class ButtonRow:
    index: int
    type: str
    text: str
    url: str
    phone_number: str
    example: str
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class ExampleRow:
    key: str
    label: str
    value: str
    error: str


def button_rows(spec: TemplateSpec, errors: dict[str, str], extra: int = 1) -> list[ButtonRow]:
    """The buttons typed so far plus ``extra`` empty rows (at most ten in all)."""
    rows = []
    for i, b in enumerate(spec.buttons):
        prefix = f"buttons.{i}."
        rows.append(
            ButtonRow(
                index=i,
                type=b.type.upper(),
                text=b.text,
                url=b.url,
                phone_number=b.phone_number,
                example=b.example,
                errors={k[len(prefix) :]: v for k, v in errors.items() if k.startswith(prefix)},
            )
        )
    while len(rows) < min(len(spec.buttons) + extra, MAX_BUTTONS):
        rows.append(
            ButtonRow(index=len(rows), type="", text="", url="", phone_number="", example="")
        )
    return rows


def example_rows(spec: TemplateSpec, errors: dict[str, str]) -> list[ExampleRow]:
    return [
        ExampleRow(
            key=key,
            label=label,
            value=spec.examples.get(key, ""),
            error=errors.get(f"examples.{key}", ""),
        )
        for key, label in spec.example_keys()
    ]


def choices() -> dict[str, Any]:
    return {
        "categories": [(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
        "header_formats": [(h, HEADER_LABELS[h]) for h in HEADER_FORMATS],
        "button_types": [(b, BUTTON_LABELS[b]) for b in BUTTON_TYPES],
        "languages": LANGUAGES,
    }


def flat_errors(errors: dict[str, str]) -> dict[str, str]:
    """Top-level field errors (Django templates cannot read dotted keys)."""
    return {k: v for k, v in errors.items() if "." not in k}
