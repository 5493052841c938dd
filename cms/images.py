"""Editors' images lose their metadata on upload, as citizens' photos do.

A photo taken on a phone carries where and when it was taken and with what
(EXIF, XMP, comments). Every image saved with a new file is read with Pillow,
turned the way its EXIF orientation says, and written again in its own format
without any of that (its colour profile kept), before Wagtail stores it and
counts its size, hash and dimensions.
"""

from __future__ import annotations

import io
import os

from django.core.files.base import ContentFile
from PIL import Image, ImageOps

# Formats written again here: those that carry photo metadata. A GIF (an
# animation, say) has none to speak of and is left as it is.
_REWRITTEN = {"JPEG": {"quality": 95}, "PNG": {}, "WEBP": {"quality": 95}}


def image_without_metadata(raw: bytes) -> bytes | None:
    """``raw`` written again without metadata, or None where it needs no
    rewriting (a format without photo metadata, or not an image: Wagtail's own
    checks then say so at the field)."""
    try:
        with Image.open(io.BytesIO(raw)) as img:
            pil_format = img.format
            if pil_format not in _REWRITTEN:
                return None
            icc = img.info.get("icc_profile")
            turned = ImageOps.exif_transpose(img)
            out = io.BytesIO()
            options = dict(_REWRITTEN[pil_format])
            if icc:
                options["icc_profile"] = icc
            if pil_format == "JPEG" and turned.mode not in ("RGB", "L", "CMYK"):
                turned = turned.convert("RGB")
            turned.save(out, pil_format, **options)
            return out.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def strip_on_save(sender, instance, **kwargs) -> None:
    """pre_save of Wagtail's image model: a new file is written again."""
    file = instance.file
    if not file or getattr(file, "_committed", True):
        return
    file.seek(0)
    clean = image_without_metadata(file.read())
    file.seek(0)
    if clean is None:
        return
    instance.file = ContentFile(clean, name=os.path.basename(file.name))
    instance._set_image_file_metadata()
