"""Photos as a browser uploads them."""

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from wagtail.images.models import Image as WagtailImage

from cms.services import shared_collection_ensure
from municipalities.models import Municipality


def jpeg(name="lampa.jpg", size=(800, 600)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def png_claiming(name: str, width: int, height: int) -> SimpleUploadedFile:
    """An upload of a few hundred bytes whose header claims many pixels."""
    return SimpleUploadedFile(
        name, png_header_only(width, height), content_type="image/png"
    )


def image_in(code: str | None, title: str):
    """A Wagtail image in kommun ``code``'s collection (None: the shared
    national one), as an editor there would have uploaded it."""
    collection = (
        Municipality.objects.get(code=code).collection
        if code
        else shared_collection_ensure()
    )
    return WagtailImage.objects.create(
        title=title, file=jpeg(f"{title}.jpg", size=(8, 8)), collection=collection
    )
