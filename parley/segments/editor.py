"""The segment editor's form: condition rows named c-<n>-field, c-<n>-op,
c-<n>-value(2) and c-<n>-values, to and from a definition, with an error
attached to the row it concerns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from parley.core.errors import ActionError
from parley.segments.catalog import Catalog, choice_of

ROW_KEY = re.compile(r"^c-(\d{1,4})-field$")
CONDITION_FIELD = re.compile(r"^conditions\[(\d+)\](?:\.(\w+))?")
MAX_ROWS = 30


@dataclass
class Row:
    index: int
    choice: str = ""  # the field select's value: "tags", "attribute:plan", ...
    op: str = ""
    value: str = ""
    value2: str = ""
    values: list[str] = field(default_factory=list)
    error: str = ""

    def context(self, catalog: Catalog) -> dict[str, Any]:
        ops = catalog.ops_for(self.choice)
        if ops and self.op not in dict(ops):
            self.op = ops[0][0]
        known = self.choice in {v for _, fields in catalog.field_groups() for v, _ in fields}
        return {
            "row": self,
            "groups": catalog.field_groups(),
            "unknown_choice": self.choice if self.choice and not known else "",
            "ops": ops,
            "input": catalog.input_for(self.choice, self.op) if ops else {"kind": "none"},
        }


def rows_from_form(data: QueryDict) -> list[Row]:
    indices = sorted({int(m.group(1)) for k in data if (m := ROW_KEY.match(k))})[:MAX_ROWS]
    return [
        Row(
            index=n,
            choice=data.get(f"c-{n}-field", ""),
            op=data.get(f"c-{n}-op", ""),
            value=data.get(f"c-{n}-value", ""),
            value2=data.get(f"c-{n}-value2", ""),
            values=data.getlist(f"c-{n}-values"),
        )
        for n in indices
    ]


def rows_from_definition(definition: dict[str, Any]) -> list[Row]:
    rows = []
    for n, c in enumerate(definition.get("conditions") or []):
        value = c.get("value")
        row = Row(index=n, choice=choice_of(c), op=str(c.get("op", "")))
        if isinstance(value, list) and c.get("op") == "between":
            row.value, row.value2 = str(value[0]), str(value[1])
        elif isinstance(value, list):
            row.values = [str(v) for v in value]
        elif value is not None:
            row.value = str(value)
        rows.append(row)
    return rows


def definition_from_rows(match: str, rows: list[Row]) -> dict[str, Any]:
    conditions = []
    for row in rows:
        condition: dict[str, Any] = {"op": row.op}
        if row.choice.startswith("attribute:"):
            condition["field"] = "attribute"
            condition["key"] = row.choice.partition(":")[2]
        elif row.choice:
            condition["field"] = row.choice
        if row.op == "between":
            condition["value"] = [row.value.strip(), row.value2.strip()]
        elif row.choice in ("tags", "consent", "conversation_status") or row.op in ("in", "not_in"):
            condition["value"] = row.values
        elif row.value.strip():
            condition["value"] = row.value.strip()
        conditions.append(condition)
    return {"match": match if match in ("all", "any") else "all", "conditions": conditions}


def attach_error(rows: list[Row], error: ActionError) -> bool:
    """Put a definition error on its row; False when it concerns no row."""
    found = CONDITION_FIELD.match(error.field or "")
    if not found or int(found.group(1)) >= len(rows):
        return False
    rows[int(found.group(1))].error = error.message
    return True
