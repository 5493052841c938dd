"""How the statistics' cells read: a dash for no figure, shares in per cent."""

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def stat_cell(value, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "share":
        return f"{number_format(round(value * 100))}\u00a0%"
    return number_format(value, force_grouping=True)


@register.filter
def stat_cells(table, row):
    """(kind, value) of each column of a table's row."""
    return table.cells(row)
