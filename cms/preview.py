"""How editors preview the sites' pages: in a phone-sized frame first.

Most people who report a fault do it on a phone, so the preview panel opens at a
phone's width; the narrowest width WCAG 2.1's reflow criterion (1.4.10) asks a
page to work at, a tablet's and a desktop's are a click away.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# Wagtail's labels for its own three sizes (translated in Wagtail's catalogue).
PREVIEW_SIZES = [
    {
        "name": "mobile",
        "icon": "mobile-alt",
        "device_width": 375,
        "label": _("Preview in mobile size"),
    },
    {
        "name": "reflow",
        "icon": "mobile-alt",
        "device_width": 320,
        "label": _("Preview at 320 pixels, the narrowest width WCAG asks for"),
    },
    {
        "name": "tablet",
        "icon": "tablet-alt",
        "device_width": 768,
        "label": _("Preview in tablet size"),
    },
    {
        "name": "desktop",
        "icon": "desktop",
        "device_width": 1280,
        "label": _("Preview in desktop size"),
    },
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
