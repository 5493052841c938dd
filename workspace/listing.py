"""Listing columns that render without a template.

Wagtail's Column renders every cell through a template: a few hundred cells on
a page of the inbox cost more than all its queries (bench/inbox.py). A
PlainColumn writes the same ``<td>`` directly.
"""

from __future__ import annotations

from django.utils.html import format_html
from wagtail.admin.ui.tables import Column


class PlainColumn(Column):
    def render_cell_html(self, instance, parent_context):
        value = self.get_value(instance)
        if value is None or value == "":
            value = self.empty_value_display
        if self.classname:
            return format_html('<td class="{}">{}</td>', self.classname, value)
        return format_html("<td>{}</td>", value)


class IdsFirstPaginationMixin:
    """Page through the ids alone, then read the page's rows.

    The inbox's rows carry subqueries (the newest delivery's state and
    reference) and joins; ordering and paging them whole makes the database
    compute those for every report before it sorts and skips, which over
    100,000 reports takes seconds on a deep page (bench/inbox.py). The ids'
    query sorts and skips on the ``report_inbox`` index instead, and only the
    page's 50 rows are read in full.
    """

    def paginate_queryset(self, queryset, page_size):
        ids = queryset.values_list("pk", flat=True)
        paginator, page, id_page, is_paginated = super().paginate_queryset(
            ids, page_size
        )
        wanted = list(id_page)
        rows = {row.pk: row for row in queryset.order_by().filter(pk__in=wanted)}
        page.object_list = [rows[pk] for pk in wanted if pk in rows]
        return paginator, page, page.object_list, is_paginated
