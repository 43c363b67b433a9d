"""Test images made with Pillow (real files any browser shows), plus the few byte strings
Pillow cannot or will not write: a HEIC header and a decompression bomb's PNG header."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image
from PIL.PngImagePlugin import PngInfo

RED, BLUE = (255, 0, 0), (0, 0, 255)
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def _save(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def png(width: int = 4, height: int = 3, padding: int = 0) -> bytes:
    """A red RGB PNG; ``padding`` adds a text chunk of that many bytes to make it larger."""
    info = PngInfo()
    if padding:
        info.add_text("c", "x" * padding)
    return _save(Image.new("RGB", (width, height), RED), "PNG", pnginfo=info)


def jpeg(width: int = 640, height: int = 480) -> bytes:
    return _save(Image.new("RGB", (width, height), RED), "JPEG")


def webp(width: int = 20, height: int = 10, lossless: bool = True) -> bytes:
    return _save(Image.new("RGB", (width, height), RED), "WEBP", lossless=lossless)


def gps_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "SecretPhone 15"  # Model
    if orientation is not None:
        exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (34.0, 44.0, 47.76), 3: "E", 4: (113.0, 37.0, 31.08)})
    return exif


def jpeg_with_exif(width: int = 640, height: int = 480) -> bytes:
    """A phone photo: EXIF with a GPS position and the camera model, and a comment."""
    image = Image.new("RGB", (width, height), RED)
    return _save(image, "JPEG", exif=gps_exif(), comment=b"secret!!!")


def png_with_text() -> bytes:
    info = PngInfo()
    info.add_text("Location", "GPS 34.7466 113.6253")
    info.add_text("Comment", "secret!!!")
    return _save(Image.new("RGB", (4, 3), RED), "PNG", pnginfo=info, exif=gps_exif())


def webp_with_exif(width: int = 20, height: int = 10) -> bytes:
    return _save(Image.new("RGB", (width, height), RED), "WEBP", lossless=True, exif=gps_exif())


def jpeg_sideways(width: int = 40, height: int = 20, orientation: int = 6) -> bytes:
    """A photo stored sideways with the EXIF orientation saying how to turn it: red on the
    left half, blue on the right. Orientation 6: turn 90° clockwise to view, so the viewer
    sees red on top."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    return _save(image, "JPEG", exif=gps_exif(orientation), quality=95)


def jpeg_with_broken_exif() -> bytes:
    """A sideways photo whose EXIF says Make (0x010F, text) is YResolution (0x011B, a
    fraction): Pillow reads the orientation but cannot write the EXIF back."""
    data = jpeg_sideways()
    assert data.count(b"\x01\x0f\x00\x02") == 1
    return data.replace(b"\x01\x0f\x00\x02", b"\x01\x1b\x00\x02")


def truncated_jpeg() -> bytes:
    """A real JPEG cut in half (an upload that stopped): the header reads, the pixels don't."""
    image = Image.effect_noise((256, 256), 64).convert("RGB")
    data = _save(image, "JPEG", quality=95)
    return data[: len(data) // 2]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(width: int = 10_000, height: int = 10_000) -> bytes:
    """A PNG of a few hundred bytes whose header promises ``width`` × ``height`` one-bit
    pixels (a decompression bomb: 100 megapixels by default, gigabytes once decoded)."""
    rows = zlib.compress(b"\x00" * (width // 8 + 1) * 16)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + _chunk(b"IDAT", rows)
        + _chunk(b"IEND", b"")
    )


def heic(width: int = 4032, height: int = 3024) -> bytes:
    """The start of a HEIC photo (what an iPhone sends when nothing converts it)."""
    ftyp = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic"
    ispe = struct.pack(">I", 20) + b"ispe" + b"\x00\x00\x00\x00" + struct.pack(">II", width, height)
    meta = struct.pack(">I", 12 + len(ispe)) + b"meta" + b"\x00\x00\x00\x00" + ispe
    return ftyp + meta + b"\x00" * 32
