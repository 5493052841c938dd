from django import template

from reports.choices import ReportPriority

register = template.Library()


@register.filter
def priority_label(value: str) -> str:
    """The label of a priority stored in an event's data."""
    try:
        return str(ReportPriority(value).label)
    except ValueError:
        return value
