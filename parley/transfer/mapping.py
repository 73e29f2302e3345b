"""Which column feeds which contact field: guessed from the headers, then
checked when the user changes it.

A mapping is one target per column, in column order: "phone", "name",
"first_name", "last_name", "email", "tags", "attr:<key>" or "ignore"."""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers

from parley.core.errors import ActionError
from parley.crm.models import AttributeDefinition

IGNORE = "ignore"
BUILTIN: dict[str, str] = {
    "phone": "Phone",
    "name": "Name",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "tags": "Tags",
}
# Several columns may feed tags; every other target takes one column.
MULTI = {"tags", IGNORE}
ATTR_PREFIX = "attr:"

_WORDS: dict[str, tuple[str, ...]] = {
    "phone": (
        "phone",
        "phone number",
        "phonenumber",
        "mobile",
        "mobile number",
        "mobile phone",
        "cell",
        "cell phone",
        "cellphone",
        "whatsapp",
        "whatsapp number",
        "wa id",
        "waid",
        "number",
        "tel",
        "telephone",
        "msisdn",
        "contact number",
    ),
    "name": ("name", "full name", "fullname", "contact name", "customer name", "display name"),
    "first_name": ("first name", "firstname", "given name", "first", "forename"),
    "last_name": ("last name", "lastname", "surname", "family name", "last"),
    "email": ("email", "e mail", "email address", "e mail address", "mail"),
    "tags": ("tags", "tag", "labels", "label", "groups"),
}
_CONTAINS: dict[str, tuple[str, ...]] = {
    "phone": ("phone", "mobile", "whatsapp"),
    "email": ("email", "e mail"),
}


def _norm(header: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", header.lower()).split())


def target_label(target: str, definitions: dict[str, AttributeDefinition]) -> str:
    if target.startswith(ATTR_PREFIX):
        key = target[len(ATTR_PREFIX) :]
        definition = definitions.get(key)
        return definition.label if definition else key
    return BUILTIN.get(target, "Ignore")


def choices(definitions: Iterable[AttributeDefinition]) -> list[tuple[str, str]]:
    """(target, label) for a select: ignore, the built-in fields, each attribute."""
    return [
        (IGNORE, "Ignore this column"),
        *BUILTIN.items(),
        *((f"{ATTR_PREFIX}{d.key}", f"{d.label} (attribute)") for d in definitions),
    ]


def guess(headers: list[str], definitions: Iterable[AttributeDefinition]) -> list[str]:
    by_name: dict[str, str] = {}
    for d in definitions:
        by_name.setdefault(_norm(d.key), f"{ATTR_PREFIX}{d.key}")
        by_name.setdefault(_norm(d.label), f"{ATTR_PREFIX}{d.key}")
    taken: set[str] = set()
    mapping: list[str] = []
    for header in headers:
        norm = _norm(header)
        target = _exact(norm) or by_name.get(norm) or _partial(norm) or IGNORE
        if target in taken and target not in MULTI:
            target = IGNORE
        taken.add(target)
        mapping.append(target)
    if "name" in taken:
        # A full name column wins over split ones (they would say the same).
        mapping = [IGNORE if t in ("first_name", "last_name") else t for t in mapping]
    return mapping


def _exact(norm: str) -> str | None:
    for target, words in _WORDS.items():
        if norm in words:
            return target
    return None


def _partial(norm: str) -> str | None:
    for target, parts in _CONTAINS.items():
        if any(part in norm for part in parts):
            return target
    return None


def check_mapping(
    mapping: list[str], headers: list[str], definitions: dict[str, AttributeDefinition]
) -> list[str]:
    """The mapping, or ActionError naming the column to fix."""
    if len(mapping) != len(headers):
        raise ActionError(
            f"Give one target per column: the file has {len(headers)} columns, "
            f"the mapping {len(mapping)}.",
            code="invalid_mapping",
            field="mapping",
        )
    seen: dict[str, int] = {}
    for i, target in enumerate(mapping):
        field = f"mapping.{i}"
        if target.startswith(ATTR_PREFIX):
            key = target[len(ATTR_PREFIX) :]
            if key not in definitions:
                raise ActionError(
                    f"Column {headers[i]!r}: there is no custom attribute {key!r}; "
                    "define it in the workspace settings first.",
                    code="unknown_attribute",
                    field=field,
                )
        elif target != IGNORE and target not in BUILTIN:
            raise ActionError(
                f"Column {headers[i]!r}: {target!r} is not a contact field "
                f"(use {', '.join([IGNORE, *BUILTIN])} or attr:<key>).",
                code="invalid_target",
                field=field,
            )
        if target in seen and target not in MULTI:
            raise ActionError(
                f"Columns {headers[seen[target]]!r} and {headers[i]!r} both go to "
                f"{target_label(target, definitions)}: pick one.",
                code="duplicate_target",
                field=field,
            )
        seen.setdefault(target, i)
    if "phone" not in seen:
        raise ActionError(
            "Map a column to Phone: every contact needs a WhatsApp number.",
            code="phone_required",
            field="mapping",
        )
    return list(mapping)


def check_country(country: str) -> str:
    code = country.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ActionError(
            f"{country!r} is not a country code; use two letters like US, GB or DE.",
            code="invalid_country",
            field="default_country",
        )
    return code
