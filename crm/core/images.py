"""Uploaded images, decoded with Pillow before anything is stored (complaint attachments,
project materials): one ``prepare_image`` that checks and re-encodes, whatever the caller.

- only JPEG, PNG and WebP (``Image.open(..., formats=...)``: no other Pillow decoder ever
  sees an upload). HEIC cannot be read by Pillow without a plugin, so it is refused with
  a message that asks for JPG;
- at most ``max_pixels`` pixels, checked from the header before the pixels are decoded (a
  small file that would decode to gigabytes — a decompression bomb — is refused; so is
  whatever Pillow's own MAX_IMAGE_PIXELS guard raises or warns);
- ``verify()`` and then a full decode: a truncated or corrupt file is refused.

The stored image is re-encoded from its pixels, turned upright first (the EXIF
orientation, ``ImageOps.exif_transpose``) and converted to sRGB when it carries a colour
profile, so nothing of the original's metadata survives: no EXIF (a phone photo's GPS
position, camera, time), XMP, IPTC, comments or text chunks. Each image also gets a JPEG
thumbnail (THUMBNAIL_SIDE pixels at most).

Every refusal is a DomainError with a Chinese message on the caller's form field.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from crm.core.errors import DomainError

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


def not_an_image(name: str) -> str:
    return f"“{name}”不是图片或文件已损坏，只能上传 JPG、PNG、WebP 照片"


def heic_refused(name: str) -> str:
    return f"“{name}”是 HEIC 格式，暂不支持。请转成 JPG 后再上传（苹果手机可在“设置 → 相机 → 格式”中选择“兼容性最佳”）"


def too_many_pixels(name: str, max_pixels: int) -> str:
    return f"“{name}”的像素过大（超过 {max_pixels // 1_000_000} 百万像素），请缩小后再上传"


def is_heic(data: bytes) -> bool:
    """An ISO-BMFF file whose ``ftyp`` box names a HEIC/HEIF brand."""
    if data[4:8] != b"ftyp" or len(data) < 16:
        return False
    box = int.from_bytes(data[:4], "big")
    brands = {data[8:12]} | {data[j : j + 4] for j in range(16, min(box, 64), 4)}
    return bool(brands & HEIC_BRANDS)


def prepare_image(name: str, data: bytes, *, max_pixels: int, field: str) -> PreparedImage:
    """Decode, check and re-encode one upload (see the module's docstring); a refusal is a
    DomainError on ``field``."""
    if is_heic(data):
        raise DomainError(heic_refused(name), field=field)
    try:
        # Pillow raises DecompressionBombError above twice Image.MAX_IMAGE_PIXELS (and only
        # warns above it, an error where warnings are errors); our own, lower limit is
        # checked from the header right after.
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as probe:
            width, height = probe.size
            if width <= 0 or height <= 0:
                raise DomainError(not_an_image(name), field=field)
            if width * height > max_pixels:
                raise DomainError(too_many_pixels(name, max_pixels), field=field)
            probe.verify()
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
            image.load()
            content_type = FORMATS[str(image.format)]
            upright = clean(image)
            encoded, thumbnail = encode(upright, content_type), make_thumbnail(upright)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DomainError(too_many_pixels(name, max_pixels), field=field) from exc
    except DECODE_ERRORS as exc:
        raise DomainError(not_an_image(name), field=field) from exc
    return PreparedImage(
        original_name=name[-200:],
        content_type=content_type,
        width=upright.width,
        height=upright.height,
        data=encoded,
        thumbnail=thumbnail,
    )


def clean(image: Image.Image) -> Image.Image:
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


def encode(image: Image.Image, content_type: str) -> bytes:
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
            image = image.convert("RGBA" if has_alpha(image) else "RGB")
        image.save(out, "WEBP", quality=JPEG_QUALITY)
    return out.getvalue()


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def make_thumbnail(image: Image.Image) -> bytes:
    """A JPEG at most THUMBNAIL_SIDE on its longer side; transparency on white."""
    if has_alpha(image):
        rgba = image.convert("RGBA")
        thumb = Image.new("RGB", rgba.size, "white")
        thumb.paste(rgba, mask=rgba.getchannel("A"))
    else:
        thumb = image.convert("RGB")
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80)
    return out.getvalue()
