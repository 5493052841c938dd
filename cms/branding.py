"""A kommun site's brand: its colours checked for contrast, and the small
stylesheet that carries them (the public pages' CSP allows no inline style).

WCAG 2.1 AA asks 4.5:1 between text and its background (1.4.3): the header's
text colour on the brand colour, and the brand colour as link text on white.
"""

from __future__ import annotations

import hashlib

from django.utils.formats import number_format

# WCAG 2.1, 1.4.3 Contrast (Minimum), normal text.
MIN_CONTRAST = 4.5
WHITE = "#ffffff"


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """WCAG's relative luminance of ``#rrggbb``."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(first: str, second: str) -> float:
    """WCAG's contrast ratio of two colours, from 1 to 21."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def contrast_params(ratio: float) -> dict:
    """A ratio and the minimum for a message, written as the active language
    writes numbers ("1,4:1" in Swedish, "1.4:1" in English)."""
    return {"ratio": number_format(ratio, 1), "min": number_format(MIN_CONTRAST, 1)}


def stylesheet(brand: str, text: str) -> str:
    return (
        f":root {{ --brand: {brand}; --brand-text: {text}; }}\n"
        ".site-header { background: var(--brand); color: var(--brand-text); }\n"
        ".site-header a, .site-header label { color: var(--brand-text); }\n"
        ".site-footer a { color: var(--brand); }\n"
    )


def version(brand: str, text: str) -> str:
    """Names the stylesheet's content in its URL, so a change shows at once
    while browsers may keep each version."""
    return hashlib.sha256(f"{brand}{text}".encode()).hexdigest()[:12]
