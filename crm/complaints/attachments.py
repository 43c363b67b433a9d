"""Complaint attachments: images only, decoded with Pillow before anything is stored.

``check_images`` takes the uploads and gives back what will be stored, or a Chinese
DomainError on the field ``attachments`` for the first file that fails:

- at most COMPLAINT_ATTACHMENT_MAX_FILES files of COMPLAINT_ATTACHMENT_MAX_BYTES each;
- only JPEG, PNG and WebP (``Image.open(..., formats=...)``: no other Pillow decoder ever
  sees an upload). HEIC cannot be read by Pillow without a plugin, so it is refused with
  a message that asks for JPG; the upload input does not list HEIC, which makes an
  iPhone convert its photos to JPEG before sending;
- at most COMPLAINT_ATTACHMENT_MAX_PIXELS pixels, checked from the header before the
  pixels are decoded (a small file that would decode to gigabytes — a decompression bomb
  — is refused; so is whatever Pillow's own MAX_IMAGE_PIXELS guard raises or warns);
- ``verify()`` and then a full decode: a truncated or corrupt file is refused.

The stored image is re-encoded from its pixels, turned upright first (the EXIF
orientation, ``ImageOps.exif_transpose``) and converted to sRGB when it carries a colour
profile, so nothing of the original's metadata survives: no EXIF (a phone photo's GPS
position, camera, time), XMP, IPTC, comments or text chunks. Each image also gets a
JPEG thumbnail (THUMBNAIL_SIDE pixels at most) in its own file field, which the staff
detail page shows instead of the full image (and which the retention purge deletes with
the image, like every file field of a row pointing at the complaint).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db.models import FileField
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from crm.complaints.models import Complaint, ComplaintAttachment
from crm.core.errors import DomainError

if TYPE_CHECKING:
    from crm.accounts.models import User

ACCEPT = "image/jpeg,image/png,image/webp,.jpg,.jpeg,.png,.webp"
# Pillow's format name → the content type stored and served.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
THUMBNAIL_SIDE = 320
JPEG_QUALITY = 90
# The ISO-BMFF brands of HEIC/HEIF photos (iPhone, many Android phones): recognised only
# to say why they are refused.
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
# What Pillow raises on a file it cannot decode (corrupt, truncated, not what it says).
DECODE_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    zlib.error,
    struct.error,
)


@dataclass(frozen=True)
class PreparedImage:
    """An upload that passed: the re-encoded image and its thumbnail, ready to store."""

    original_name: str
    content_type: str
    width: int
    height: int
    data: bytes
    thumbnail: bytes


def max_files() -> int:
    return int(settings.COMPLAINT_ATTACHMENT_MAX_FILES)


def max_bytes() -> int:
    return int(settings.COMPLAINT_ATTACHMENT_MAX_BYTES)


def max_pixels() -> int:
    return int(settings.COMPLAINT_ATTACHMENT_MAX_PIXELS)


def limits_text() -> str:
    return f"最多 {max_files()} 张，每张不超过 {max_bytes() // (1024 * 1024)} MB，支持 JPG、PNG、WebP"


def not_an_image(name: str) -> str:
    return f"“{name}”不是图片或文件已损坏，只能上传 JPG、PNG、WebP 照片"


def heic_refused(name: str) -> str:
    return f"“{name}”是 HEIC 格式，暂不支持。请转成 JPG 后再上传（苹果手机可在“设置 → 相机 → 格式”中选择“兼容性最佳”）"


def too_many_pixels(name: str) -> str:
    return f"“{name}”的像素过大（超过 {max_pixels() // 1_000_000} 百万像素），请缩小后再上传"


def is_heic(data: bytes) -> bool:
    """An ISO-BMFF file whose ``ftyp`` box names a HEIC/HEIF brand."""
    if data[4:8] != b"ftyp" or len(data) < 16:
        return False
    box = int.from_bytes(data[:4], "big")
    brands = {data[8:12]} | {data[j : j + 4] for j in range(16, min(box, 64), 4)}
    return bool(brands & HEIC_BRANDS)


def prepare(name: str, data: bytes) -> PreparedImage:
    """Decode, check and re-encode one upload (see the module's docstring)."""
    if is_heic(data):
        raise DomainError(heic_refused(name), field="attachments")
    try:
        # Pillow raises DecompressionBombError above twice Image.MAX_IMAGE_PIXELS (and only
        # warns above it, an error where warnings are errors); our own, lower limit is
        # checked from the header right after.
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as probe:
            width, height = probe.size
            if width <= 0 or height <= 0:
                raise DomainError(not_an_image(name), field="attachments")
            if width * height > max_pixels():
                raise DomainError(too_many_pixels(name), field="attachments")
            probe.verify()
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
            image.load()
            content_type = FORMATS[str(image.format)]
            upright = _clean(image)
            encoded, thumbnail = _encode(upright, content_type), make_thumbnail(upright)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DomainError(too_many_pixels(name), field="attachments") from exc
    except DECODE_ERRORS as exc:
        raise DomainError(not_an_image(name), field="attachments") from exc
    return PreparedImage(
        original_name=name[-200:],
        content_type=content_type,
        width=upright.width,
        height=upright.height,
        data=encoded,
        thumbnail=thumbnail,
    )


def _clean(image: Image.Image) -> Image.Image:
    """The pixels only: turned upright, in sRGB, with no metadata left in ``info``."""
    try:
        upright = ImageOps.exif_transpose(image)
    except (*DECODE_ERRORS, TypeError, KeyError, struct.error):
        upright = image.copy()  # EXIF too broken to read its orientation: as stored
    icc = image.info.get("icc_profile")
    if icc and upright.mode in ("RGB", "RGBA"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            upright = ImageCms.profileToProfile(upright, source, ImageCms.createProfile("sRGB")) or upright
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: keep the pixels as they are
    transparency = upright.info.get("transparency")
    upright.info = {} if transparency is None else {"transparency": transparency}
    return upright


def _encode(image: Image.Image, content_type: str) -> bytes:
    out = io.BytesIO()
    if content_type == "image/jpeg":
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif content_type == "image/png":
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if _has_alpha(image) else "RGB")
        image.save(out, "WEBP", quality=JPEG_QUALITY)
    return out.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def make_thumbnail(image: Image.Image) -> bytes:
    """A JPEG at most THUMBNAIL_SIDE on its longer side; transparency on white."""
    if _has_alpha(image):
        rgba = image.convert("RGBA")
        thumb = Image.new("RGB", rgba.size, "white")
        thumb.paste(rgba, mask=rgba.getchannel("A"))
    else:
        thumb = image.convert("RGB")
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80)
    return out.getvalue()


def check_images(files: Sequence[UploadedFile[bytes]]) -> list[PreparedImage]:
    """Every file must be a real image within the limits, and no more files than the
    count limit; the first problem is a DomainError on the field ``attachments``."""
    if len(files) > max_files():
        raise DomainError(f"最多上传 {max_files()} 张图片", field="attachments")
    prepared = []
    for upload in files:
        name = upload.name or "文件"
        size = upload.size or 0
        if size > max_bytes():
            raise DomainError(f"“{name}”超过 {max_bytes() // (1024 * 1024)} MB，请压缩后再上传", field="attachments")
        if size == 0:
            raise DomainError(f"“{name}”是空文件", field="attachments")
        upload.seek(0)
        data = upload.read()
        upload.seek(0)
        prepared.append(prepare(name, data))
    return prepared


def attach(
    complaint: Complaint,
    prepared: Sequence[PreparedImage],
    *,
    actor: User | None,
    now: datetime,
) -> list[ComplaintAttachment]:
    """Store images already passed by ``check_images`` (random names, see the model) and
    their thumbnails."""
    rows = []
    for image in prepared:
        row = ComplaintAttachment(
            complaint=complaint,
            original_name=image.original_name,
            content_type=image.content_type,
            size=len(image.data),
            width=image.width,
            height=image.height,
            uploaded_by=actor if actor is not None and actor.is_authenticated else None,
            uploaded_at=now,
        )
        row.file.save("upload", ContentFile(image.data), save=False)
        row.thumbnail.save("thumbnail", ContentFile(image.thumbnail), save=False)
        row.save()
        rows.append(row)
    return rows


def thumbnail(row: ComplaintAttachment) -> bytes | None:
    """The thumbnail of a stored image: the stored one, or made now from the image and kept
    (rows stored before thumbnails existed, or whose thumbnail file is gone). None for HEIC
    rows of that time and for a missing or unreadable image."""
    if not row.is_inline:
        return None
    if row.thumbnail:
        try:
            with row.thumbnail.open("rb") as handle:
                return bytes(handle.read())
        except FileNotFoundError:
            pass
    try:
        with row.file.open("rb") as handle:
            data = handle.read()
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
            if image.width * image.height > max_pixels():
                return None
            image.load()
            made = make_thumbnail(_clean(image))
    except (FileNotFoundError, Image.DecompressionBombError, Image.DecompressionBombWarning, *DECODE_ERRORS):
        return None
    stale = row.thumbnail.name or ""
    storage = row.thumbnail.storage
    name = storage.save(_thumbnail_upload_name(row), ContentFile(made))
    # Two requests at once: the first to record its file wins, the other removes its own.
    if ComplaintAttachment.objects.filter(pk=row.pk, thumbnail=stale).update(thumbnail=name):
        row.thumbnail.name = name
    else:
        storage.delete(name)
    return made


def _thumbnail_upload_name(row: ComplaintAttachment) -> str:
    field = ComplaintAttachment._meta.get_field("thumbnail")
    assert isinstance(field, FileField)
    return str(field.generate_filename(row, "thumbnail"))
