"""Complaint attachments: images only, checked by their content, not their name.

Pillow is not a dependency of the project, so the check reads each format's own header
the way a decoder starts: PNG's signature and its IHDR chunk with a matching CRC, JPEG's
SOI and a start-of-frame segment found by walking the segments, WebP's RIFF container and
its VP8/VP8L/VP8X header, HEIC's ``ftyp`` brand and ``ispe`` size. The width and height
must be read from those headers and be positive. A file named .jpg that is text, a script
or a PDF fails; so does a truncated header. The size and the number of files are limits
from settings (COMPLAINT_ATTACHMENT_MAX_MB, COMPLAINT_ATTACHMENT_MAX_FILES). What is
stored has its metadata removed (Exif GPS positions, XMP, comments): ``strip_metadata``.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile

from crm.complaints.models import Complaint, ComplaintAttachment
from crm.core.errors import DomainError

if TYPE_CHECKING:
    from crm.accounts.models import User

ACCEPT = "image/jpeg,image/png,image/webp,image/heic,.jpg,.jpeg,.png,.webp,.heic"
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
MAX_SIDE = 30000


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int


def max_files() -> int:
    return int(settings.COMPLAINT_ATTACHMENT_MAX_FILES)


def max_bytes() -> int:
    return int(settings.COMPLAINT_ATTACHMENT_MAX_BYTES)


def limits_text() -> str:
    return f"最多 {max_files()} 张，每张不超过 {max_bytes() // (1024 * 1024)} MB，支持 JPG、PNG、WebP、HEIC"


def sniff(data: bytes) -> ImageInfo | None:
    """The image type and size read from the header, or None if it is not one we accept."""
    for reader in (_png, _jpeg, _webp, _heic):
        try:
            info = reader(data)
        except (struct.error, IndexError, ValueError):
            info = None
        if info is not None:
            if 0 < info.width <= MAX_SIDE and 0 < info.height <= MAX_SIDE:
                return info
            return None
    return None


def _png(data: bytes) -> ImageInfo | None:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    length, kind = struct.unpack(">I4s", data[8:16])
    body = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    if kind != b"IHDR" or length != 13 or zlib.crc32(kind + body) != crc:
        return None
    if b"IEND" not in data[-16:]:
        return None
    width, height = struct.unpack(">II", body[:8])
    return ImageInfo("image/png", width, height)


# Start-of-frame markers (baseline, progressive …), not DHT (C4), JPG (C8) or DAC (CC).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(data: bytes) -> ImageInfo | None:
    if not data.startswith(b"\xff\xd8\xff"):
        return None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image / start of scan before any frame
            return None
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if length < 2:
            return None
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return ImageInfo("image/jpeg", width, height)
        i += 2 + length
    return None


def _webp(data: bytes) -> ImageInfo | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    kind = data[12:16]
    if kind == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            return None
        width, height = struct.unpack("<HH", data[26:30])
        return ImageInfo("image/webp", width & 0x3FFF, height & 0x3FFF)
    if kind == b"VP8L":
        if data[20] != 0x2F:
            return None
        (bits,) = struct.unpack("<I", data[21:25])
        return ImageInfo("image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if kind == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return ImageInfo("image/webp", width, height)
    return None


def _heic(data: bytes) -> ImageInfo | None:
    if data[4:8] != b"ftyp":
        return None
    (box,) = struct.unpack(">I", data[:4])
    brands = {data[8:12]} | {data[j : j + 4] for j in range(16, min(box, 64), 4)}
    if not brands & HEIC_BRANDS:
        return None
    head = data[: 256 * 1024]
    if b"meta" not in head:
        return None
    at = head.find(b"ispe")
    if at < 0:
        return None
    width, height = struct.unpack(">II", head[at + 8 : at + 16])
    return ImageInfo("image/heic", width, height)


# ---------------------------------------------------------------- metadata

# JPEG segments that carry metadata, not pixels: APP1 (Exif with GPS, XMP), APP13 (IPTC),
# COM. PNG and WebP chunks of the same kind.
_JPEG_DROP = {0xE1, 0xED, 0xFE}
_PNG_DROP = {b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"tIME"}
_WEBP_DROP = {b"EXIF", b"XMP "}


def strip_metadata(data: bytes, content_type: str) -> bytes:
    """The image without its metadata (a phone photo's Exif carries where it was taken):
    JPEG, PNG and WebP are rewritten segment by segment, pixels untouched; HEIC is kept as
    it is. If the result would not read as the same image, the original is returned."""
    try:
        stripped = {"image/jpeg": _strip_jpeg, "image/png": _strip_png, "image/webp": _strip_webp}.get(
            content_type, lambda d: d
        )(data)
    except (struct.error, IndexError, ValueError):
        return data
    before, after = sniff(data), sniff(stripped)
    return stripped if after is not None and after == before else data


def _strip_jpeg(data: bytes) -> bytes:
    out = bytearray(data[:2])
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise ValueError("not a marker")
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            out += data[i:]
            return bytes(out)
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            out += data[i : i + 2]
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker not in _JPEG_DROP:
            out += data[i : i + 2 + length]
        i += 2 + length
    raise ValueError("no scan")


def _strip_png(data: bytes) -> bytes:
    out = bytearray(data[:8])
    i = 8
    while i + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[i : i + 8])
        end = i + 12 + length
        if kind not in _PNG_DROP:
            out += data[i:end]
        i = end
        if kind == b"IEND":
            return bytes(out)
    raise ValueError("no IEND")


def _strip_webp(data: bytes) -> bytes:
    if data[12:16] != b"VP8X":
        return data  # simple WebP has no metadata chunks
    chunks = bytearray()
    i = 12
    while i + 8 <= len(data):
        kind = data[i : i + 4]
        (length,) = struct.unpack("<I", data[i + 4 : i + 8])
        end = i + 8 + length + (length & 1)
        if kind not in _WEBP_DROP:
            chunks += data[i:end]
        i = end
    chunks[8] &= ~0x0C & 0xFF  # VP8X flags: no EXIF (0x08), no XMP (0x04)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + bytes(chunks)


def check_images(files: Sequence[UploadedFile[bytes]]) -> list[tuple[UploadedFile[bytes], ImageInfo]]:
    """Every file must be a real image within the size limit, and no more than the count
    limit; the first problem is a DomainError on the field ``attachments``."""
    if len(files) > max_files():
        raise DomainError(f"最多上传 {max_files()} 张图片", field="attachments")
    checked = []
    for upload in files:
        name = upload.name or "文件"
        size = upload.size or 0
        if size > max_bytes():
            raise DomainError(f"“{name}”超过 {max_bytes() // (1024 * 1024)} MB，请压缩后再上传", field="attachments")
        if size == 0:
            raise DomainError(f"“{name}”是空文件", field="attachments")
        upload.seek(0)
        info = sniff(upload.read())
        upload.seek(0)
        if info is None:
            raise DomainError(f"“{name}”不是图片，只能上传 JPG、PNG、WebP 或 HEIC 照片", field="attachments")
        checked.append((upload, info))
    return checked


def attach(
    complaint: Complaint,
    checked: Sequence[tuple[UploadedFile[bytes], ImageInfo]],
    *,
    actor: User | None,
    now: datetime,
) -> list[ComplaintAttachment]:
    """Store images already passed by ``check_images`` (random names, see the model)."""
    rows = []
    for upload, info in checked:
        upload.seek(0)
        data = strip_metadata(upload.read(), info.content_type)
        row = ComplaintAttachment(
            complaint=complaint,
            original_name=(upload.name or "")[-200:],
            content_type=info.content_type,
            size=len(data),
            width=info.width,
            height=info.height,
            uploaded_by=actor if actor is not None and actor.is_authenticated else None,
            uploaded_at=now,
        )
        row.file.save("upload", ContentFile(data), save=False)
        row.save()
        rows.append(row)
    return rows
