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
