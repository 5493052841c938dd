"""The photo pipeline for citizen reports: what it accepts, refuses and strips.

Every image is made here with Pillow; no database is needed.
"""

from __future__ import annotations

import dataclasses
import io
import random
import struct
import time
import warnings

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation
from PIL import Image, ImageCms, ImageFile, ImageOps, PngImagePlugin

from devkit.images import rgb_icc_profile
from reports import photos
from reports.photos import (
    IMAGE_MAX_SIDE,
    MAX_PIXELS,
    THUMBNAIL_MAX_SIDE,
    PhotoError,
    ProcessedPhoto,
    process_photo,
)
from tests.support.photos import png_header_only

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)
GPS_LATITUDE = (59.0, 19.0, 51.0)
COMMENT = b"secret comment from the camera"
XMP = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'exif:GPSLatitude="59,19.85N"/></rdf:RDF></x:xmpmeta>'
    b'<?xpacket end="w"?>'
)


@pytest.fixture(autouse=True)
def _english():
    # The messages are checked in English; the site's default language is Swedish.
    with translation.override("en"):
        yield


# --- building inputs ---------------------------------------------------------


def exif_bytes(orientation: int | None = 6, *, gps: bool = True) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "PhoneModel X"  # Model
    if orientation is not None:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {  # the GPS IFD
            1: "N",
            2: GPS_LATITUDE,
            3: "E",
            4: (18.0, 4.0, 7.0),
        }
    return exif.tobytes()


def marked(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Blue, with a red block in the top-left and a green one in the top-right."""
    width, height = size
    block = max(8, min(width, height) // 5)
    img = Image.new(mode, size, BLUE)
    img.paste(RED, (0, 0, block, block))
    img.paste(GREEN, (width - block, 0, width, block))
    return img


def encode(img: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def corners(img: Image.Image) -> dict[str, tuple[int, ...]]:
    width, height = img.size
    inset = max(2, min(width, height) // 20)
    rgb = img.convert("RGB")
    return {
        "tl": rgb.getpixel((inset, inset)),
        "tr": rgb.getpixel((width - 1 - inset, inset)),
        "bl": rgb.getpixel((inset, height - 1 - inset)),
        "br": rgb.getpixel((width - 1 - inset, height - 1 - inset)),
    }


def nearest(colour: tuple[int, ...]) -> str:
    names = {"red": RED, "green": GREEN, "blue": BLUE, "white": WHITE}
    return min(
        names,
        key=lambda n: sum((a - b) ** 2 for a, b in zip(colour, names[n], strict=True)),
    )


def corner_names(img: Image.Image) -> dict[str, str]:
    return {k: nearest(v) for k, v in corners(img).items()}


def noisy(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """An image that does not compress to almost nothing."""
    width, height = size
    return Image.frombytes(
        "RGB", size, random.Random(seed).randbytes(width * height * 3)
    )


SRGB_RED = (0.4361, 0.2225, 0.0139)
SRGB_GREEN = (0.3851, 0.7169, 0.0971)
SRGB_BLUE = (0.1431, 0.0606, 0.7141)


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """The (marker, payload) segments of a JPEG up to its first scan."""
    assert data[:2] == b"\xff\xd8"
    pos, found = 2, []
    while pos < len(data):
        assert data[pos] == 0xFF, f"no marker at {pos}"
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        found.append((marker, data[pos + 4 : pos + 2 + length]))
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        pos += 2 + length
    return found


def assert_clean_jpeg(data: bytes) -> Image.Image:
    """The bytes are a JPEG with no metadata at all; returns it opened."""
    markers = [m for m, _ in jpeg_segments(data)]
    # APP0 (JFIF) is allowed; APP1..APP15 (EXIF, XMP, ICC, IPTC...) and COM are not.
    assert [m for m in markers if 0xE1 <= m <= 0xEF or m == 0xFE] == []
    for needle in (b"Exif", b"http://ns.adobe.com/xap", b"ICC_PROFILE", b"xpacket"):
        assert needle not in data
    for needle in (COMMENT, b"PhoneMaker", b"PhoneModel", b"GPSLatitude"):
        assert needle not in data
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG"
    assert img.mode == "RGB"
    for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"):
        assert key not in img.info
    assert dict(img.getexif()) == {}
    assert img.getexif().get_ifd(0x8825) == {}
    return img


def phone_jpeg(size=(400, 200), orientation: int | None = 6) -> bytes:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(
        marked(size),
        "JPEG",
        quality=95,
        exif=exif_bytes(orientation),
        xmp=XMP,
        icc_profile=srgb,
        comment=COMMENT,
    )


# --- the metadata is gone ----------------------------------------------------


def test_jpeg_input_really_carries_every_kind_of_metadata():
    # Guards the test below: it would pass vacuously on a clean input.
    data = phone_jpeg()
    markers = [m for m, _ in jpeg_segments(data)]
    assert 0xE1 in markers and 0xE2 in markers and 0xFE in markers
    img = Image.open(io.BytesIO(data))
    assert img.getexif()[0x0112] == 6
    assert img.getexif().get_ifd(0x8825)[1] == "N"
    assert "icc_profile" in img.info
    assert b"GPSLatitude" in img.info["xmp"]
    assert img.info["comment"] == COMMENT


def test_jpeg_metadata_is_stripped_from_image_and_thumbnail():
    result = process_photo(phone_jpeg(), name="IMG_0001.JPG")
    assert isinstance(result, ProcessedPhoto)
    assert result.content_type == "image/jpeg"
    assert_clean_jpeg(result.image)
    assert_clean_jpeg(result.thumbnail)


def test_png_text_exif_and_xmp_are_stripped():
    meta = PngImagePlugin.PngInfo()
    meta.add_text("Comment", COMMENT.decode())
    meta.add_itxt("XML:com.adobe.xmp", XMP.decode())
    data = encode(marked((300, 200)), "PNG", pnginfo=meta, exif=exif_bytes(None))
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(0x8825) and "XML:com.adobe.xmp" in source.info

    result = process_photo(data, name="screenshot.png")
    assert_clean_jpeg(result.image)
    assert_clean_jpeg(result.thumbnail)


# --- orientation ---------------------------------------------------------------


def test_orientation_6_rotates_clockwise():
    result = process_photo(phone_jpeg((400, 200), orientation=6), name="a.jpg")
    img = Image.open(io.BytesIO(result.image))
    assert (result.width, result.height) == img.size == (200, 400)
    # Orientation 6: the stored top-left corner is shown top-right, the stored
    # top-right bottom-right.
    assert corner_names(img) == {
        "tl": "blue",
        "tr": "red",
        "bl": "blue",
        "br": "green",
    }
    thumb = Image.open(io.BytesIO(result.thumbnail))
    assert thumb.size == (160, 320)
    assert corner_names(thumb)["tr"] == "red"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_pillows_exif_transpose(orientation):
    data = phone_jpeg((400, 200), orientation=orientation)
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    result = process_photo(data, name="a.jpg")
    img = Image.open(io.BytesIO(result.image))
    assert img.size == expected.size
    assert corner_names(img) == corner_names(expected)


def test_orientation_survives_draft_decoding_of_a_large_jpeg():
    data = phone_jpeg((4000, 2000), orientation=6)
    result = process_photo(data, name="big.jpg")
    img = Image.open(io.BytesIO(result.image))
    assert img.size == (800, 1600)
    assert corner_names(img) == {
        "tl": "blue",
        "tr": "red",
        "bl": "blue",
        "br": "green",
    }


# --- sizes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "fmt", "expected", "thumb"),
    [
        ((4000, 3000), "JPEG", (1600, 1200), (320, 240)),
        ((3000, 4000), "JPEG", (1200, 1600), (240, 320)),
        ((1700, 1000), "JPEG", (1600, 941), (320, 188)),
        ((3000, 1000), "PNG", (1600, 533), (320, 107)),
        ((2000, 2000), "WEBP", (1600, 1600), (320, 320)),
        ((640, 480), "JPEG", (640, 480), (320, 240)),
        ((1600, 900), "PNG", (1600, 900), (320, 180)),
        ((100, 50), "PNG", (100, 50), (100, 50)),
    ],
)
def test_sizes_are_clamped_and_never_upscaled(size, fmt, expected, thumb):
    result = process_photo(encode(marked(size), fmt), name=f"p.{fmt.lower()}")
    img = Image.open(io.BytesIO(result.image))
    assert img.size == (result.width, result.height) == expected
    assert Image.open(io.BytesIO(result.thumbnail)).size == thumb
    assert max(expected) <= IMAGE_MAX_SIDE and max(thumb) <= THUMBNAIL_MAX_SIDE
    assert corner_names(img) == {"tl": "red", "tr": "green", "bl": "blue", "br": "blue"}


def test_result_is_frozen():
    result = process_photo(encode(marked((64, 64)), "PNG"), name="x.png")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.width = 1


# --- colours and transparency --------------------------------------------------


def test_png_alpha_is_flattened_onto_white():
    img = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    img.paste((255, 0, 0, 255), (0, 0, 100, 100))
    result = process_photo(encode(img, "PNG"), name="cut-out.png")
    out = Image.open(io.BytesIO(result.image))
    assert out.mode == "RGB"
    assert nearest(out.getpixel((25, 50))) == "red"
    assert nearest(out.getpixel((175, 50))) == "white"


def test_palette_png_with_transparency_is_flattened_onto_white():
    img = Image.new("P", (100, 100), 0)
    img.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    img.paste(1, (50, 0, 100, 100))
    data = encode(img, "PNG", transparency=0)
    out = Image.open(io.BytesIO(process_photo(data, name="p.png").image))
    assert nearest(out.getpixel((10, 50))) == "white"
    assert nearest(out.getpixel((90, 50))) == "blue"


def test_webp_with_alpha_and_exif():
    img = marked((300, 200), "RGBA")
    img.paste((0, 0, 0, 0), (100, 100, 200, 200))
    data = encode(img, "WEBP", lossless=True, exif=exif_bytes(6), xmp=XMP)
    assert Image.open(io.BytesIO(data)).getexif().get(0x0112) == 6
    result = process_photo(data, name="shared.webp")
    out = assert_clean_jpeg(result.image)
    assert out.size == (200, 300)
    # The transparent square, rotated with the image, is now white.
    assert nearest(out.getpixel((50, 150))) == "white"
    assert corner_names(out)["tr"] == "red"


def test_sixteen_bit_greyscale_png_keeps_its_tones():
    img = Image.new("I", (64, 64), 0)
    img.paste(0x8000, (32, 0, 64, 64))
    img = img.convert("I;16")
    out = Image.open(io.BytesIO(process_photo(encode(img, "PNG"), name="g.png").image))
    assert out.getpixel((10, 32))[0] < 10
    assert 110 < out.getpixel((54, 32))[0] < 145


def test_cmyk_jpeg_becomes_rgb():
    img = Image.new("CMYK", (100, 100), (0, 255, 255, 0))  # red ink
    out = Image.open(io.BytesIO(process_photo(encode(img, "JPEG"), name="c.jpg").image))
    assert out.mode == "RGB"
    assert nearest(out.getpixel((50, 50))) == "red"


def test_non_srgb_profile_is_converted_to_srgb():
    # A profile whose red channel is sRGB's green and vice versa: converting it
    # turns stored red into green. Dropping it instead would leave red.
    swapped = rgb_icc_profile("Swapped test RGB", SRGB_GREEN, SRGB_RED, SRGB_BLUE)
    ImageCms.ImageCmsProfile(io.BytesIO(swapped))  # lcms accepts the profile
    data = encode(Image.new("RGB", (80, 80), RED), "PNG", icc_profile=swapped)
    result = process_photo(data, name="wide.png")
    out = assert_clean_jpeg(result.image)
    assert nearest(out.getpixel((40, 40))) == "green"


def test_srgb_profile_is_dropped_and_colours_kept():
    srgb = rgb_icc_profile("sRGB-like test", SRGB_RED, SRGB_GREEN, SRGB_BLUE)
    data = encode(Image.new("RGB", (80, 80), RED), "JPEG", icc_profile=srgb)
    out = assert_clean_jpeg(process_photo(data, name="s.jpg").image)
    assert nearest(out.getpixel((40, 40))) == "red"


# --- HEIC --------------------------------------------------------------------


def heic_bytes(img: Image.Image, **params) -> bytes:
    if not photos.HEIF_SUPPORTED:
        pytest.skip("pillow-heif is not installed")
    try:
        return encode(img, "HEIF", **params)
    except (KeyError, OSError) as exc:  # no HEVC encoder in this build
        pytest.skip(f"pillow-heif cannot write HEIC here: {exc}")


def test_heic_is_accepted_rotated_and_stripped():
    data = heic_bytes(marked((400, 200)), exif=exif_bytes(6), quality=90)
    assert data[4:12] == b"ftypheic"
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)[1] == "N"
    result = process_photo(data, name="IMG_0001.HEIC")
    out = assert_clean_jpeg(result.image)
    assert out.size == (200, 400)
    assert corner_names(out) == {
        "tl": "blue",
        "tr": "red",
        "bl": "blue",
        "br": "green",
    }


def test_heic_without_the_plugin_gets_its_own_message(monkeypatch):
    data = heic_bytes(marked((64, 64)))
    monkeypatch.setattr(photos, "HEIF_SUPPORTED", False)
    with pytest.raises(PhotoError, match="IMG_0002.HEIC") as exc:
        process_photo(data, name="IMG_0002.HEIC")
    assert "HEIC" in str(exc.value).replace("IMG_0002.HEIC", "")


# --- type comes from the content ----------------------------------------------


def test_type_is_taken_from_the_content_not_the_name():
    png = encode(marked((120, 80)), "PNG")
    result = process_photo(png, name="holiday.jpg")
    assert Image.open(io.BytesIO(result.image)).size == (120, 80)
    jpeg = encode(marked((120, 80)), "JPEG")
    assert process_photo(jpeg, name="report.pdf").width == 120


def test_file_objects_are_read():
    data = encode(marked((120, 80)), "JPEG")
    assert process_photo(io.BytesIO(data), name="f.jpg").height == 80


GIF = encode(marked((50, 50)).convert("P"), "GIF")
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
    b'height="10"><rect width="10" height="10" fill="red"/></svg>'
)
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"Dear kommun, the lamp on my street is broken.\n" * 20, "lamp.jpg"),
        (PDF, "report.pdf"),
        (PDF, "report.jpg"),
        (GIF, "anim.gif"),
        (GIF, "anim.jpg"),
        (SVG, "drawing.svg"),
        (SVG, "drawing.png"),
        (encode(marked((50, 50)), "BMP"), "old.jpg"),
        (encode(marked((50, 50)), "TIFF"), "scan.tif"),
        (b"\x00\x00\x00\x1cftypavif" + b"\0" * 100, "new.avif"),
    ],
)
def test_other_types_are_refused(data, name):
    with pytest.raises(PhotoError) as exc:
        process_photo(data, name=name)
    message = str(exc.value)
    assert f"“{name}”" in message
    assert "JPEG, PNG, WebP or HEIC" in message


# --- damaged files -------------------------------------------------------------


def test_truncated_jpeg_is_refused():
    data = encode(noisy((800, 600)), "JPEG", quality=90)
    with pytest.raises(PhotoError, match="“cut.jpg”") as exc:
        process_photo(data[: len(data) // 2], name="cut.jpg")
    assert "damaged" in str(exc.value)


def test_truncated_png_is_refused():
    data = encode(noisy((400, 300)), "PNG")
    with pytest.raises(PhotoError, match="“cut.png”"):
        process_photo(data[: len(data) // 2], name="cut.png")


def test_jpeg_with_garbage_after_the_header_is_refused():
    data = encode(marked((200, 100)), "JPEG")
    with pytest.raises(PhotoError, match="“bad.jpg”"):
        process_photo(data[:20] + b"\x13" * 2000, name="bad.jpg")


def test_truncated_images_are_not_loaded_by_default():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_enabled_load_truncated_images_is_a_configuration_error(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(ImproperlyConfigured):
        process_photo(encode(marked((20, 20)), "JPEG"), name="a.jpg")


# --- decompression bombs -------------------------------------------------------


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any pixel data is decoded."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (30000, 30000),  # beyond Pillow's own error limit
        (10000, 6000),  # within Pillow's limits, over ours
        (MAX_PIXELS // 1000 + 1, 1000),  # one row over ours
    ],
)
def test_decompression_bomb_is_refused_from_the_header(no_decoding, width, height):
    data = png_header_only(width, height)
    assert len(data) < 200
    start = time.perf_counter()
    with pytest.raises(PhotoError, match="“bomb.png”") as exc:
        process_photo(data, name="bomb.png")
    assert time.perf_counter() - start < 0.5
    assert "too many pixels" in str(exc.value)


def test_bomb_is_refused_even_with_pillows_limit_switched_off(monkeypatch, no_decoding):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(PhotoError, match="too many pixels"):
        process_photo(png_header_only(30000, 30000), name="bomb.png")


def test_image_at_the_pixel_limit_is_not_a_bomb():
    # The header check alone: the same size one pixel smaller gets past it.
    width = MAX_PIXELS // 1000
    img = photos._open(png_header_only(width, 1000), "PNG", "ok.png")
    assert img.size == (width, 1000)
    img.close()


# --- size of the upload ------------------------------------------------------


def test_oversized_file_is_refused_with_the_limit_in_mb():
    data = encode(noisy((1000, 800)), "PNG")
    assert 2**20 < len(data) < 3 * 2**20
    with pytest.raises(PhotoError) as exc:
        process_photo(data, name="huge.png", max_bytes=2**20)
    assert "“huge.png”" in str(exc.value)
    assert "1 MB" in str(exc.value)
    # The same file under a larger limit is fine, so size was the reason.
    assert process_photo(data, name="huge.png", max_bytes=3 * 2**20).width == 1000


def test_limit_comes_from_settings(settings):
    data = encode(noisy((300, 300)), "PNG")
    settings.KNUTPUNKT_PHOTO_MAX_BYTES = len(data) - 1
    with pytest.raises(PhotoError, match="“s.png”"):
        process_photo(data, name="s.png")
    settings.KNUTPUNKT_PHOTO_MAX_BYTES = len(data)
    assert process_photo(data, name="s.png").width == 300


def test_default_limit_is_fifteen_mib(settings):
    del settings.KNUTPUNKT_PHOTO_MAX_BYTES
    with pytest.raises(PhotoError, match="15 MB"):
        process_photo(b"\xff\xd8\xff" + b"\0" * (15 * 2**20), name="big.jpg")


def test_large_stream_is_not_read_to_the_end():
    stream = io.BytesIO(b"\xff\xd8\xff" + b"\0" * 5000)
    with pytest.raises(PhotoError, match="“stream.jpg”"):
        process_photo(stream, name="stream.jpg", max_bytes=1000)
    assert stream.tell() == 1001


@pytest.mark.parametrize("data", [b"", io.BytesIO(b"")])
def test_empty_file_is_refused(data):
    with pytest.raises(PhotoError, match="“empty.jpg” is empty"):
        process_photo(data, name="empty.jpg")


def test_only_the_base_name_is_shown():
    with pytest.raises(PhotoError) as exc:
        process_photo(b"", name="C:\\Users\\anna\\Pictures\\lamp.jpg")
    assert "“lamp.jpg”" in str(exc.value)
    assert "anna" not in str(exc.value)


def test_large_jpeg_is_decoded_at_reduced_scale(monkeypatch):
    decoded: list[tuple[int, int]] = []
    original = Image.Image.resize

    def spy(self, size, *args, **kwargs):
        decoded.append(self.size)
        return original(self, size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", spy)
    result = process_photo(phone_jpeg((4000, 2000), orientation=1), name="big.jpg")
    assert (result.width, result.height) == (1600, 800)
    # Draft mode decoded at half scale; the full 4000 x 2000 was never in memory.
    assert decoded[0] == (2000, 1000)


def test_bomb_warning_turned_into_an_error_is_a_photo_error(no_decoding):
    # Between Pillow's warning and error limits; a deployment may run with
    # warnings as errors.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with pytest.raises(PhotoError, match="“bomb.png” has too many pixels"):
            process_photo(png_header_only(10000, 10000), name="bomb.png")


def test_multi_picture_jpeg_uses_the_first_picture():
    first, second = marked((400, 200)), Image.new("RGB", (400, 200), WHITE)
    data = encode(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    out = Image.open(io.BytesIO(process_photo(data, name="mpo.jpg").image))
    assert corner_names(out) == {"tl": "red", "tr": "green", "bl": "blue", "br": "blue"}


@pytest.mark.parametrize(
    ("mode", "icc"),
    [
        ("RGB", b"not an ICC profile at all"),
        # An RGB profile on a greyscale image cannot be applied.
        ("L", rgb_icc_profile("Swapped test RGB", SRGB_GREEN, SRGB_RED, SRGB_BLUE)),
    ],
)
def test_unusable_profile_is_dropped(mode, icc):
    img = Image.new(mode, (80, 80), RED if mode == "RGB" else 200)
    data = encode(img, "JPEG", icc_profile=icc)
    assert Image.open(io.BytesIO(data)).info["icc_profile"] == icc
    out = assert_clean_jpeg(process_photo(data, name="odd.jpg").image)
    expected = "red" if mode == "RGB" else "white"
    assert nearest(out.getpixel((40, 40))) == expected


def test_pixel_message_does_not_round_down_to_the_limit(no_decoding):
    with pytest.raises(PhotoError) as exc:
        process_photo(png_header_only(MAX_PIXELS // 1000 + 1, 1000), name="b.png")
    assert "(50.1 megapixels; at most 50 megapixels)" in str(exc.value)


# --- all photos of one request together --------------------------------------


def test_photos_of_one_request_are_bounded_together_before_any_is_decoded(
    no_decoding, settings
):
    """Two 49-megapixel PNGs of a few hundred bytes: each passes the check of
    one photo, together they are refused from their headers alone."""
    settings.KNUTPUNKT_PHOTO_MAX_PIXELS_PER_REQUEST = 60_000_000
    bombs = [(png_header_only(7000, 7000), f"{n}.png") for n in (1, 2)]
    with pytest.raises(photos.PhotoErrors) as exc:
        photos.process_photos(bombs)
    assert exc.value.messages == [
        "Together the photos have too many pixels (98 megapixels; at most 60 "
        "megapixels). Send fewer or smaller photos."
    ]


def test_a_large_jpeg_counts_at_the_scale_it_is_decoded_at():
    big = Image.open(io.BytesIO(encode(Image.new("RGB", (8000, 6000)), "JPEG")))
    # 8000 x 6000 to fit 1600 x 1200: libjpeg decodes at 1/4, 2000 x 1500.
    assert photos.decoded_pixels(big) == 2000 * 1500
    png = Image.open(io.BytesIO(png_header_only(8000, 6000)))
    assert photos.decoded_pixels(png) == 8000 * 6000


def test_photos_within_the_request_budget_are_all_processed(settings):
    settings.KNUTPUNKT_PHOTO_MAX_PIXELS_PER_REQUEST = 3 * 400 * 300
    uploads = [(encode(marked((400, 300)), "PNG"), f"{n}.png") for n in range(3)]
    assert [p.width for p in photos.process_photos(uploads)] == [400] * 3
    settings.KNUTPUNKT_PHOTO_MAX_PIXELS_PER_REQUEST = 3 * 400 * 300 - 1
    with pytest.raises(photos.PhotoErrors, match="too many pixels"):
        photos.process_photos(uploads)


def test_each_refused_photo_of_a_request_is_named():
    uploads = [(b"not an image", "a.jpg"), (encode(marked((40, 30)), "PNG"), "b.png")]
    uploads.append((b"", "c.png"))
    with pytest.raises(photos.PhotoErrors) as exc:
        photos.process_photos(uploads)
    assert len(exc.value.messages) == 2
    assert "“a.jpg”" in exc.value.messages[0] and "“c.png”" in exc.value.messages[1]
