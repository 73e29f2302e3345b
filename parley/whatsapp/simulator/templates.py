"""Message templates: the stored object, review rules, and checks made at send time."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from . import errors, ids

CATEGORIES = ("AUTHENTICATION", "MARKETING", "UTILITY")
STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED")
NAME_RE = re.compile(r"^[a-z0-9_]+$")
PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
ADJACENT_PLACEHOLDERS_RE = re.compile(r"\}\}\s*\{\{")
REJECT_MARKER = "REJECT_ME"


@dataclass
class Template:
    waba_id: str
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    status: str = "PENDING"
    id: str = field(default_factory=ids.object_id)
    parameter_format: str = "POSITIONAL"
    rejected_reason: str = "NONE"
    rejection_info: dict[str, str] | None = None
    created_at: float = field(default_factory=time.time)

    def to_graph(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "parameter_format": self.parameter_format,
            "components": self.components,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "id": self.id,
        }
        if self.status == "REJECTED":
            out["rejected_reason"] = self.rejected_reason
        return out

    def to_state(self) -> dict[str, Any]:
        return {
            **self.to_graph(),
            "waba_id": self.waba_id,
            "rejected_reason": self.rejected_reason,
            "rejection_info": self.rejection_info,
            "created_at": self.created_at,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Template:
        return cls(
            waba_id=str(data["waba_id"]),
            name=str(data["name"]),
            language=str(data["language"]),
            category=str(data.get("category", "UTILITY")),
            components=list(data.get("components") or []),
            status=str(data.get("status", "APPROVED")),
            id=str(data.get("id") or ids.object_id()),
            parameter_format=str(data.get("parameter_format", "POSITIONAL")),
            rejected_reason=str(data.get("rejected_reason") or "NONE"),
            rejection_info=data.get("rejection_info"),
            created_at=float(data.get("created_at") or time.time()),
        )

    def component(self, kind: str) -> dict[str, Any] | None:
        for comp in self.components:
            if str(comp.get("type", "")).upper() == kind:
                return comp
        return None

    def body_text(self) -> str:
        body = self.component("BODY")
        return str(body.get("text") or "") if body else ""

    def expected_params(self, kind: str) -> int:
        comp = self.component(kind)
        if comp is None:
            return 0
        if kind == "HEADER" and str(comp.get("format", "TEXT")).upper() != "TEXT":
            return 1  # a media or location header takes exactly one parameter
        return len(set(PLACEHOLDER_RE.findall(str(comp.get("text") or ""))))


def parse_create_request(waba_id: str, body: dict[str, Any]) -> Template:
    """Validate Meta's create-template request; clear format problems are left for review."""
    for key in ("name", "language", "category", "components"):
        if body.get(key) in (None, ""):
            raise errors.invalid_parameter(f"The parameter {key} is required.")
    category = str(body["category"]).upper()
    if category not in CATEGORIES:
        raise errors.invalid_parameter(
            f'Param category must be one of {{{", ".join(CATEGORIES)}}} - got "{body["category"]}".'
        )
    components = body["components"]
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise errors.invalid_parameter("Param components must be an array of objects.")
    parameter_format = str(body.get("parameter_format") or "POSITIONAL").upper()
    if parameter_format not in ("POSITIONAL", "NAMED"):
        raise errors.invalid_parameter("Param parameter_format must be one of {NAMED, POSITIONAL}.")
    return Template(
        waba_id=waba_id,
        name=str(body["name"]),
        language=str(body["language"]),
        category=category,
        components=components,
        parameter_format=parameter_format,
    )


EDITABLE_STATUSES = ("APPROVED", "REJECTED", "PAUSED")
EDITABLE_FIELDS = ("components", "category", "parameter_format", "message_send_ttl_seconds")


def check_edit(template: Template, body: dict[str, Any]) -> None:
    """Meta's rules for POST /{template_id}: only approved, rejected or paused
    templates; name and language never change; an approved one keeps its category."""
    if template.status not in EDITABLE_STATUSES:
        raise errors.invalid_parameter(
            f"Message templates can only be edited when they are approved, rejected or "
            f"paused; this one is {template.status}.",
        )
    unknown = sorted(set(body) - set(EDITABLE_FIELDS))
    if unknown:
        raise errors.invalid_parameter(f"Param {unknown[0]} cannot be edited.")
    if not any(body.get(key) for key in EDITABLE_FIELDS):
        raise errors.invalid_parameter("The parameter components is required.")
    components = body.get("components")
    if components is not None and (
        not isinstance(components, list) or not all(isinstance(c, dict) for c in components)
    ):
        raise errors.invalid_parameter("Param components must be an array of objects.")
    category = str(body.get("category") or template.category).upper()
    if category not in CATEGORIES:
        raise errors.invalid_parameter(
            f'Param category must be one of {{{", ".join(CATEGORIES)}}} - got "{category}".'
        )
    if template.status == "APPROVED" and category != template.category:
        raise errors.invalid_parameter("The category of an approved template can't be edited.")
    parameter_format = str(body.get("parameter_format") or "POSITIONAL").upper()
    if parameter_format not in ("POSITIONAL", "NAMED"):
        raise errors.invalid_parameter("Param parameter_format must be one of {NAMED, POSITIONAL}.")


def review(template: Template) -> tuple[str, str, dict[str, str] | None]:
    """Meta's verdict for the clear-cut cases: (status, reason, rejection_info)."""
    if not NAME_RE.match(template.name) or len(template.name) > 512:
        return (
            "REJECTED",
            "INVALID_FORMAT",
            {
                "reason": "The template name may contain only lowercase letters, numbers and "
                "underscores.",
                "recommendation": "Rename the template, for example order_update_2.",
            },
        )
    body = template.body_text()
    if not body.strip():
        return (
            "REJECTED",
            "INVALID_FORMAT",
            {
                "reason": "The template has no body text.",
                "recommendation": "Add a BODY component with the message text.",
            },
        )
    if ADJACENT_PLACEHOLDERS_RE.search(body):
        return (
            "REJECTED",
            "INVALID_FORMAT",
            {
                "reason": "Your template has parameters placed next to each other (like "
                "{{1}}{{2}}) without text or punctuation between them.",
                "recommendation": "Separate parameters with descriptive text.",
            },
        )
    if REJECT_MARKER in body:
        return (
            "REJECTED",
            "ABUSIVE_CONTENT",
            {
                "reason": "The template content does not comply with WhatsApp's policies.",
                "recommendation": "Review the Commerce and Business policies and edit the text.",
            },
        )
    return "APPROVED", "NONE", None


def _send_components(template_body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    components = template_body.get("components") or []
    if not isinstance(components, list):
        raise errors.invalid_parameter("Param template['components'] must be an array.")
    for comp in components:
        if not isinstance(comp, dict):
            raise errors.invalid_parameter("Param template['components'] must contain objects.")
        params = comp.get("parameters") or []
        if not isinstance(params, list):
            raise errors.invalid_parameter(
                "Param template['components'][]['parameters'] must be an array."
            )
        grouped.setdefault(str(comp.get("type", "")).lower(), []).extend(params)
    return grouped


def check_send(template: Template, template_body: dict[str, Any]) -> None:
    grouped = _send_components(template_body)
    for kind in ("HEADER", "BODY"):
        expected = template.expected_params(kind)
        got = len(grouped.get(kind.lower(), []))
        if got != expected:
            raise errors.template_param_mismatch(kind.lower(), got, expected)


def _param_text(param: Any) -> str:
    if not isinstance(param, dict):
        return str(param)
    kind = param.get("type")
    if kind == "text":
        return str(param.get("text", ""))
    if kind in ("currency", "date_time"):
        value = param.get(kind) or {}
        return str(value.get("fallback_value", "")) if isinstance(value, dict) else ""
    return f"[{kind}]"


def render(template: Template, template_body: dict[str, Any]) -> str:
    """What the customer's phone shows: header and body with parameters filled in."""
    grouped = _send_components(template_body)
    lines: list[str] = []
    for kind in ("HEADER", "BODY", "FOOTER"):
        comp = template.component(kind)
        if comp is None or not comp.get("text"):
            continue
        params = grouped.get(kind.lower(), [])
        by_name = {
            str(p.get("parameter_name")): _param_text(p) for p in params if isinstance(p, dict)
        }

        def fill(
            match: re.Match[str], params: list[Any] = params, by_name: dict[str, str] = by_name
        ) -> str:
            key = match.group(1)
            if key.isdigit() and 0 < int(key) <= len(params):
                return _param_text(params[int(key) - 1])
            return by_name.get(key, match.group(0))

        lines.append(PLACEHOLDER_RE.sub(fill, str(comp["text"])))
    return "\n".join(lines) or template.name


def quick_replies(template: Template, template_body: dict[str, Any]) -> list[tuple[str, str]]:
    """(button text, payload) for each quick-reply button. The payload is what the sender
    set for that button index, or the text when it set none, which is what the phone returns."""
    buttons = template.component("BUTTONS")
    if not buttons:
        return []
    payloads: dict[int, str] = {}
    for comp in template_body.get("components") or []:
        if not isinstance(comp, dict) or str(comp.get("type", "")).lower() != "button":
            continue
        params = comp.get("parameters") or []
        first = params[0] if params and isinstance(params[0], dict) else {}
        if str(comp.get("index", "")).isdigit() and first.get("payload") is not None:
            payloads[int(comp["index"])] = str(first["payload"])
    out: list[tuple[str, str]] = []
    for index, button in enumerate(buttons.get("buttons") or []):
        if isinstance(button, dict) and str(button.get("type", "")).upper() == "QUICK_REPLY":
            text = str(button.get("text", ""))
            out.append((text, payloads.get(index, text)))
    return out
