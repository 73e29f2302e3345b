"""Turn a control-API description of what a customer did into Meta's inbound message object."""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import errors, ids
from .placeholders import DEFAULT_MIME, placeholder
from .preview import describe
from .state import ControlError, Number, digits
from .validation import MEDIA_TYPES

if TYPE_CHECKING:
    from .core import Simulator

INBOUND_TYPES = (
    "text",
    *MEDIA_TYPES,
    "location",
    "contacts",
    "interactive",
    "button",
    "reaction",
    "order",
    "unsupported",
)


@dataclass(slots=True)
class BuiltInbound:
    wa_id: str
    name: str
    message: dict[str, Any]
    record: dict[str, Any]
    media_id: str | None


def build(sim: Simulator, number: Number, item: dict[str, Any], base_url: str) -> BuiltInbound:
    if not isinstance(item, dict):
        raise ControlError("each inbound message must be a JSON object")
    wa_id = digits(str(item.get("from") or ""))
    if not 8 <= len(wa_id) <= 15:
        raise ControlError("from must be the customer's wa_id: 8 to 15 digits")
    msg_type = str(item.get("type") or "text")
    if msg_type not in INBOUND_TYPES:
        raise ControlError(f"type must be one of {', '.join(INBOUND_TYPES)}")
    name = str(item.get("name") or "")
    wamid = str(item.get("id") or ids.wamid(wa_id))
    timestamp = int(item.get("timestamp") or time.time())

    message: dict[str, Any] = {}
    context = _context(number, item)
    if context:
        message["context"] = context
    message.update({"from": wa_id, "id": wamid, "timestamp": str(timestamp), "type": msg_type})
    media_id: str | None = None
    raw = item.get(msg_type)
    if msg_type == "text":
        body = raw.get("body") if isinstance(raw, dict) else raw
        if not isinstance(body, str) or not body:
            raise ControlError("text needs a body: {'text': {'body': '...'}} or {'text': '...'}")
        message["text"] = {"body": body}
    elif msg_type in MEDIA_TYPES:
        message[msg_type], media_id = _media(sim, number, msg_type, raw, base_url)
    elif msg_type == "location":
        message["location"] = _location(raw)
    elif msg_type == "contacts":
        if not isinstance(raw, list) or not raw:
            raise ControlError("contacts must be a non-empty array of contact cards")
        message["contacts"] = raw
    elif msg_type == "interactive":
        message["interactive"] = _interactive(raw)
    elif msg_type == "button":
        if not isinstance(raw, dict) or not raw.get("text"):
            raise ControlError("button needs {'payload': ..., 'text': ...}")
        message["button"] = {
            "payload": str(raw.get("payload", raw["text"])),
            "text": str(raw["text"]),
        }
    elif msg_type == "reaction":
        if not isinstance(raw, dict) or not raw.get("message_id"):
            raise ControlError("reaction needs {'message_id': ..., 'emoji': ...}")
        message["reaction"] = {
            "message_id": str(raw["message_id"]),
            "emoji": str(raw.get("emoji", "")),
        }
    elif msg_type == "order":
        if not isinstance(raw, dict) or not isinstance(raw.get("product_items"), list):
            raise ControlError("order needs {'catalog_id': ..., 'product_items': [...]}")
        message["order"] = {
            "catalog_id": str(raw.get("catalog_id", "")),
            "text": str(raw.get("text", "")),
            **raw,
        }
    else:  # unsupported: Meta sends the type plus an error explaining it
        message["errors"] = [errors.webhook_error(131051, href=False)]
        if isinstance(raw, dict) and raw.get("type"):
            message["unsupported"] = {"type": str(raw["type"])}
    if isinstance(item.get("referral"), dict):
        message["referral"] = item["referral"]

    record: dict[str, Any] = {
        "id": wamid,
        "direction": "inbound",
        "phone_number_id": number.phone_number_id,
        "customer": wa_id,
        "from": wa_id,
        "to": number.metadata_phone,
        "type": msg_type,
        "content": message.get(msg_type),
        "context": {"message_id": context["id"]} if context and "id" in context else None,
        "text": describe(msg_type, message.get(msg_type)),
        "choices": [],
        "template": None,
        "status": "received",
        "errors": message.get("errors"),
        "timestamp": timestamp,
        "name": name,
    }
    return BuiltInbound(wa_id=wa_id, name=name, message=message, record=record, media_id=media_id)


def _context(number: Number, item: dict[str, Any]) -> dict[str, Any] | None:
    context: dict[str, Any] = {}
    raw = item.get("context")
    if isinstance(raw, dict) and (raw.get("id") or raw.get("message_id")):
        context = {"from": number.metadata_phone, "id": str(raw.get("id") or raw.get("message_id"))}
    elif raw is not None:
        raise ControlError("context must be {'id': '<wamid being replied to>'}")
    if item.get("frequently_forwarded"):
        context["frequently_forwarded"] = True
    elif item.get("forwarded"):
        context["forwarded"] = True
    return context or None


def _media(
    sim: Simulator, number: Number, media_type: str, raw: Any, base_url: str
) -> tuple[dict[str, Any], str]:
    spec = raw if isinstance(raw, dict) else {}
    if spec.get("data_base64"):
        try:
            data = base64.b64decode(str(spec["data_base64"]), validate=True)
        except (binascii.Error, ValueError):
            raise ControlError(f"{media_type}.data_base64 is not valid base64") from None
        mime_type = str(spec.get("mime_type") or DEFAULT_MIME[media_type])
    else:
        data, mime_type = placeholder(media_type)
        mime_type = str(spec.get("mime_type") or mime_type)
    filename = str(spec["filename"]) if spec.get("filename") else None
    if media_type == "document" and filename is None:
        filename = "document.pdf"
    item = sim.store_media(number, data, mime_type, filename)
    out: dict[str, Any] = {}
    if spec.get("caption") and media_type in ("image", "video", "document"):
        out["caption"] = str(spec["caption"])
    if filename and media_type == "document":
        out["filename"] = filename
    out.update(
        {
            "mime_type": mime_type,
            # Webhooks carry the digest base64-encoded; the media endpoint returns hex.
            "sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
            "id": item.id,
            "url": sim.media_url(item, base_url),
        }
    )
    if media_type == "audio":
        out["voice"] = bool(spec.get("voice", False))
    if media_type == "sticker":
        out["animated"] = bool(spec.get("animated", False))
    return out, item.id


def _location(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ControlError("location needs {'latitude': ..., 'longitude': ...}")
    try:
        out: dict[str, Any] = {
            "latitude": float(raw["latitude"]),
            "longitude": float(raw["longitude"]),
        }
    except (KeyError, TypeError, ValueError):
        raise ControlError("location needs numeric latitude and longitude") from None
    for key in ("name", "address", "url"):
        if raw.get(key):
            out[key] = str(raw[key])
    return out


def _interactive(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ControlError("interactive needs {'type': 'button_reply'|'list_reply', ...}")
    kind = raw.get("type")
    if kind in ("button_reply", "list_reply"):
        reply = raw.get(kind)
        if not isinstance(reply, dict) or not reply.get("id") or not reply.get("title"):
            raise ControlError(f"interactive.{kind} needs an id and a title")
        out = {"id": str(reply["id"]), "title": str(reply["title"])}
        if kind == "list_reply" and reply.get("description"):
            out["description"] = str(reply["description"])
        return {"type": kind, kind: out}
    if kind == "nfm_reply" and isinstance(raw.get("nfm_reply"), dict):
        return {"type": kind, "nfm_reply": raw["nfm_reply"]}
    raise ControlError("interactive.type must be button_reply, list_reply or nfm_reply")
