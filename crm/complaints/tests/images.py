"""Small real image files built byte by byte (the project has no Pillow): a PNG any
browser shows, and the headers of JPEG, WebP and HEIC files."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int = 4, height: int = 3, padding: int = 0) -> bytes:
    """A red RGB PNG; ``padding`` adds a text chunk to make the file larger."""
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    extra = _chunk(b"tEXt", b"c\x00" + b"x" * padding) if padding else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + extra
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )


def jpeg(width: int = 640, height: int = 480) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xda\x00\x02" + b"\x00" * 16 + b"\xff\xd9"


def webp_lossless(width: int = 20, height: int = 10) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    body = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 8
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(body)) + b"WEBP" + b"VP8L" + struct.pack("<I", len(body)) + body


def heic(width: int = 4032, height: int = 3024) -> bytes:
    ftyp = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic"
    ispe = struct.pack(">I", 20) + b"ispe" + b"\x00\x00\x00\x00" + struct.pack(">II", width, height)
    meta = struct.pack(">I", 12 + len(ispe)) + b"meta" + b"\x00\x00\x00\x00" + ispe
    return ftyp + meta + b"\x00" * 32


def jpeg_with_exif(width: int = 640, height: int = 480) -> bytes:
    exif = b"Exif\x00\x00MM\x00*GPSLatitude=34.7466,GPSLongitude=113.6253"
    app1 = b"\xff\xe1" + struct.pack(">H", 2 + len(exif)) + exif
    comment = b"\xff\xfe" + struct.pack(">H", 2 + 9) + b"secret!!!"
    plain = jpeg(width, height)
    return plain[:2] + app1 + comment + plain[2:]


def png_with_text() -> bytes:
    plain = png()
    text = _chunk(b"tEXt", b"Location\x00GPS 34.7466 113.6253")
    return plain[:33] + text + plain[33:]


def webp_with_exif(width: int = 20, height: int = 10) -> bytes:
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0x08, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
    vp8x += (height - 1).to_bytes(3, "little")
    bits = (width - 1) | ((height - 1) << 14)
    body = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 8
    vp8l = b"VP8L" + struct.pack("<I", len(body)) + body + b"\x00"  # chunks are padded to even sizes
    exif_body = b"MM\x00*GPS 34.7466"  # odd length: padded
    exif = b"EXIF" + struct.pack("<I", len(exif_body)) + exif_body + b"\x00"
    chunks = vp8x + vp8l + exif
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks
