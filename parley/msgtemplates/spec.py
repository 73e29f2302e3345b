"""A template as a person writes it, checked against Meta's rules, and turned into
the components of Meta's create/edit request (with the ``example`` blocks Meta
requires for every variable) - and back, for editing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from parley.core.errors import ActionError
from parley.msgtemplates.render import PLACEHOLDER_RE, placeholders

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
HEADER_FORMATS = ("NONE", "TEXT", "IMAGE", "VIDEO", "DOCUMENT")
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER")
NAME_RE = re.compile(r"^[a-z0-9_]+$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2,4})?$")
NAMED_VARIABLE_RE = re.compile(r"^[a-z_]+$")
PHONE_RE = re.compile(r"^\+[1-9][0-9]{5,18}$")
ADJACENT_RE = re.compile(r"\}\}\s*\{\{")
# Anything that looks like a variable but is not one Meta accepts ({{ 1a }}, {{}}, {{First}}).
LOOSE_PLACEHOLDER_RE = re.compile(r"\{\{([^{}]*)\}\}")

MAX_NAME = 512
MAX_HEADER = 60
MAX_BODY = 1024
MAX_FOOTER = 60
MAX_BUTTONS = 10
MAX_BUTTON_TEXT = 25
MAX_URL = 2000
MAX_URL_BUTTONS = 2
MAX_PHONE_BUTTONS = 1
MAX_EXAMPLE = 200


@dataclass
class ButtonSpec:
    type: str
    text: str
    url: str = ""
    phone_number: str = ""
    # For a URL ending in {{1}}: the example value of that suffix.
    example: str = ""

    @property
    def has_variable(self) -> bool:
        return self.type == "URL" and bool(PLACEHOLDER_RE.search(self.url))


@dataclass
class TemplateSpec:
    name: str
    category: str
    language: str
    body: str
    header_format: str = "NONE"
    header_text: str = ""
    # A media header's example: a public URL or a resumable-upload handle.
    header_media: str = ""
    footer: str = ""
    buttons: list[ButtonSpec] = field(default_factory=list)
    # Example per variable: body variables by name ("1", "first_name"),
    # "header" for the header's one variable.
    examples: dict[str, str] = field(default_factory=dict)

    def normalized(self) -> TemplateSpec:
        return TemplateSpec(
            name=self.name.strip(),
            category=self.category.strip().upper(),
            language=self.language.strip(),
            body=self.body.strip(),
            header_format=(self.header_format or "NONE").strip().upper(),
            header_text=self.header_text.strip(),
            header_media=self.header_media.strip(),
            footer=self.footer.strip(),
            buttons=[
                ButtonSpec(
                    type=b.type.strip().upper(),
                    text=b.text.strip(),
                    url=b.url.strip(),
                    phone_number=b.phone_number.strip().replace(" ", ""),
                    example=b.example.strip(),
                )
                for b in self.buttons
                if b.type.strip() or b.text.strip() or b.url.strip() or b.phone_number.strip()
            ],
            examples={str(k): str(v).strip() for k, v in self.examples.items()},
        )

    @property
    def header_variable(self) -> str | None:
        if self.header_format != "TEXT":
            return None
        names = placeholders(self.header_text)
        return names[0] if names else None

    @property
    def body_variables(self) -> list[str]:
        names = placeholders(self.body)
        return sorted(names, key=int) if names and all(n.isdigit() for n in names) else names

    @property
    def parameter_format(self) -> str:
        names = self.body_variables + ([self.header_variable] if self.header_variable else [])
        return "NAMED" if any(not n.isdigit() for n in names) else "POSITIONAL"

    def example_keys(self) -> list[tuple[str, str]]:
        """(key, label) of every example the template needs, in form order."""
        out: list[tuple[str, str]] = []
        if self.header_variable:
            out.append(("header", f"Header {{{{{self.header_variable}}}}}"))
        out += [(name, f"{{{{{name}}}}}") for name in self.body_variables]
        return out


def _check_variables(text: str, where: str, errors: dict[str, str]) -> list[str]:
    """The variables of a text, or an error on ``where`` when one is malformed."""
    for raw in LOOSE_PLACEHOLDER_RE.findall(text):
        name = raw.strip()
        if not (name.isdigit() or NAMED_VARIABLE_RE.match(name)):
            errors.setdefault(
                where,
                f"{{{{{raw}}}}} is not a variable: use numbers in order ({{{{1}}}}, {{{{2}}}}) "
                "or lowercase names with underscores ({{first_name}}).",
            )
            return []
    return placeholders(text)


def validate(spec: TemplateSpec) -> dict[str, str]:
    """Every problem, by field: "name", "body", "header_text", "buttons.2.url",
    "examples.1" ... Empty when Meta's rules are met."""
    errors: dict[str, str] = {}
    if not spec.name:
        errors["name"] = "Give the template a name, like order_update."
    elif len(spec.name) > MAX_NAME or not NAME_RE.match(spec.name):
        errors["name"] = (
            "Use only lowercase letters, digits and underscores (like order_update_2), "
            f"at most {MAX_NAME} characters."
        )
    if spec.category not in CATEGORIES:
        errors["category"] = "Pick a category: Marketing, Utility or Authentication."
    if not LANGUAGE_RE.match(spec.language):
        errors["language"] = "Use a language code Meta knows, like en_US, pt_BR or es."
    _validate_header(spec, errors)
    _validate_body(spec, errors)
    if len(spec.footer) > MAX_FOOTER:
        errors["footer"] = (
            f"The footer holds at most {MAX_FOOTER} characters; this one has {len(spec.footer)}."
        )
    elif LOOSE_PLACEHOLDER_RE.search(spec.footer):
        errors["footer"] = "The footer cannot have variables."
    _validate_buttons(spec, errors)
    _validate_format(spec, errors)
    for key, label in spec.example_keys():
        example = spec.examples.get(key, "")
        if not example:
            errors.setdefault(
                f"examples.{key}",
                f"Give an example value for {label}: Meta reviews the template with it.",
            )
        elif len(example) > MAX_EXAMPLE or "\n" in example:
            errors.setdefault(
                f"examples.{key}",
                f"The example for {label} is one line of at most {MAX_EXAMPLE} characters.",
            )
    return errors


def _validate_header(spec: TemplateSpec, errors: dict[str, str]) -> None:
    if spec.header_format not in HEADER_FORMATS:
        errors["header_format"] = "The header is none, text, image, video or document."
        return
    if spec.header_format == "TEXT":
        if not spec.header_text:
            errors["header_text"] = "Type the header text, or choose no header."
        elif len(spec.header_text) > MAX_HEADER:
            errors["header_text"] = (
                f"The header holds at most {MAX_HEADER} characters; "
                f"this one has {len(spec.header_text)}."
            )
        elif "\n" in spec.header_text:
            errors["header_text"] = "The header is a single line."
        else:
            names = _check_variables(spec.header_text, "header_text", errors)
            if len(PLACEHOLDER_RE.findall(spec.header_text)) > 1:
                errors["header_text"] = "The header can have at most one variable."
            elif names and names[0].isdigit() and names[0] != "1":
                errors["header_text"] = "The header's variable is {{1}}."
    elif spec.header_format in MEDIA_FORMATS:
        kind = spec.header_format.lower()
        if not spec.header_media:
            errors["header_media"] = (
                f"Give an example {kind} (a public https URL or an upload handle): "
                "Meta reviews the template with it."
            )
        elif spec.header_media.startswith("http") and not spec.header_media.startswith(
            ("https://", "http://")
        ):
            errors["header_media"] = f"The example {kind} URL starts with https://."


def _validate_body(spec: TemplateSpec, errors: dict[str, str]) -> None:
    body = spec.body
    if not body:
        errors["body"] = "Write the message body."
        return
    if len(body) > MAX_BODY:
        errors["body"] = f"The body holds at most {MAX_BODY} characters; this one has {len(body)}."
        return
    names = _check_variables(body, "body", errors)
    if "body" in errors or not names:
        return
    if ADJACENT_RE.search(body):
        errors["body"] = (
            "Put some text between variables ({{1}} {{2}} next to each other is rejected by Meta)."
        )
        return
    stripped = body.strip()
    if PLACEHOLDER_RE.match(stripped) or re.search(r"\{\{\s*[A-Za-z0-9_]+\s*\}\}$", stripped):
        errors["body"] = (
            "The body cannot start or end with a variable: add text before and after it."
        )
        return
    numeric = [n for n in names if n.isdigit()]
    if numeric and len(numeric) != len(names):
        errors["body"] = (
            "Use either numbered variables ({{1}}, {{2}}) or named ones ({{first_name}}), not both."
        )
        return
    if numeric and sorted(int(n) for n in numeric) != list(range(1, len(numeric) + 1)):
        errors["body"] = (
            "Number the variables in order from {{1}} without gaps: "
            f"found {', '.join('{{' + n + '}}' for n in sorted(numeric, key=int))}."
        )


def _validate_format(spec: TemplateSpec, errors: dict[str, str]) -> None:
    header = spec.header_variable
    body = spec.body_variables
    if header and body and header.isdigit() != body[0].isdigit():
        errors.setdefault(
            "header_text",
            "The header and the body must use the same kind of variables (numbered or named).",
        )


def _validate_buttons(spec: TemplateSpec, errors: dict[str, str]) -> None:
    buttons = spec.buttons
    if len(buttons) > MAX_BUTTONS:
        errors["buttons"] = f"A template has at most {MAX_BUTTONS} buttons."
        return
    for i, b in enumerate(buttons):
        where = f"buttons.{i}"
        if b.type not in BUTTON_TYPES:
            errors[f"{where}.type"] = "A button is a quick reply, a URL or a phone number."
            continue
        if not b.text:
            errors[f"{where}.text"] = "Give the button a label."
        elif len(b.text) > MAX_BUTTON_TEXT:
            errors[f"{where}.text"] = (
                f"A button label holds at most {MAX_BUTTON_TEXT} characters ({len(b.text)} here)."
            )
        elif LOOSE_PLACEHOLDER_RE.search(b.text):
            errors[f"{where}.text"] = "A button label cannot have variables."
        if b.type == "URL":
            _validate_url_button(b, where, errors)
        elif b.type == "PHONE_NUMBER" and not PHONE_RE.match(b.phone_number):
            errors[f"{where}.phone_number"] = (
                "Give the phone number with its country code, like +15551234567."
            )
    kinds = [b.type for b in buttons]
    if kinds.count("URL") > MAX_URL_BUTTONS:
        errors.setdefault("buttons", f"A template has at most {MAX_URL_BUTTONS} URL buttons.")
    if kinds.count("PHONE_NUMBER") > MAX_PHONE_BUTTONS:
        errors.setdefault("buttons", "A template has at most one phone number button.")
    quick = [i for i, k in enumerate(kinds) if k == "QUICK_REPLY"]
    if quick and quick[-1] - quick[0] + 1 != len(quick):
        errors.setdefault(
            "buttons",
            "Keep the quick replies together (all before or all after the URL and phone "
            "buttons), as WhatsApp shows them.",
        )


def _validate_url_button(b: ButtonSpec, where: str, errors: dict[str, str]) -> None:
    if not b.url.startswith(("https://", "http://")) or len(b.url) > MAX_URL:
        errors[f"{where}.url"] = "Give the link as https://… (at most 2000 characters)."
        return
    found = LOOSE_PLACEHOLDER_RE.findall(b.url)
    if not found:
        return
    if len(found) > 1 or found[0].strip() != "1" or not re.search(r"\{\{\s*1\s*\}\}$", b.url):
        errors[f"{where}.url"] = "A link can have one variable, {{1}}, at its very end."
    elif not b.example:
        errors[f"{where}.example"] = (
            "Give an example for the end of the link ({{1}}): Meta reviews the button with it."
        )


def require_valid(spec: TemplateSpec) -> None:
    """Raise the first problem as an ActionError (the API's 400 with its field)."""
    errors = validate(spec)
    if errors:
        field_name, message = next(iter(errors.items()))
        raise ActionError(message, code="invalid_template", field=field_name)


# -- Meta's components -------------------------------------------------------------------


def components(spec: TemplateSpec) -> list[dict[str, Any]]:
    """The ``components`` of Meta's create-template request, with examples."""
    named = spec.parameter_format == "NAMED"
    out: list[dict[str, Any]] = []
    if spec.header_format == "TEXT":
        header: dict[str, Any] = {"type": "HEADER", "format": "TEXT", "text": spec.header_text}
        variable = spec.header_variable
        if variable:
            example = spec.examples.get("header", "")
            header["example"] = (
                {"header_text_named_params": [{"param_name": variable, "example": example}]}
                if named
                else {"header_text": [example]}
            )
        out.append(header)
    elif spec.header_format in MEDIA_FORMATS:
        out.append(
            {
                "type": "HEADER",
                "format": spec.header_format,
                "example": {"header_handle": [spec.header_media]},
            }
        )
    body: dict[str, Any] = {"type": "BODY", "text": spec.body}
    names = spec.body_variables
    if names:
        if named:
            body["example"] = {
                "body_text_named_params": [
                    {"param_name": n, "example": spec.examples.get(n, "")} for n in names
                ]
            }
        else:
            body["example"] = {"body_text": [[spec.examples.get(n, "") for n in names]]}
    out.append(body)
    if spec.footer:
        out.append({"type": "FOOTER", "text": spec.footer})
    if spec.buttons:
        buttons: list[dict[str, Any]] = []
        for b in spec.buttons:
            if b.type == "QUICK_REPLY":
                buttons.append({"type": "QUICK_REPLY", "text": b.text})
            elif b.type == "URL":
                button: dict[str, Any] = {"type": "URL", "text": b.text, "url": b.url}
                if b.has_variable:
                    button["example"] = [PLACEHOLDER_RE.sub(b.example, b.url)]
                buttons.append(button)
            elif b.type == "PHONE_NUMBER":
                buttons.append(
                    {"type": "PHONE_NUMBER", "text": b.text, "phone_number": b.phone_number}
                )
        out.append({"type": "BUTTONS", "buttons": buttons})
    return out


def create_request(spec: TemplateSpec) -> dict[str, Any]:
    """The body of POST /{waba_id}/message_templates."""
    return {
        "name": spec.name,
        "language": spec.language,
        "category": spec.category,
        "parameter_format": spec.parameter_format,
        "components": components(spec),
    }


def _component(items: Any, kind: str) -> dict[str, Any]:
    for comp in items or []:
        if isinstance(comp, dict) and str(comp.get("type", "")).upper() == kind:
            return comp
    return {}


def _first(value: Any) -> str:
    while isinstance(value, list) and value:
        value = value[0]
    return "" if value is None or isinstance(value, list) else str(value)


def from_components(
    *, name: str, category: str, language: str, items: list[dict[str, Any]]
) -> TemplateSpec:
    """A stored template (as sent to or synced from Meta) back into a spec."""
    spec = TemplateSpec(name=name, category=category, language=language, body="")
    header = _component(items, "HEADER")
    if header:
        spec.header_format = str(header.get("format") or "TEXT").upper()
        example = header.get("example") if isinstance(header.get("example"), dict) else {}
        example = example or {}
        if spec.header_format == "TEXT":
            spec.header_text = str(header.get("text") or "")
            named = example.get("header_text_named_params") or []
            sample = (
                str(named[0].get("example") or "")
                if named and isinstance(named[0], dict)
                else _first(example.get("header_text"))
            )
            if sample:
                spec.examples["header"] = sample
        else:
            spec.header_media = _first(example.get("header_handle"))
    body = _component(items, "BODY")
    spec.body = str(body.get("text") or "")
    example = body.get("example") if isinstance(body.get("example"), dict) else {}
    example = example or {}
    for item in example.get("body_text_named_params") or []:
        if isinstance(item, dict) and item.get("param_name"):
            spec.examples[str(item["param_name"])] = str(item.get("example") or "")
    rows = example.get("body_text") or []
    row = rows[0] if rows and isinstance(rows[0], list) else rows
    for i, value in enumerate(row):
        spec.examples[str(i + 1)] = str(value)
    spec.footer = str(_component(items, "FOOTER").get("text") or "")
    for b in _component(items, "BUTTONS").get("buttons") or []:
        if not isinstance(b, dict):
            continue
        kind = str(b.get("type") or "").upper()
        url = str(b.get("url") or "")
        suffix = ""
        if kind == "URL" and PLACEHOLDER_RE.search(url):
            full = _first(b.get("example"))
            prefix = PLACEHOLDER_RE.split(url)[0]
            suffix = full[len(prefix) :] if full.startswith(prefix) else full
        spec.buttons.append(
            ButtonSpec(
                type=kind,
                text=str(b.get("text") or ""),
                url=url,
                phone_number=str(b.get("phone_number") or ""),
                example=suffix,
            )
        )
    return spec
