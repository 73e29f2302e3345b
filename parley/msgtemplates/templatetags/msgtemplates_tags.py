"""Template helpers of msgtemplates: the rows of the variable-mapping include."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template as django_template

from parley.msgtemplates import render

register = django_template.Library()


@dataclass(frozen=True)
class MappingRow:
    key: str
    label: str
    example: str
    kind: str
    name: str  # the form name prefix: "<prefix>-<key>"
    # (optgroup label, [(value, label, selected)])
    groups: list[tuple[str, list[tuple[str, str, bool]]]]
    value: str
    fallback: str
    selected: str


def _attribute_choices(attributes: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for item in attributes or []:
        if isinstance(item, str):
            out.append((item, item))
        elif isinstance(item, dict):
            out.append((str(item.get("key")), str(item.get("label") or item.get("key"))))
        else:
            key = str(getattr(item, "key", item))
            out.append((key, str(getattr(item, "label", "") or key)))
    return out


@register.simple_tag
def mapping_rows(
    template: Any,
    mapping: Any = None,
    attributes: Any = None,
    columns: Any = None,
    prefix: Any = "",
) -> list[MappingRow]:
    """One row per variable of ``template`` with the choices for its source,
    the current choice taken from ``mapping`` (or a first guess)."""
    if not template or not getattr(template, "components", None):
        return []
    mapping = mapping if isinstance(mapping, dict) else {}
    prefix = str(prefix or "var")
    attrs = _attribute_choices(attributes)
    cols = [str(c) for c in (columns or []) if str(c)]
    rows = []
    for variable in render.variables(template):
        entry = mapping.get(variable.key)
        if entry is None:
            entry = render.default_entry(variable)
        selected = render.source_choice(entry)
        field_opts = [
            (f"field:{key}", label, f"field:{key}" == selected)
            for key, label in render.FIELDS.items()
        ]
        attr_opts = [(f"attribute:{k}", lbl, f"attribute:{k}" == selected) for k, lbl in attrs]
        if selected.startswith("attribute:") and not any(o[2] for o in attr_opts):
            attr_opts.append((selected, selected.split(":", 1)[1], True))
        col_opts = [(f"column:{c}", c, f"column:{c}" == selected) for c in cols]
        if selected.startswith("column:") and not any(o[2] for o in col_opts):
            col_opts.append((selected, selected.split(":", 1)[1], True))
        groups: list[tuple[str, list[tuple[str, str, bool]]]] = [
            ("Fixed", [("static", "Fixed value", selected == "static")])
        ]
        if variable.kind != "media":
            groups.append(("Contact field", field_opts))
        if attr_opts:
            groups.append(("Contact attribute", attr_opts))
        if col_opts:
            groups.append(("CSV column", col_opts))
        rows.append(
            MappingRow(
                key=variable.key,
                label=variable.label,
                example=variable.example,
                kind=variable.kind,
                name=f"{prefix}-{variable.key}",
                groups=groups,
                value=str(entry.get("value") or "") if isinstance(entry, dict) else "",
                fallback=str(entry.get("fallback") or "") if isinstance(entry, dict) else "",
                selected=selected,
            )
        )
    return rows
