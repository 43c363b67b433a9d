"""Attachments are checked by content: real images pass with their size read from the
header; text, scripts, PDFs and truncated headers with an image's name fail."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from crm.complaints import attachments
from crm.complaints.tests import images
from crm.core.errors import DomainError


@pytest.mark.parametrize(
    ("data", "kind", "size"),
    [
        (images.png(4, 3), "image/png", (4, 3)),
        (images.jpeg(640, 480), "image/jpeg", (640, 480)),
        (images.webp_lossless(20, 10), "image/webp", (20, 10)),
        (images.heic(4032, 3024), "image/heic", (4032, 3024)),
    ],
)
def test_real_images_are_recognised_with_their_size(data, kind, size):
    info = attachments.sniff(data)
    assert info is not None
    assert (info.content_type, (info.width, info.height)) == (kind, size)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, this is text",
        b"<script>alert(1)</script>",
        b"%PDF-1.7\n1 0 obj",
        images.png()[:30],  # truncated: no IEND
        images.png()[:20] + b"\x00\x00\x00\x00" + images.png()[24:],  # IHDR width zeroed: CRC no longer matches
        b"\xff\xd8\xff\xe0" + b"\x00" * 40,  # a JPEG start with no frame
        images.jpeg(0, 0),
        b"RIFF\x00\x00\x00\x00WEBPJUNK" + b"\x00" * 20,
        b"\x00\x00\x00\x18ftypisom" + b"\x00" * 40,  # an MP4, not HEIC
    ],
)
def test_things_that_are_not_images_are_refused(data):
    assert attachments.sniff(data) is None


def upload(name, data, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_check_images_names_the_file_in_chinese():
    with pytest.raises(DomainError) as exc:
        attachments.check_images([upload("照片.jpg", b"not an image at all")])
    assert exc.value.message == "“照片.jpg”不是图片，只能上传 JPG、PNG、WebP 或 HEIC 照片"
    assert exc.value.field == "attachments"


@override_settings(COMPLAINT_ATTACHMENT_MAX_BYTES=2 * 1024 * 1024)
def test_an_oversized_image_is_refused():
    with pytest.raises(DomainError) as exc:
        attachments.check_images([upload("big.png", images.png(padding=2 * 1024 * 1024))])
    assert "超过 2 MB" in exc.value.message


@override_settings(COMPLAINT_ATTACHMENT_MAX_FILES=2)
def test_too_many_images_are_refused():
    with pytest.raises(DomainError) as exc:
        attachments.check_images([upload(f"{i}.png", images.png()) for i in range(3)])
    assert exc.value.message == "最多上传 2 张图片"
    assert len(attachments.check_images([upload(f"{i}.png", images.png()) for i in range(2)])) == 2


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (images.jpeg_with_exif(), "image/jpeg"),
        (images.png_with_text(), "image/png"),
        (images.webp_with_exif(), "image/webp"),
    ],
)
def test_metadata_such_as_gps_is_removed(data, kind):
    info = attachments.sniff(data)
    assert info is not None
    assert info.content_type == kind
    stripped = attachments.strip_metadata(data, kind)
    assert b"GPS" not in stripped
    assert b"secret" not in stripped
    assert attachments.sniff(stripped) == info
    assert len(stripped) < len(data)
    if kind == "image/webp":
        assert int.from_bytes(stripped[4:8], "little") == len(stripped) - 8
        assert stripped[20] & 0x08 == 0


def test_an_image_without_metadata_is_kept_byte_for_byte():
    for data, kind in ((images.jpeg(), "image/jpeg"), (images.png(), "image/png"), (images.heic(), "image/heic")):
        assert attachments.strip_metadata(data, kind) == data
