"""Attachments are decoded with Pillow: real JPEG/PNG/WebP pass, re-encoded without their
metadata and turned upright; text, scripts, PDFs, truncated files, HEIC and decompression
bombs with an image's name fail with a Chinese message."""

from __future__ import annotations

import io
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image, ImageOps

from crm.complaints import attachments
from crm.complaints.tests import images
from crm.core.errors import DomainError

NOT_AN_IMAGE = "不是图片或文件已损坏，只能上传 JPG、PNG、WebP 照片"


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("data", "kind", "size"),
    [
        (images.png(4, 3), "image/png", (4, 3)),
        (images.jpeg(640, 480), "image/jpeg", (640, 480)),
        (images.webp(20, 10), "image/webp", (20, 10)),
        (images.webp(20, 10, lossless=False), "image/webp", (20, 10)),
    ],
)
def test_real_images_are_recognised_with_their_size(data, kind, size):
    image = attachments.prepare("a", data)
    assert (image.content_type, (image.width, image.height)) == (kind, size)
    stored = opened(image.data)
    assert stored.format == kind.split("/")[1].upper()
    assert stored.size == size
    assert stored.getpixel((0, 0))[:3] == pytest.approx((255, 0, 0), abs=8)


@pytest.mark.parametrize(
    "data",
    [
        b"hello, this is text",
        b"<script>alert(1)</script>",
        b"%PDF-1.7\n1 0 obj",
        images.png()[:30],  # truncated inside the header
        images.png()[:20] + b"\x00\x00\x00\x00" + images.png()[24:],  # IHDR width zeroed: CRC no longer matches
        b"\xff\xd8\xff\xe0" + b"\x00" * 40,  # a JPEG start with no frame
        b"RIFF\x00\x00\x00\x00WEBPJUNK" + b"\x00" * 20,
        b"\x00\x00\x00\x18ftypisom" + b"\x00" * 40,  # an MP4
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",  # a GIF: Pillow reads it, we do not accept it
    ],
)
def test_things_that_are_not_images_are_refused(data):
    with pytest.raises(DomainError) as exc:
        attachments.prepare("照片.jpg", data)
    assert exc.value.message == f"“照片.jpg”{NOT_AN_IMAGE}"
    assert exc.value.field == "attachments"


def test_a_truncated_jpeg_is_refused():
    data = images.truncated_jpeg()
    assert Image.open(io.BytesIO(data)).size == (256, 256)  # the header alone looks fine
    with pytest.raises(DomainError) as exc:
        attachments.prepare("IMG_0002.jpg", data)
    assert exc.value.message == f"“IMG_0002.jpg”{NOT_AN_IMAGE}"


def test_a_decompression_bomb_png_is_refused_before_it_is_decoded():
    data = images.bomb_png(8000, 8000)  # 64 megapixels, under Pillow's own limit
    assert len(data) < 20_000
    with pytest.raises(DomainError) as exc:
        attachments.prepare("bomb.png", data)
    assert exc.value.message == "“bomb.png”的像素过大（超过 50 百万像素），请缩小后再上传"


@override_settings(COMPLAINT_ATTACHMENT_MAX_PIXELS=10**12)  # an operator set ours too high
def test_pillows_own_decompression_bomb_guard_gives_the_same_message():
    assert Image.MAX_IMAGE_PIXELS is not None
    assert 2 * Image.MAX_IMAGE_PIXELS < 900_000_000
    with pytest.raises(DomainError) as exc:
        attachments.prepare("bomb.png", images.bomb_png(30_000, 30_000))  # 900 megapixels
    assert exc.value.message.startswith("“bomb.png”的像素过大")


@override_settings(COMPLAINT_ATTACHMENT_MAX_PIXELS=100 * 100)
def test_the_pixel_limit_is_a_setting():
    assert attachments.prepare("ok.png", images.png(100, 100)).width == 100
    with pytest.raises(DomainError, match="像素过大"):
        attachments.prepare("big.png", images.png(101, 100))


def test_heic_is_refused_with_advice_to_send_jpg():
    with pytest.raises(DomainError) as exc:
        attachments.prepare("IMG_0003.HEIC", images.heic())
    assert exc.value.message.startswith("“IMG_0003.HEIC”是 HEIC 格式，暂不支持。请转成 JPG 后再上传")
    assert "heic" not in attachments.ACCEPT


def upload(name, data, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_check_images_names_the_file_in_chinese():
    with pytest.raises(DomainError) as exc:
        attachments.check_images([upload("照片.jpg", b"not an image at all")])
    assert exc.value.message == f"“照片.jpg”{NOT_AN_IMAGE}"
    assert exc.value.field == "attachments"


def test_an_empty_file_is_refused():
    with pytest.raises(DomainError) as exc:
        attachments.check_images([upload("空.jpg", b"")])
    assert exc.value.message == "“空.jpg”是空文件"


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
    original = opened(data)
    assert original.getexif().get_ifd(images.GPS_IFD)  # the test image does carry a position
    image = attachments.prepare("a", data)
    assert image.content_type == kind
    for secret in (b"GPS", b"SecretPhone", b"PhoneMaker", b"secret", b"Exif"):
        assert secret not in image.data
    stored = opened(image.data)
    assert len(stored.getexif()) == 0
    assert not {"exif", "xmp", "comment", "Location", "Comment", "icc_profile"} & set(stored.info)
    assert (stored.width, stored.height) == (original.width, original.height)


def test_the_exif_orientation_is_applied():
    data = images.jpeg_sideways(40, 20, orientation=6)
    assert opened(data).size == (40, 20)
    image = attachments.prepare("IMG_0004.jpg", data)
    assert (image.width, image.height) == (20, 40)
    stored = opened(image.data).convert("RGB")
    assert stored.size == (20, 40)
    assert stored.getpixel((10, 5)) == pytest.approx(images.RED, abs=30)  # top: was the left half
    assert stored.getpixel((10, 35)) == pytest.approx(images.BLUE, abs=30)
    assert 0x0112 not in stored.getexif()  # no orientation left to apply twice


def test_a_photo_with_broken_exif_is_kept_as_stored_without_it():
    data = images.jpeg_with_broken_exif()
    with pytest.raises(TypeError):  # what Pillow does with it on its own
        ImageOps.exif_transpose(opened(data))
    image = attachments.prepare("IMG_0005.jpg", data)
    assert (image.width, image.height) == (40, 20)  # the orientation could not be applied
    assert b"GPS" not in image.data
    assert len(opened(image.data).getexif()) == 0


@pytest.mark.parametrize("profile", ["sRGB", "broken"])
def test_a_colour_profile_is_converted_to_srgb_and_dropped(profile):
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes() if profile == "sRGB" else b"junk" * 40
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 100, 50)).save(out, "JPEG", icc_profile=icc)
    assert opened(out.getvalue()).info["icc_profile"] == icc
    image = attachments.prepare("p.jpg", out.getvalue())
    stored = opened(image.data)
    assert "icc_profile" not in stored.info
    assert stored.getpixel((4, 4)) == pytest.approx((200, 100, 50), abs=6)  # sRGB → sRGB; a broken one: as is


def test_the_thumbnail_is_a_small_jpeg_with_the_same_shape():
    image = attachments.prepare("wide.png", images.png(1600, 800))
    thumb = opened(image.thumbnail)
    assert thumb.format == "JPEG"
    assert thumb.size == (attachments.THUMBNAIL_SIDE, attachments.THUMBNAIL_SIDE // 2)
    assert len(image.thumbnail) < len(image.data) or len(image.data) < 4000


def test_a_transparent_png_keeps_its_transparency_and_thumbnails_on_white():
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(out, "PNG")
    image = attachments.prepare("clear.png", out.getvalue())
    assert opened(image.data).getpixel((5, 5))[3] == 0
    assert opened(image.thumbnail).getpixel((5, 5)) == pytest.approx((255, 255, 255), abs=3)


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's EXIF reader warns about damaged tags
def test_damaged_files_give_a_chinese_refusal_or_a_clean_image_never_a_crash():
    """Random byte damage to real images (fixed seed): Pillow's many exceptions all end as
    the DomainError, or the damage was harmless and the image is stored re-encoded."""
    rng = random.Random(20261206)
    originals = [images.jpeg_with_exif(64, 48), images.png_with_text(), images.webp_with_exif(), images.jpeg_sideways()]
    outcomes = set()
    for _ in range(400):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.2:
            data = data[: rng.randrange(len(data))]
        try:
            image = attachments.prepare("x.jpg", bytes(data))
        except DomainError as exc:
            outcomes.add(f"refused on {exc.field}")
        else:
            assert b"GPS" not in image.data
            outcomes.add("stored")
    assert outcomes == {"refused on attachments", "stored"}


def _saved(image, fmt, **params):
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "stored_mode"),
    [
        (_saved(Image.new("I;16", (30, 20), 1000), "PNG"), "I;16"),  # 16-bit grey
        (_saved(Image.new("LA", (30, 20), (100, 50)), "PNG"), "LA"),
        (_saved(Image.new("P", (30, 20), 3), "PNG", transparency=3), "P"),
        (_saved(Image.new("1", (30, 20), 1), "PNG"), "1"),
        (_saved(Image.new("CMYK", (30, 20), (0, 100, 0, 0)), "JPEG"), "RGB"),  # browsers: RGB
        (_saved(Image.new("L", (30, 20), 80), "JPEG"), "L"),
        (_saved(Image.new("RGBA", (30, 20), (1, 2, 3, 4)), "WEBP", lossless=True), "RGBA"),
        (
            _saved(Image.new("RGB", (30, 20), "red"), "PNG", save_all=True, append_images=[Image.new("RGB", (30, 20))]),
            "RGB",
        ),
    ],
)
def test_every_colour_mode_is_stored_and_thumbnailed(data, stored_mode):
    image = attachments.prepare("m", data)
    stored = opened(image.data)
    assert (stored.mode, stored.size, getattr(stored, "n_frames", 1)) == (stored_mode, (30, 20), 1)
    assert opened(image.thumbnail).mode == "RGB"
