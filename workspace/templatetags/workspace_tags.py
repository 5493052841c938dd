from django import template

from infra.labels import choice_label
from reports.choices import ReportPriority

register = template.Library()


@register.filter
def priority_label(value: str) -> str:
    """The label of a priority stored in an event's data."""
    return choice_label(ReportPriority, value)
