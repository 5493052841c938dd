"""How the statistics' cells read: a dash for no figure, shares in per cent."""

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def stat_cell(value, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "share":
        return f"{number_format(round(value * 100))}\u00a0%"
    return number_format(value, force_grouping=True)


@register.simple_tag
def stat_rows(table) -> str:
    """The table's body rows, written here rather than cell by cell in the
    template: a table of kommuner has thousands of cells."""
    return mark_safe(  # noqa: S308 - every value goes through format_html
        "".join(
            format_html(
                '<tr><th scope="row">{}</th>{}</tr>',
                row.label,
                format_html_join(
                    "", "<td>{}</td>", ((stat_cell(v, k),) for k, v in table.cells(row))
                ),
            )
            for row in table.rows
        )
    )
