"""Turning a template and a variable mapping into Cloud API send bodies.

A mapping says where each template variable takes its value from, per contact:

    {"1": {"source": "field", "field": "first_name", "fallback": "there"},
     "2": {"source": "attribute", "key": "city", "fallback": ""},
     "3": {"source": "static", "value": "SUMMER24"},
     "4": {"source": "column", "column": "coupon", "fallback": ""}}

Keys are the body's variables ("1", "2" ... or "first_name" for named ones),
"header" for the header's variable or media, and "button:<index>" for a
button's variable (a URL suffix, a coupon code). ``compile_template`` checks a
mapping once per batch and returns a ``Renderer`` whose ``render`` only runs
precomputed getters (no queries, no parsing): the dispatcher calls it up to
the channel's cap, a thousand times a second.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parley.core.errors import ActionError

if TYPE_CHECKING:
    from parley.crm.models import Contact
    from parley.whatsapp.models import MessageTemplate

PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
SOURCES = ("field", "attribute", "column", "static")
FIELDS = {
    "name": "Name",
    "first_name": "First name",
    "phone": "Phone",
    "email": "Email",
    "wa_id": "WhatsApp id",
}
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")


class RenderError(Exception):
    """The mapping does not fit the template, or a contact lacks a value."""

    def __init__(self, reason: str, *, key: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.key = key


@dataclass(frozen=True, slots=True)
class Rendered:
    payload: dict[str, Any]
    text: str


@dataclass(frozen=True)
class Variable:
    """One value a send must supply."""

    key: str  # the mapping key: "1", "first_name", "header", "button:0"
    name: str  # the name inside the braces: "1", "first_name"
    component: str  # "header", "body" or "button"
    kind: str  # "text", "media" (a header image/video/document) or "coupon"
    example: str
    media_format: str = ""  # IMAGE, VIDEO or DOCUMENT for a media header
    button_index: int = -1

    @property
    def label(self) -> str:
        if self.kind == "media":
            return f"header {self.media_format.lower()}"
        if self.component == "header":
            return f"header {{{{{self.name}}}}}"
        if self.component == "button":
            what = "coupon code" if self.kind == "coupon" else f"URL {{{{{self.name}}}}}"
            return f"button {self.button_index + 1} {what}"
        return f"{{{{{self.name}}}}}"


# -- reading a template ------------------------------------------------------------------


def _component(components: Any, kind: str) -> dict[str, Any] | None:
    for comp in components or []:
        if isinstance(comp, dict) and str(comp.get("type", "")).upper() == kind:
            return comp
    return None


def placeholders(text: str) -> list[str]:
    """Distinct variable names in order of first appearance."""
    seen: dict[str, None] = {}
    for name in PLACEHOLDER_RE.findall(text or ""):
        seen.setdefault(name, None)
    return list(seen)


def is_named(template: MessageTemplate) -> bool:
    """NAMED when the template says so, or when any variable is not a number
    (templates synced from Meta may predate the stored format)."""
    if getattr(template, "parameter_format", "") == "NAMED":
        return True
    for kind in ("HEADER", "BODY"):
        comp = _component(template.components, kind)
        if comp and any(not n.isdigit() for n in placeholders(str(comp.get("text") or ""))):
            return True
    return False


def _first(value: Any) -> Any:
    while isinstance(value, list) and value:
        value = value[0]
    return value if not isinstance(value, list) else None


def _named_examples(example: Any, key: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(example, dict):
        for item in example.get(key) or []:
            if isinstance(item, dict) and item.get("param_name"):
                out[str(item["param_name"])] = str(item.get("example") or "")
    return out


def variables(template: MessageTemplate) -> list[Variable]:
    """Every variable of the template, header first, then body, then buttons."""
    out: list[Variable] = []
    components = template.components
    header = _component(components, "HEADER")
    if header is not None:
        fmt = str(header.get("format") or "TEXT").upper()
        example = header.get("example") if isinstance(header.get("example"), dict) else {}
        if fmt in MEDIA_FORMATS:
            handle = _first((example or {}).get("header_handle"))
            out.append(
                Variable(
                    key="header",
                    name="header",
                    component="header",
                    kind="media",
                    example=str(handle or ""),
                    media_format=fmt,
                )
            )
        elif fmt == "TEXT":
            names = placeholders(str(header.get("text") or ""))
            if names:
                named = _named_examples(example, "header_text_named_params")
                sample = named.get(names[0]) or _first((example or {}).get("header_text"))
                out.append(
                    Variable(
                        key="header",
                        name=names[0],
                        component="header",
                        kind="text",
                        example=str(sample or ""),
                    )
                )
    body = _component(components, "BODY")
    if body is not None:
        names = placeholders(str(body.get("text") or ""))
        example = body.get("example") if isinstance(body.get("example"), dict) else {}
        named = _named_examples(example, "body_text_named_params")
        positional = (example or {}).get("body_text") or []
        row = positional[0] if positional and isinstance(positional[0], list) else positional
        if names and all(n.isdigit() for n in names):
            names = sorted(names, key=int)
        for name in names:
            sample = named.get(name, "")
            if not sample and name.isdigit() and 0 < int(name) <= len(row):
                sample = str(row[int(name) - 1])
            out.append(Variable(key=name, name=name, component="body", kind="text", example=sample))
    buttons = _component(components, "BUTTONS")
    for index, button in enumerate((buttons or {}).get("buttons") or []):
        if not isinstance(button, dict):
            continue
        kind = str(button.get("type", "")).upper()
        if kind == "URL" and PLACEHOLDER_RE.search(str(button.get("url") or "")):
            name = placeholders(str(button.get("url")))[0]
            out.append(
                Variable(
                    key=f"button:{index}",
                    name=name,
                    component="button",
                    kind="text",
                    example=_url_suffix_example(button),
                    button_index=index,
                )
            )
        elif kind == "COPY_CODE":
            out.append(
                Variable(
                    key=f"button:{index}",
                    name="code",
                    component="button",
                    kind="coupon",
                    example=str(_first(button.get("example")) or ""),
                    button_index=index,
                )
            )
        elif kind == "OTP":
            # One-time-password buttons carry the code as a URL parameter.
            out.append(
                Variable(
                    key=f"button:{index}",
                    name="1",
                    component="button",
                    kind="text",
                    example="",
                    button_index=index,
                )
            )
    return out


def _url_suffix_example(button: dict[str, Any]) -> str:
    """Meta's example is the whole URL; the variable is what replaces {{1}}."""
    example = str(_first(button.get("example")) or "")
    url = str(button.get("url") or "")
    prefix = PLACEHOLDER_RE.split(url)[0]
    return example[len(prefix) :] if prefix and example.startswith(prefix) else example


# -- values of a contact -----------------------------------------------------------------

Getter = Callable[["Contact", Mapping[str, str]], str]


def _contact_name(contact: Contact) -> str:
    return contact.name or contact.profile_name or ""


def _first_name(contact: Contact, values: Mapping[str, str]) -> str:
    parts = _contact_name(contact).split(None, 1)
    return parts[0] if parts else ""


def _phone(contact: Contact, values: Mapping[str, str]) -> str:
    return contact.phone_e164 or (f"+{contact.wa_id}" if contact.wa_id else "")


FIELD_GETTERS: dict[str, Getter] = {
    "name": lambda c, v: _contact_name(c),
    "first_name": _first_name,
    "phone": _phone,
    "email": lambda c, v: c.email or "",
    "wa_id": lambda c, v: c.wa_id or "",
}


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(_as_text(v) for v in value)
    return str(value)


def _attribute_getter(key: str) -> Getter:
    def get(contact: Contact, values: Mapping[str, str]) -> str:
        attributes = contact.attributes
        return _as_text(attributes.get(key)) if attributes else ""

    return get


def _column_getter(column: str) -> Getter:
    def get(contact: Contact, values: Mapping[str, str]) -> str:
        return _as_text(values.get(column)) if values else ""

    return get


def _static_getter(value: str) -> Getter:
    return lambda contact, values: value


def _clean(value: str) -> str:
    # Meta refuses parameters with new lines, tabs or more than four spaces in a row.
    return " ".join(value.split())


# -- compiling ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    variable: Variable
    getter: Getter
    fallback: str
    what: str  # where the value comes from, for error messages


def _slot(variable: Variable, entry: Any) -> Slot:
    label = variable.label
    if not isinstance(entry, dict):
        raise RenderError(
            f"Map variable {label} to a contact field, an attribute, a CSV column or a "
            "fixed value.",
            key=variable.key,
        )
    source = str(entry.get("source") or "")
    fallback = _clean(_as_text(entry.get("fallback")))
    if source == "field":
        field = str(entry.get("field") or "")
        if field not in FIELD_GETTERS:
            raise RenderError(
                f"Variable {label}: the contact field must be one of {', '.join(FIELDS)}.",
                key=variable.key,
            )
        return Slot(variable, FIELD_GETTERS[field], fallback, field)
    if source == "attribute":
        key = str(entry.get("key") or "").strip()
        if not key:
            raise RenderError(f"Variable {label}: pick the attribute.", key=variable.key)
        return Slot(variable, _attribute_getter(key), fallback, key)
    if source == "column":
        column = str(entry.get("column") or "").strip()
        if not column:
            raise RenderError(f"Variable {label}: name the CSV column.", key=variable.key)
        return Slot(variable, _column_getter(column), fallback, f"column {column}")
    if source == "static":
        value = _as_text(entry.get("value")).strip()
        value = value if variable.kind == "media" else _clean(value)
        if not value:
            raise RenderError(f"Variable {label}: type the fixed value.", key=variable.key)
        return Slot(variable, _static_getter(value), "", "fixed value")
    raise RenderError(
        f"Variable {label}: the source must be one of {', '.join(SOURCES)}.", key=variable.key
    )


def _media_default(variable: Variable) -> dict[str, Any] | None:
    """A media header left unmapped sends the example the template was approved with,
    when that example is a public link."""
    if variable.kind == "media" and variable.example.startswith(("https://", "http://")):
        return {"source": "static", "value": variable.example}
    return None


def _media_param(media_format: str, value: str) -> dict[str, Any]:
    kind = media_format.lower()
    ref: dict[str, str] = (
        {"link": value} if value.startswith(("https://", "http://")) else {"id": value}
    )
    return {"type": kind, kind: ref}


class Renderer:
    """A template with its mapping checked and its getters ready."""

    def __init__(self, template: MessageTemplate, mapping: Mapping[str, Any]) -> None:
        if not isinstance(mapping, Mapping):
            raise RenderError("The mapping must be an object of variable -> source.")
        self.template_id = template.pk
        self.name = template.name
        self.language = template.language
        self.named = is_named(template)
        self.variables = variables(template)
        self.header: Slot | None = None
        self.body: list[Slot] = []
        self.buttons: list[Slot] = []
        for variable in self.variables:
            entry = mapping.get(variable.key)
            if entry is None and variable.component == "header" and self.named:
                entry = mapping.get(variable.name)
            if entry is None:
                entry = _media_default(variable)
            slot = _slot(variable, entry)
            if variable.component == "header":
                self.header = slot
            elif variable.component == "body":
                self.body.append(slot)
            else:
                self.buttons.append(slot)
        body = _component(template.components, "BODY")
        # The body split once: even items are literal text, odd ones variable names.
        self._parts = PLACEHOLDER_RE.split(str((body or {}).get("text") or ""))
        self._body_index = {slot.variable.name: i for i, slot in enumerate(self.body)}

    def _value(self, slot: Slot, contact: Contact, values: Mapping[str, str]) -> str:
        raw = slot.getter(contact, values)
        value = raw.strip() if slot.variable.kind == "media" else _clean(raw)
        if value:
            return value
        if slot.fallback:
            return slot.fallback
        raise RenderError(
            f"Variable {slot.variable.label} ({slot.what}) is empty for this contact "
            "and has no fallback.",
            key=slot.variable.key,
        )

    def render(self, contact: Contact, values: Mapping[str, str] | None = None) -> Rendered:
        values = values or {}
        named = self.named
        components: list[dict[str, Any]] = []
        header = self.header
        if header is not None:
            value = self._value(header, contact, values)
            if header.variable.kind == "media":
                param = _media_param(header.variable.media_format, value)
            else:
                param = {"type": "text", "text": value}
                if named:
                    param["parameter_name"] = header.variable.name
            components.append({"type": "header", "parameters": [param]})
        body_values: list[str] = []
        if self.body:
            params = []
            for slot in self.body:
                value = self._value(slot, contact, values)
                body_values.append(value)
                if named:
                    params.append(
                        {"type": "text", "parameter_name": slot.variable.name, "text": value}
                    )
                else:
                    params.append({"type": "text", "text": value})
            components.append({"type": "body", "parameters": params})
        for slot in self.buttons:
            value = self._value(slot, contact, values)
            if slot.variable.kind == "coupon":
                button = {
                    "type": "button",
                    "sub_type": "copy_code",
                    "index": str(slot.variable.button_index),
                    "parameters": [{"type": "coupon_code", "coupon_code": value}],
                }
            else:
                button = {
                    "type": "button",
                    "sub_type": "url",
                    "index": str(slot.variable.button_index),
                    "parameters": [{"type": "text", "text": value}],
                }
            components.append(button)
        template: dict[str, Any] = {"name": self.name, "language": {"code": self.language}}
        if components:
            template["components"] = components
        return Rendered(
            payload={"type": "template", "template": template},
            text=self._fill(body_values),
        )

    def _fill(self, body_values: list[str]) -> str:
        parts = self._parts
        if len(parts) == 1:
            return parts[0]
        index = self._body_index
        out = []
        for i, part in enumerate(parts):
            if i % 2 == 0:
                out.append(part)
            else:
                at = index.get(part)
                out.append(body_values[at] if at is not None else f"{{{{{part}}}}}")
        return "".join(out)


def compile_template(template: MessageTemplate, mapping: Mapping[str, Any]) -> Renderer:
    """Check that ``mapping`` covers every variable of ``template``; raises RenderError."""
    return Renderer(template, mapping)


def validate_mapping(template: MessageTemplate, mapping: Any) -> None:
    """For the forms and APIs of broadcasts, drips and scheduled messages."""
    try:
        compile_template(template, mapping)
    except RenderError as exc:
        raise ActionError(exc.reason, code="invalid_mapping", field="mapping") from exc


# -- forms -------------------------------------------------------------------------------


def source_choice(entry: Any) -> str:
    """The select value of a mapping entry: "field:name", "attribute:city",
    "column:coupon" or "static"."""
    if not isinstance(entry, dict):
        return ""
    source = entry.get("source")
    if source == "field":
        return f"field:{entry.get('field') or ''}"
    if source == "attribute":
        return f"attribute:{entry.get('key') or ''}"
    if source == "column":
        return f"column:{entry.get('column') or ''}"
    return "static" if source == "static" else ""


def default_entry(variable: Variable) -> dict[str, Any]:
    """A first guess for a variable: a contact field of the same name, else its example."""
    name = variable.name.lower()
    if variable.kind == "text" and name in FIELDS:
        return {"source": "field", "field": name, "fallback": "there" if "name" in name else ""}
    return {"source": "static", "value": variable.example}


def mapping_from_form(
    template: MessageTemplate, data: Mapping[str, Any], prefix: str = "var"
) -> dict[str, Any]:
    """Read the rows of ``_mapping_fields.html``: per variable ``<prefix>-<key>-source``,
    ``-value`` (the fixed value) and ``-fallback``. Unmapped variables are left out,
    so ``validate_mapping`` names them."""
    mapping: dict[str, Any] = {}
    for variable in variables(template):
        base = f"{prefix}-{variable.key}"
        choice = str(data.get(f"{base}-source") or "").strip()
        value = str(data.get(f"{base}-value") or "").strip()
        fallback = str(data.get(f"{base}-fallback") or "").strip()
        kind, _, ref = choice.partition(":")
        if kind == "field" and ref:
            mapping[variable.key] = {"source": "field", "field": ref, "fallback": fallback}
        elif kind == "attribute" and ref:
            mapping[variable.key] = {"source": "attribute", "key": ref, "fallback": fallback}
        elif kind == "column" and ref:
            mapping[variable.key] = {"source": "column", "column": ref, "fallback": fallback}
        elif kind == "static" or (not kind and value):
            mapping[variable.key] = {"source": "static", "value": value}
    return mapping
