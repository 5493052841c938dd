"""Small lookups for the report form's templates: what was sent for an extra
question, and its errors, by the question's input name. Each answers empty where
nothing was sent (the categories fragment, a new form)."""

from django import template
from django.http import QueryDict

register = template.Library()


@register.filter
def posted_value(posted, name: str) -> str:
    """The value sent for ``name``."""
    return posted.get(name, "") if isinstance(posted, QueryDict) else ""


@register.filter
def posted_values(posted, name: str) -> list[str]:
    """Every value sent for ``name`` (the ticked boxes of a multiple choice)."""
    return posted.getlist(name) if isinstance(posted, QueryDict) else []


@register.filter
def errors_for(errors, name: str) -> list[str]:
    """The errors of the extra question whose input is ``name``."""
    return errors.get(name, []) if isinstance(errors, dict) else []


@register.filter
def questions_in(category, municipality):
    """The category's extra questions asked in the kommun (its own included)."""
    return category.questions_for(municipality.pk if municipality else None)


@register.filter
def notices_for(notices, category) -> list:
    """The operational messages at the point for ``category`` only
    (``municipalities.notices.PointMessages``); none without any."""
    return notices.for_category(category.pk) if notices else []
