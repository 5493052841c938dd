"""Photos attached to citizen reports: check, shrink and strip them.

A citizen uploads up to three photos of a street fault, usually straight from a
phone. ``process_photo`` turns one upload into a small, clean JPEG and a thumbnail:

- the type is decided from the content, never from the file name or the declared
  content type; only JPEG, PNG, WebP and HEIC/HEIF (when ``pillow-heif`` is
  installed) are accepted;
- the byte size and the pixel count are checked before any pixel data is decoded,
  so a decompression bomb costs no more than reading its header; the photos of
  one request are bounded together too (``process_photos``), by the pixels they
  would decode to;
- damaged or truncated files are refused rather than padded with grey;
- the EXIF orientation is applied, then every piece of metadata is dropped (EXIF
  with its GPS position, XMP, ICC profile, comments); colours in another profile
  are converted to sRGB first;
- the result fits in 1600 x 1600 px (never upscaled), the thumbnail in 320 x 320.

The original upload is never kept or returned.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

try:
    import pillow_heif
except ImportError:  # pragma: no cover - pillow-heif is a project dependency
    HEIF_SUPPORTED = False
else:
    pillow_heif.register_heif_opener()
    HEIF_SUPPORTED = True

__all__ = [
    "DEFAULT_MAX_BYTES",
    "HEIF_SUPPORTED",
    "IMAGE_MAX_SIDE",
    "JPEG_QUALITY",
    "MAX_PIXELS",
    "OUTPUT_CONTENT_TYPE",
    "RESAMPLE",
    "PhotoError",
    "PhotoErrors",
    "ProcessedPhoto",
    "THUMBNAIL_MAX_SIDE",
    "decoded_pixels",
    "process_photo",
    "process_photos",
]

logger = logging.getLogger("knutpunkt.reports.photos")

MIB = 1024 * 1024
#: Upload limit in bytes when ``settings.KNUTPUNKT_PHOTO_MAX_BYTES`` is not set.
DEFAULT_MAX_BYTES = 15 * MIB
#: Largest accepted pixel count (width x height), checked from the header alone.
#: Phone cameras give 12 to 50 megapixels; more than this is refused.
MAX_PIXELS = 50_000_000
#: The long side of the stored image and of its thumbnail, in pixels.
IMAGE_MAX_SIDE = 1600
THUMBNAIL_MAX_SIDE = 320
JPEG_QUALITY = 85
#: Resampling filter of the final resize. After JPEG draft decoding the remaining
#: reduction is less than 2x, where Hamming is nearly as sharp as Lanczos at about
#: half its cost (Pillow's resize is not vectorised).
RESAMPLE = Image.Resampling.HAMMING
#: The thumbnail is mostly a box-filter reduce of the resized image (reducing_gap
#: 1.0 in the resize below), then this filter for the remaining fraction.
THUMBNAIL_RESAMPLE = Image.Resampling.BICUBIC
OUTPUT_CONTENT_TYPE = "image/jpeg"

_EXIF_ORIENTATION = 0x0112
# The transposition PIL.ImageOps.exif_transpose applies for each EXIF orientation;
# applied here by hand because the tag is read before draft mode and resizing.
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# ISO BMFF major brands of HEIF still images (HEVC-coded and generic).
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
    | {b"mif1", b"mif2", b"msf1"}
)
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class PhotoError(Exception):
    """A photo was refused; the message is meant for the citizen and names the file."""


class PhotoErrors(Exception):
    """Photos of one request were refused: a message for the citizen each."""

    def __init__(self, messages: list[str]):
        super().__init__(" ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class ProcessedPhoto:
    """A cleaned photo: JPEG bytes without metadata, and a JPEG thumbnail."""

    image: bytes
    thumbnail: bytes
    width: int
    height: int
    content_type: str = OUTPUT_CONTENT_TYPE


def process_photo(
    data: BinaryIO | bytes, *, name: str, max_bytes: int | None = None
) -> ProcessedPhoto:
    """Check one uploaded photo and return it resized, upright and without metadata.

    ``data`` is the file's content, or a binary file object read from its current
    position. ``name`` is the file name the citizen chose, used only in messages.
    ``max_bytes`` defaults to ``settings.KNUTPUNKT_PHOTO_MAX_BYTES``, else 15 MiB.

    Raises :class:`PhotoError`, with a message for the citizen, when the file is
    empty, too large, not a JPEG, PNG, WebP or HEIC image, has too many pixels, or
    is damaged.
    """
    img, name = _inspect(data, name, max_bytes)
    try:
        return _process(img, name)
    finally:
        img.close()


def process_photos(
    uploads: Iterable[tuple[BinaryIO | bytes, str]],
    *,
    max_bytes: int | None = None,
    max_pixels: int | None = None,
) -> list[ProcessedPhoto]:
    """Check and process all photos of one request, bounded together.

    Every photo's header is read first; then, before any pixel is decoded, the
    pixels all of them would decode to are added up (a JPEG counts at the
    reduced scale libjpeg decodes it at, other formats in full) and refused
    past ``max_pixels`` (``settings.KNUTPUNKT_PHOTO_MAX_PIXELS_PER_REQUEST``).
    So a request costs at most that much decoding, whatever it holds.

    Raises :class:`PhotoErrors` with one message per refused photo (or one for
    the total).
    """
    if max_pixels is None:
        max_pixels = settings.KNUTPUNKT_PHOTO_MAX_PIXELS_PER_REQUEST
    opened: list[tuple[Image.Image, str]] = []
    errors: list[str] = []
    try:
        for data, name in uploads:
            try:
                opened.append(_inspect(data, name, max_bytes))
            except PhotoError as exc:
                errors.append(str(exc))
        if errors:
            raise PhotoErrors(errors)
        total = sum(decoded_pixels(img) for img, _name in opened)
        if total > max_pixels:
            raise PhotoErrors(
                [
                    _(
                        "Together the photos have too many pixels (%(pixels)s "
                        "megapixels; at most %(limit)s megapixels). Send fewer "
                        "or smaller photos."
                    )
                    % {
                        "pixels": number_format(math.ceil(total / 1_000_000)),
                        "limit": number_format(max_pixels // 1_000_000),
                    }
                ]
            )
        photos = []
        for img, name in opened:
            try:
                photos.append(_process(img, name))
            except PhotoError as exc:
                errors.append(str(exc))
            finally:
                # One decoded photo in memory at a time.
                img.close()
        if errors:
            raise PhotoErrors(errors)
        return photos
    finally:
        for img, _name in opened:
            img.close()


def decoded_pixels(img: Image.Image) -> int:
    """How many pixels processing this opened (not yet decoded) image decodes:
    a JPEG that will be shrunk is decoded at 1/2, 1/4 or 1/8 scale (as
    ``Image.draft`` chooses it), anything else in full."""
    width, height = img.size
    target = _fit(img.size, IMAGE_MAX_SIDE)
    if img.format in ("JPEG", "MPO") and target != img.size and len(img.tile) == 1:
        scale = min(width // target[0], height // target[1])
        step = next(s for s in (8, 4, 2, 1) if scale >= s)
        return ((width + step - 1) // step) * ((height + step - 1) // step)
    return width * height


def _inspect(
    data: BinaryIO | bytes, name: str, max_bytes: int | None
) -> tuple[Image.Image, str]:
    """Read the upload and open its header: the opened image and the name to
    show, or PhotoError. No pixel is decoded."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Pillow would then pad a cut-off upload with grey instead of failing.
        raise ImproperlyConfigured(
            "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is enabled; the photo pipeline "
            "needs it off to refuse damaged uploads."
        )
    if max_bytes is None:
        max_bytes = getattr(settings, "KNUTPUNKT_PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES)
    name = _display_name(name)
    raw = _read(data, max_bytes)
    if not raw:
        raise PhotoError(_("“%(name)s” is empty.") % {"name": name})
    if len(raw) > max_bytes:
        raise PhotoError(
            _("“%(name)s” is larger than %(limit)s MB; please send a smaller photo.")
            % {"name": name, "limit": _megabytes(max_bytes)}
        )
    pil_format = _sniff(raw, name)
    return _open(raw, pil_format, name), name


def _read(data: BinaryIO | bytes, max_bytes: int) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    # One byte past the limit is enough to know the file is too large.
    return data.read(max_bytes + 1)


def _display_name(name: str) -> str:
    # Some browsers send a full client-side path; only the last part is the name.
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if len(base) > 80:
        base = base[:77] + "…"
    return base or _("the photo")


def _megabytes(n: int) -> str:
    mb = n / MIB
    return number_format(mb, decimal_pos=0 if mb.is_integer() else 1)


def _not_readable(name: str) -> PhotoError:
    return PhotoError(
        _("“%(name)s” is not an image we can read (JPEG, PNG, WebP or HEIC).")
        % {"name": name}
    )


def _damaged(name: str) -> PhotoError:
    return PhotoError(
        _("“%(name)s” is damaged or incomplete and cannot be read.") % {"name": name}
    )


def _too_many_pixels(name: str, pixels: int | None) -> PhotoError:
    params = {"name": name, "limit": number_format(MAX_PIXELS // 1_000_000)}
    if pixels is None:
        return PhotoError(
            _("“%(name)s” has too many pixels (at most %(limit)s megapixels).") % params
        )
    megapixels = pixels / 1_000_000
    if round(megapixels) <= MAX_PIXELS // 1_000_000:
        # Just over the limit: round up to one decimal so it does not read as equal.
        params["pixels"] = number_format(math.ceil(megapixels * 10) / 10, 1)
    else:
        params["pixels"] = number_format(megapixels, decimal_pos=0)
    return PhotoError(
        _(
            "“%(name)s” has too many pixels (%(pixels)s megapixels; at most "
            "%(limit)s megapixels)."
        )
        % params
    )


def _sniff(raw: bytes, name: str) -> str:
    """The Pillow format name the content's signature says, or PhotoError."""
    if raw.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "WEBP"
    if raw[4:8] == b"ftyp" and raw[8:12] in _HEIF_BRANDS:
        if not HEIF_SUPPORTED:
            raise PhotoError(
                _(
                    "“%(name)s” is a HEIC photo, which we cannot read yet; "
                    "please send it as a JPEG."
                )
                % {"name": name}
            )
        return "HEIF"
    raise _not_readable(name)


def _open(raw: bytes, pil_format: str, name: str) -> Image.Image:
    """Open the image reading its header only, and refuse decompression bombs."""
    try:
        # Only the plugin the signature named may read the file.
        img = Image.open(io.BytesIO(raw), formats=[pil_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow raises for twice its MAX_IMAGE_PIXELS; the warning can be turned
        # into an error by a warnings filter.
        raise _too_many_pixels(name, None) from None
    except UnidentifiedImageError:
        raise _not_readable(name) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _damaged(name) from None
    width, height = img.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        img.close()
        if width < 1 or height < 1:
            raise _damaged(name)
        raise _too_many_pixels(name, width * height)
    return img


def _fit(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """``size`` scaled down so its long side is at most ``max_side``."""
    width, height = size
    long_side = max(width, height)
    if long_side <= max_side:
        return size
    scale = max_side / long_side
    return max(1, round(width * scale)), max(1, round(height * scale))


def _process(img: Image.Image, name: str) -> ProcessedPhoto:
    try:
        # Read what is needed from the metadata before draft mode or decoding (a
        # PNG's getexif() decodes the whole image to find a trailing eXIf chunk).
        orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
        icc_profile = img.info.get("icc_profile")
        target = _fit(img.size, IMAGE_MAX_SIDE)
        if img.format in ("JPEG", "MPO") and target != img.size:
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale, never below the target.
            img.draft("RGB", target)
        img.load()
        img = _normalise_mode(img)
        if img.size != target:
            img = img.resize(target, RESAMPLE, reducing_gap=3.0)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(name, None) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error):
        raise _damaged(name) from None
    method = _TRANSPOSE.get(orientation)
    if method is not None:
        img = img.transpose(method)
    img = _to_srgb(img, icc_profile)

    main = _encode(img)
    thumb_img = img.resize(
        _fit(img.size, THUMBNAIL_MAX_SIDE), THUMBNAIL_RESAMPLE, reducing_gap=1.0
    )
    return ProcessedPhoto(
        image=main,
        thumbnail=_encode(thumb_img),
        width=img.width,
        height=img.height,
        content_type=OUTPUT_CONTENT_TYPE,
    )


def _normalise_mode(img: Image.Image) -> Image.Image:
    """A mode that resamples well: RGB, RGBA, L, LA or CMYK."""
    mode = img.mode
    if mode in ("RGB", "RGBA", "L", "LA", "CMYK") and "transparency" not in img.info:
        return img
    if mode.startswith("I"):
        # 16-bit greyscale (PNG): keep the top eight bits.
        return img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if mode in ("P", "PA", "1", "La", "RGBa") or "transparency" in img.info:
        has_alpha = mode in ("PA", "La", "RGBa") or "transparency" in img.info
        return img.convert("RGBA" if has_alpha else "RGB")
    return img.convert("RGB")


def _to_srgb(img: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """An RGB image on white, in sRGB when the source said which colours it used."""
    if img.mode in ("RGBA", "LA"):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", img.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        # Keep the source's colour space for the conversion below.
        img = flat if img.mode == "RGBA" else flat.convert("L")
    source = _colour_profile(icc_profile)
    if source is not None:
        try:
            transform = _srgb_transform(icc_profile, img.mode)
            converted = ImageCms.applyTransform(img, transform)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            logger.info("ICC profile does not fit the image; colours kept as stored")
        else:
            if converted is not None:
                img = converted
    if img.mode != "RGB":
        img = img.convert("RGB")
    # A fresh info dict: nothing from the source reaches the encoder.
    img.info = {}
    return img


@functools.lru_cache(maxsize=16)
def _srgb_transform(icc_profile: bytes, mode: str) -> ImageCms.ImageCmsTransform:
    """A transform from the photo's profile to sRGB. Phones embed the same few
    profiles (Display P3 above all), and building one costs more than applying it."""
    return ImageCms.buildTransform(
        ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)),
        _SRGB,
        mode,
        "RGB",
        renderingIntent=ImageCms.Intent.PERCEPTUAL,
    )


def _colour_profile(icc_profile: bytes | None) -> ImageCms.ImageCmsProfile | None:
    """The source's ICC profile when it is usable and not already sRGB."""
    if not icc_profile:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        description = ImageCms.getProfileDescription(profile)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # unreadable: nothing to convert from, so it is just dropped
    return None if "srgb" in description.lower() else profile


def _encode(img: Image.Image) -> bytes:
    img.info = {}
    buf = io.BytesIO()
    img.save(
        buf,
        "JPEG",
        quality=JPEG_QUALITY,
        # Huffman optimisation would save about 2.5 % of bytes for about 12 ms
        # of a 12-megapixel photo's budget; the budget matters more.
        optimize=False,
        exif=b"",
        icc_profile=None,
    )
    return buf.getvalue()
