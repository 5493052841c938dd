"""How editors preview the sites' pages: in a phone-sized frame first.

Most people who report a fault do it on a phone, so the preview panel opens at a
phone's width; the narrowest width WCAG 2.1's reflow criterion (1.4.10) asks a
page to work at, a tablet's and a desktop's are a click away.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail.models import PreviewableMixin

# Wagtail's own sizes (a 375-pixel phone, a tablet, a desktop, with Wagtail's
# labels), and the reflow width beside the phone.
_WAGTAILS = {size["name"]: size for size in PreviewableMixin.DEFAULT_PREVIEW_SIZES}
PREVIEW_SIZES = [
    _WAGTAILS["mobile"],
    {
        "name": "reflow",
        "icon": "mobile-alt",
        "device_width": 320,
        "label": _("Preview at 320 pixels, the narrowest width WCAG asks for"),
    },
    _WAGTAILS["tablet"],
    _WAGTAILS["desktop"],
]
DEFAULT_PREVIEW_SIZE = "mobile"


class PhoneFirstPreviewMixin:
    """For the sites' page models: the preview opens phone-sized."""

    @property
    def preview_sizes(self):
        return PREVIEW_SIZES

    @property
    def default_preview_size(self):
        return DEFAULT_PREVIEW_SIZE
