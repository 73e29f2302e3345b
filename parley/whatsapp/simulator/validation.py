"""Checks Meta makes on a `/messages` request body before accepting it.

Missing or unknown parameters are code 100; present-but-invalid values (too many buttons,
an over-long title) are 131009, as Cloud API reports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import errors

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
MESSAGE_TYPES = (
    "audio",
    "contacts",
    "document",
    "image",
    "interactive",
    "location",
    "reaction",
    "sticker",
    "template",
    "text",
    "video",
)
INTERACTIVE_TYPES = (
    "button",
    "list",
    "cta_url",
    "product",
    "product_list",
    "flow",
    "location_request_message",
    "address_message",
    "call_permission_request",
)
CAPTIONED = ("image", "video", "document")
_PHONE_FORMATTING = str.maketrans("", "", " -().")
MAX_TEXT = 4096
MAX_CAPTION = 1024


@dataclass(slots=True)
class OutboundMessage:
    to: str
    wa_id: str
    type: str
    content: Any  # the object named by `type` (an array for contacts)
    context_id: str | None
    # Meta echoes this in every status webhook of the message (max 512 chars).
    callback_data: str | None = None

    @property
    def recipient_is_valid(self) -> bool:
        """8 to 15 digits once the formatting Meta tolerates (+, spaces, dashes, brackets,
        dots) is removed; anything else is accepted and then fails with 131026."""
        bare = self.to.lstrip("+").translate(_PHONE_FORMATTING)
        return bare.isdigit() and 8 <= len(bare) <= 15


@dataclass(slots=True)
class ReadReceipt:
    message_id: str
    typing_indicator: bool


def _require(obj: dict[str, Any], key: str, path: str) -> Any:
    value = obj.get(key)
    if value is None or value == "":
        raise errors.invalid_parameter(f"The parameter {path} is required.")
    return value


def _as_object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.invalid_parameter(f"Param {path} must be a JSON object.")
    return value


def parse(body: Any) -> OutboundMessage | ReadReceipt:
    if not isinstance(body, dict):
        raise errors.invalid_parameter("The request body must be a JSON object.")
    product = _require(body, "messaging_product", "messaging_product")
    if product != "whatsapp":
        raise errors.invalid_parameter(
            f'Param messaging_product must be one of {{WHATSAPP}} - got "{product}".'
        )
    if body.get("status") == "read":
        message_id = _require(body, "message_id", "message_id")
        return ReadReceipt(str(message_id), typing_indicator="typing_indicator" in body)
    if "status" in body:
        raise errors.invalid_parameter(
            f'Param status must be one of {{READ}} - got "{body["status"]}".'
        )

    recipient_type = str(body.get("recipient_type", "individual")).lower()
    if recipient_type != "individual":
        raise errors.invalid_parameter(
            f'Param recipient_type must be one of {{INDIVIDUAL}} - got "{body["recipient_type"]}".'
        )
    to = _require(body, "to", "to")
    if not isinstance(to, str | int) or isinstance(to, bool):
        raise errors.invalid_parameter("Param to must be a string.")
    to = str(to)
    msg_type = str(body.get("type") or "text")
    if msg_type not in MESSAGE_TYPES:
        allowed = ", ".join(t.upper() for t in MESSAGE_TYPES)
        raise errors.invalid_parameter(
            f'Param type must be one of {{{allowed}}} - got "{msg_type}".'
        )
    content: Any = _require(body, msg_type, msg_type)
    if msg_type == "contacts":
        _check_contacts(content)  # the one type whose payload is an array
    else:
        _CHECKS[msg_type](_as_object(content, msg_type), msg_type)

    context_id: str | None = None
    if body.get("context") is not None:
        context = _as_object(body["context"], "context")
        context_id = str(_require(context, "message_id", "context['message_id']"))
    wa_id = "".join(ch for ch in to if ch.isdigit())
    callback = body.get("biz_opaque_callback_data")
    if callback is not None and (not isinstance(callback, str) or len(callback) > 512):
        raise errors.invalid_parameter(
            "Param biz_opaque_callback_data must be a string of at most 512 characters."
        )
    return OutboundMessage(
        to=to,
        wa_id=wa_id,
        type=msg_type,
        content=content,
        context_id=context_id,
        callback_data=callback,
    )


def _check_text(content: dict[str, Any], path: str) -> None:
    text = _require(content, "body", f"{path}['body']")
    if not isinstance(text, str):
        raise errors.invalid_parameter(f"Param {path}['body'] must be a string.")
    if len(text) > MAX_TEXT:
        raise errors.invalid_value(f"Message text is too long. Max length: {MAX_TEXT}.")
    if "preview_url" in content and not isinstance(content["preview_url"], bool):
        raise errors.invalid_parameter(f"Param {path}['preview_url'] must be a boolean.")


def _check_media(content: dict[str, Any], path: str) -> None:
    has_id, has_link = bool(content.get("id")), bool(content.get("link"))
    if has_id == has_link:
        raise errors.invalid_parameter(f"Param {path} must have exactly one of id or link.")
    caption = content.get("caption")
    if caption is not None:
        if path not in CAPTIONED:
            raise errors.invalid_parameter(f"Param {path}['caption'] is not supported for {path}.")
        if not isinstance(caption, str) or len(caption) > MAX_CAPTION:
            raise errors.invalid_value(f"Media caption is too long. Max length: {MAX_CAPTION}.")


def _check_template(content: dict[str, Any], path: str) -> None:
    _require(content, "name", f"{path}['name']")
    language = _as_object(
        _require(content, "language", f"{path}['language']"), f"{path}['language']"
    )
    _require(language, "code", f"{path}['language']['code']")


def _check_reaction(content: dict[str, Any], path: str) -> None:
    _require(content, "message_id", f"{path}['message_id']")
    if not isinstance(content.get("emoji", ""), str):
        raise errors.invalid_parameter(f"Param {path}['emoji'] must be a string.")


def _check_location(content: dict[str, Any], path: str) -> None:
    for key in ("latitude", "longitude"):
        value = _require(content, key, f"{path}['{key}']")
        try:
            float(value)
        except (TypeError, ValueError):
            raise errors.invalid_parameter(f"Param {path}['{key}'] must be a number.") from None


def _check_contacts(contacts: Any) -> None:
    if not isinstance(contacts, list) or not contacts:
        raise errors.invalid_parameter("Param contacts must be a non-empty array.")
    for contact in contacts:
        contact = _as_object(contact, "contacts[]")
        name = _as_object(_require(contact, "name", "contacts[]['name']"), "contacts[]['name']")
        _require(name, "formatted_name", "contacts[]['name']['formatted_name']")


def _check_interactive(content: dict[str, Any], path: str) -> None:
    kind = _require(content, "type", f"{path}['type']")
    if kind not in INTERACTIVE_TYPES:
        allowed = ", ".join(INTERACTIVE_TYPES)
        raise errors.invalid_parameter(
            f"Param {path}['type'] must be one of {{{allowed}}} - got \"{kind}\"."
        )
    if kind not in ("product", "product_list"):
        body = _as_object(_require(content, "body", f"{path}['body']"), f"{path}['body']")
        _require(body, "text", f"{path}['body']['text']")
    action = _as_object(_require(content, "action", f"{path}['action']"), f"{path}['action']")
    if kind == "button":
        _check_reply_buttons(action, path)
    elif kind == "list":
        _check_list(action, path)


def _check_reply_buttons(action: dict[str, Any], path: str) -> None:
    buttons = _require(action, "buttons", f"{path}['action']['buttons']")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise errors.invalid_value("Interactive message must have between 1 and 3 buttons.")
    seen: set[str] = set()
    for button in buttons:
        button = _as_object(button, f"{path}['action']['buttons'][]")
        if button.get("type") != "reply":
            raise errors.invalid_parameter(
                "Param interactive['action']['buttons'][]['type'] must be reply."
            )
        reply = _as_object(button.get("reply"), f"{path}['action']['buttons'][]['reply']")
        button_id = str(_require(reply, "id", "interactive['action']['buttons'][]['reply']['id']"))
        title = str(
            _require(reply, "title", "interactive['action']['buttons'][]['reply']['title']")
        )
        if len(title) > 20:
            raise errors.invalid_value("Button title length invalid. Min length: 1, Max length: 20")
        if button_id in seen:
            raise errors.invalid_value("Button IDs must be unique.")
        seen.add(button_id)


def _check_list(action: dict[str, Any], path: str) -> None:
    label = str(_require(action, "button", f"{path}['action']['button']"))
    if len(label) > 20:
        raise errors.invalid_value("Button title length invalid. Min length: 1, Max length: 20")
    sections = _require(action, "sections", f"{path}['action']['sections']")
    if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
        raise errors.invalid_value("Interactive list must have between 1 and 10 sections.")
    rows = 0
    for section in sections:
        section = _as_object(section, f"{path}['action']['sections'][]")
        section_rows = section.get("rows") or []
        if not isinstance(section_rows, list) or not section_rows:
            raise errors.invalid_parameter(
                "The parameter interactive['action']['sections'][]['rows'] is required."
            )
        for row in section_rows:
            row = _as_object(row, f"{path}['action']['sections'][]['rows'][]")
            _require(row, "id", "interactive['action']['sections'][]['rows'][]['id']")
            title = str(
                _require(row, "title", "interactive['action']['sections'][]['rows'][]['title']")
            )
            if len(title) > 24:
                raise errors.invalid_value(
                    "Row title length invalid. Min length: 1, Max length: 24"
                )
            rows += 1
    if rows > 10:
        raise errors.invalid_value("Total row count exceed max allowed count: 10")


_CHECKS = {
    "text": _check_text,
    "template": _check_template,
    "interactive": _check_interactive,
    "reaction": _check_reaction,
    "location": _check_location,
    **{media: _check_media for media in MEDIA_TYPES},
}
