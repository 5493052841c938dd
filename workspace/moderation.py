"""Moderation in words, for the public timeline and the reporter's e-mail."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def moderation_summary(*, changed: list[str], photos: int) -> str:
    """What moderation edited, in words: "the title, 2 photos" (``changed``:
    "title", "description" of a report, "update_text" of a citizen's update)."""
    parts = []
    if "title" in changed:
        parts.append(_("the title"))
    if "description" in changed:
        parts.append(_("the description"))
    if "update_text" in changed:
        parts.append(_("the text of an update"))
    if photos:
        parts.append(
            ngettext("%(count)d photo", "%(count)d photos", photos) % {"count": photos}
        )
    return ", ".join(parts)
