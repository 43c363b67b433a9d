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

The checks and the re-encoding are crm.core.images (shared with project materials).
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
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db.models import FileField
from PIL import Image

from crm.complaints.models import Complaint, ComplaintAttachment
from crm.core import images
from crm.core.errors import DomainError
from crm.core.images import DECODE_ERRORS, FORMATS, THUMBNAIL_SIDE, PreparedImage, make_thumbnail

if TYPE_CHECKING:
    from crm.accounts.models import User

__all__ = ["ACCEPT", "THUMBNAIL_SIDE", "PreparedImage", "attach", "check_images", "prepare", "thumbnail"]

ACCEPT = "image/jpeg,image/png,image/webp,.jpg,.jpeg,.png,.webp"


def max_files() -> int:
    return int(settings.COMPLAINT_ATTACHMENT_MAX_FILES)


def max_bytes() -> int:
    return int(settings.COMPLAINT_ATTACHMENT_MAX_BYTES)


def max_pixels() -> int:
    return int(settings.COMPLAINT_ATTACHMENT_MAX_PIXELS)


def limits_text() -> str:
    return f"最多 {max_files()} 张，每张不超过 {max_bytes() // (1024 * 1024)} MB，支持 JPG、PNG、WebP"


def prepare(name: str, data: bytes) -> PreparedImage:
    """Decode, check and re-encode one upload (crm.core.images, the shared rules)."""
    return images.prepare_image(name, data, max_pixels=max_pixels(), field="attachments")


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
            made = make_thumbnail(images.clean(image))
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
