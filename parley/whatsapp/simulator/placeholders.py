"""Small stand-in files for inbound media sent without explicit bytes."""

from __future__ import annotations

import struct
import zlib

DEFAULT_MIME = {
    "image": "image/jpeg",
    "audio": "audio/ogg; codecs=opus",
    "video": "video/mp4",
    "document": "application/pdf",
    "sticker": "image/webp",
}


def _png(width: int = 120, height: int = 80) -> bytes:
    """A tiny landscape (sky over grass) so a placeholder photo looks like a photo."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    sky, grass = bytes((135, 206, 235)), bytes((37, 160, 90))
    rows = [b"\x00" + (sky if y < height * 0.6 else grass) * width for y in range(height)]
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def placeholder(media_type: str) -> tuple[bytes, str]:
    """(bytes, mime type). The image is a real PNG so a browser or thumbnailer can open it."""
    if media_type == "image":
        return _png(), "image/png"
    if media_type == "sticker":
        return (
            b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00",
            "image/webp",
        )
    if media_type == "audio":
        return b"OggS\x00\x02" + b"\x00" * 58 + b"OpusHead\x01\x01", DEFAULT_MIME["audio"]
    if media_type == "video":
        return b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "video/mp4"
    body = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    return body, "application/pdf"
