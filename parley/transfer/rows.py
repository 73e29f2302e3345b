"""One row of an import, checked: a contact to write, or the reasons it is
refused. Pure Python (no queries), so the preview and the job agree."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from parley.core.errors import ActionError
from parley.crm.attributes import clean_value
from parley.crm.models import AttributeDefinition
from parley.transfer.mapping import ATTR_PREFIX

SCIENTIFIC = re.compile(r"^[+]?(\d+)(?:[.,](\d+))?[eE][+]?(\d+)$")
FLOAT_TAIL = re.compile(r"^(\+?\d+)[.,]0+$")
TAG_SPLIT = re.compile(r"[,;]")
_email = EmailValidator()
# A strict subset of what EmailValidator accepts, checked first because it
# is ten times cheaper; anything else is decided by EmailValidator.
SIMPLE_EMAIL = re.compile(
    r"^[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


class PhoneError(ValueError):
    pass


@dataclass(slots=True)
class Good:
    row_number: int
    wa_id: str
    e164: str
    name: str
    email: str
    attributes: str  # JSON object
    tags: tuple[str, ...]


def _from_scientific(text: str) -> str:
    """Excel's 4.47911123456E+11 as digits; refused when Excel rounded
    digits away (4.47911E+11), rather than guessing them."""
    match = SCIENTIFIC.match(text)
    if match is None:
        return text
    whole, fraction, _exp = match.groups()
    try:
        value = Decimal(text.replace(",", ".").lstrip("+"))
    except InvalidOperation:
        return text
    if value != value.to_integral_value():
        return text
    digits = str(int(value))
    if len(digits) > len((whole + (fraction or "")).lstrip("0")):
        raise PhoneError(
            f"{text!r} was shortened by Excel (scientific notation) and its last digits are "
            "lost; format the column as text and export again"
        )
    return digits


def normalize_number(raw: str, region: str) -> str:
    """E.164 for a number as people and spreadsheets write it."""
    text = raw.strip()
    if not text:
        raise PhoneError("no phone number")
    text = _from_scientific(text)
    tail = FLOAT_TAIL.match(text)
    if tail:
        text = tail.group(1)
    if text.startswith("00"):
        text = "+" + text[2:]
    fast = _fast(text, region)
    if fast is not None:
        return fast
    parsed = _parse(text, region)
    if parsed is None and not text.startswith("+"):
        # Full international numbers written without "+" (447911123456).
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) >= 8:
            parsed = _parse("+" + digits, None)
    if parsed is None:
        where = "" if text.startswith("+") else f" for {region} (add the country code)"
        raise PhoneError(f"{raw.strip()!r} is not a valid phone number{where}")
    return f"+{parsed.country_code}{phonenumbers.national_significant_number(parsed)}"


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


PLAIN = re.compile(r"^\+?[\d \-().\u00a0]+$")
_DIGITS = str.maketrans("", "", " -().\u00a0+")


def _fast(text: str, region: str) -> str | None:
    """The common shapes (+44 7911 123456, 447911123456, 07911 123456)
    without phonenumbers.parse, which costs more than the rest of a row
    together. Answers only when the number is valid by phonenumbers' own
    metadata; None sends it through the full parser (which also explains
    refusals)."""
    if not PLAIN.match(text):
        return None
    digits = text.translate(_DIGITS)
    if not 7 <= len(digits) <= 17:
        return None
    if text.startswith("+"):
        return _valid_international(digits)
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.country_code is None or meta.national_prefix_transform_rule:
        return None
    if meta.international_prefix and _regex(meta.international_prefix).match(digits):
        return None  # dialled with the exit code ("011 44..."): the full parser knows
    candidates = [digits]
    if meta.national_prefix_for_parsing:
        match = _regex(meta.national_prefix_for_parsing).match(digits)
        if match and match.end():
            candidates.insert(0, digits[match.end() :])
    national_ok = None
    for national in candidates:
        if national.startswith("0"):
            return None  # the full parser knows leading-zero countries
        if national and _valid_for_code(meta.country_code, national):
            national_ok = f"+{meta.country_code}{national}"
            break
    if digits.startswith(str(meta.country_code)):
        # 447911123456 with GB: the country code written without "+". Only
        # the unambiguous case here; phonenumbers weighs the others.
        international = _valid_international(digits)
        return international if international and not national_ok else None
    return national_ok or _valid_international(digits)


def _valid_international(digits: str) -> str | None:
    if digits.startswith("0"):
        return None
    for size in (1, 2, 3):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:size]))
        if regions:
            national = digits[size:]
            if national.startswith("0") or not national:
                return None  # Italian-style leading zeros: the full parser knows
            if _valid_for_code(int(digits[:size]), national):
                return f"+{digits[:size]}{national}"
            return None
    return None


def _valid_for_code(country_code: int, national: str) -> bool:
    """Valid in any region of the country code (+1 covers the US, Canada...),
    as phonenumbers.is_valid_number decides."""
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if meta is not None and _valid_in(national, meta):
            return True
    return False


_compiled: dict[str, re.Pattern[str]] = {}


def _regex(pattern: str) -> re.Pattern[str]:
    compiled = _compiled.get(pattern)
    if compiled is None:
        compiled = _compiled[pattern] = re.compile(pattern)
    return compiled


def _matches(national: str, desc: Any, general: Any) -> bool:
    if desc is None or desc.national_number_pattern is None:
        return False
    lengths = desc.possible_length or general.possible_length
    if lengths and len(national) not in lengths:
        return False
    return _regex(desc.national_number_pattern).fullmatch(national) is not None


def _valid_in(national: str, meta: Any) -> bool:
    """phonenumbers' is_valid_number_for_region (valid = the general pattern
    and some number type match), with mobile, what WhatsApp numbers are,
    tried first."""
    general = meta.general_desc
    if not _matches(national, general, general):
        return False
    return any(
        _matches(national, desc, general)
        for desc in (
            meta.mobile,
            meta.fixed_line,
            meta.toll_free,
            meta.premium_rate,
            meta.shared_cost,
            meta.personal_number,
            meta.voip,
            meta.pager,
            meta.uan,
            meta.voicemail,
        )
    )


class RowCleaner:
    """Built once per import from its mapping; ``clean`` runs per row."""

    def __init__(
        self,
        mapping: list[str],
        definitions: dict[str, AttributeDefinition],
        region: str,
    ) -> None:
        self.region = region
        self.phone = mapping.index("phone")
        self.name = _index(mapping, "name")
        self.first = _index(mapping, "first_name")
        self.last = _index(mapping, "last_name")
        self.email = _index(mapping, "email")
        self.tags = [i for i, t in enumerate(mapping) if t == "tags"]
        self.attrs = [
            (i, definitions[t[len(ATTR_PREFIX) :]])
            for i, t in enumerate(mapping)
            if t.startswith(ATTR_PREFIX)
        ]

    def clean(self, row_number: int, cells: list[str]) -> Good | str:
        """The contact, or the reasons (all of them) the row is refused."""
        reasons: list[str] = []
        e164 = ""
        try:
            e164 = normalize_number(_cell(cells, self.phone), self.region)
        except PhoneError as exc:
            reasons.append(str(exc))
        email = _cell(cells, self.email).strip()
        if email:
            try:
                if len(email) > 254:
                    raise ValidationError("too long")
                if not SIMPLE_EMAIL.match(email):
                    _email(email)
                email = email.lower()
            except ValidationError:
                reasons.append(f"{email!r} is not an email address")
        attributes: dict[str, Any] = {}
        for index, definition in self.attrs:
            try:
                value = clean_value(definition, _cell(cells, index))
            except ActionError as exc:
                reasons.append(exc.message.rstrip("."))
                continue
            if value is not None:
                attributes[definition.key] = value
        if reasons:
            return "; ".join(reasons)
        if self.name is not None and _cell(cells, self.name).strip():
            name = " ".join(_cell(cells, self.name).split())
        else:
            parts = [_cell(cells, i) for i in (self.first, self.last) if i is not None]
            name = " ".join(" ".join(parts).split())
        tags: dict[str, str] = {}
        for index in self.tags:
            for piece in TAG_SPLIT.split(_cell(cells, index)):
                tag = " ".join(piece.split())[:60]
                if tag:
                    tags.setdefault(tag.lower(), tag)
        return Good(
            row_number=row_number,
            wa_id=e164[1:],
            e164=e164,
            name=name[:200],
            email=email,
            attributes=json.dumps(attributes, separators=(",", ":")) if attributes else "{}",
            tags=tuple(tags.values()),
        )


def _index(mapping: list[str], target: str) -> int | None:
    return mapping.index(target) if target in mapping else None


def _cell(cells: list[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return cells[index]
