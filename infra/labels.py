"""Choice labels as text, read once per language.

``get_FOO_display()`` hashes the field's choices and translates the label on
every call; a listing of 50 rows with three such columns makes that a fifth of
its time (bench/inbox.py). ``choice_label`` keeps each choices class's labels
per language.
"""

from __future__ import annotations

from functools import lru_cache

from django.db.models import Choices
from django.utils.translation import get_language


def choice_label(choices: type[Choices], value) -> str:
    """The label of ``value`` in ``choices`` in the active language; an unknown
    value is shown as it is."""
    return _labels(choices, get_language()).get(value, value)


@lru_cache(maxsize=256)
def _labels(choices: type[Choices], language: str | None) -> dict:
    return {value: str(label) for value, label in choices.choices}
