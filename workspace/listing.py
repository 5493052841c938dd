"""The inbox's listing: its switch to the map (workspace.inbox_map), what it
shows when a filter cannot be applied, paging that stays fast over many
reports, and columns that render without a template.

The columns: Wagtail's Column renders every cell through a template: a few hundred cells on
a page of the inbox cost more than all its queries (bench/inbox.py). A
PlainColumn writes the same ``<td>`` directly, and a PlainTable its rows: the
cells are called in Python, not each through a template tag.
"""

from __future__ import annotations

from django.forms.utils import flatatt
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from wagtail.admin import messages
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.ui.tables import Column, Table
from wagtail.admin.widgets.button import HeaderButton

from infra.moments import moment_format

from .due import Calendars, due_last_day

# Query parameters of the list that the map has no use for.
LIST_ONLY = ("p", "ordering", "_w_filter_fragment")


class PlainColumn(Column):
    def render_cell_html(self, instance, parent_context):
        value = self.get_value(instance)
        if value is None or value == "":
            value = self.empty_value_display
        if self.classname:
            return format_html('<td class="{}">{}</td>', self.classname, value)
        return format_html("<td>{}</td>", value)


class PlainTable(Table):
    """Wagtail's table (its caption, column widths and sortable headers from
    its own templates) with a body written in Python: each row's attributes
    and each column's ``render_cell_html``, as Wagtail's template would call
    them one template tag per cell."""

    template_name = "workspace/admin/plain_table.html"

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        context["body_html"] = self.body_html(parent_context)
        return context

    def body_html(self, parent_context):
        columns = list(self.columns.values())
        parts = []
        for instance in self.data:
            parts.append(format_html("<tr{}>", flatatt(self.get_row_attrs(instance))))
            parts.extend(
                column.render_cell_html(instance, parent_context) for column in columns
            )
            parts.append("</tr>")
        return mark_safe("".join(parts))  # noqa: S308 - every part escaped above


class PlainTitleColumn(PlainColumn):
    """Wagtail's title cell (a link to the report), written without a
    template: fifty of them are a tenth of the inbox's time otherwise."""

    def __init__(self, name, *, get_url, **kwargs):
        super().__init__(name, **kwargs)
        self.get_url = get_url

    def render_cell_html(self, instance, parent_context):
        return format_html(
            '<td class="title"><div class="title-wrapper"><a href="{}">{}</a>'
            "</div></td>",
            self.get_url(instance),
            self.get_value(instance),
        )


class DueColumn(PlainColumn):
    """The last day of the report's promise still to keep (workspace.due), and
    "Overdue" written out once it is broken: not shown by colour alone."""

    def __init__(self, name, **kwargs):
        super().__init__(name, **kwargs)
        self.calendars = Calendars()  # one listing's: read when first needed

    def render_cell_html(self, instance, parent_context):
        due_at = instance.due_at
        if due_at is None:
            return format_html('<td class="inbox-due">{}</td>', "–")
        calendar = self.calendars.of(instance.municipality_id)
        day = moment_format(due_last_day(calendar, due_at), with_time=False)
        if due_at < timezone.now():
            return format_html(
                '<td class="inbox-due inbox-due-overdue"><strong>{}</strong> {}</td>',
                pgettext("one report", "Overdue"),
                day,
            )
        return format_html('<td class="inbox-due">{}</td>', day)


class EitherEndPaginator(WagtailPaginator):
    """Pages read so that none costs more than it must.

    The first page is read before anything is counted: when it is not full,
    it holds every report and the count is its length (a search that finds
    a few reports, or none, reads them once); when it is full, the count
    follows. A page past the middle is read from the far end: the ids' query
    in the reverse order skips what lies after the page rather than what lies
    before it, so the last page costs what the first does. The listing's order
    must be total (``IdsFirstPaginationMixin.paginate_queryset``), or reversing
    it could move ties across a page's edge."""

    def get_page(self, number):
        if str(number or 1).strip() != "1" or "count" in self.__dict__:
            return super().get_page(number)
        found = list(self.object_list[: self.per_page + self.orphans + 1])
        if len(found) > self.per_page + self.orphans:
            found = found[: self.per_page]
        else:
            self.__dict__["count"] = len(found)  # Paginator.count, known
        return self._get_page(found, 1, self)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = self.object_list
        if bottom <= self.count // 2 or not getattr(ids, "ordered", False):
            return super().page(number)
        found = list(ids.reverse()[self.count - top : self.count - bottom])
        return self._get_page(found[::-1], number, self)


class IdsFirstPaginationMixin:
    """Page through the ids alone, then read the page's rows.

    The inbox's rows carry subqueries (the newest delivery's state and
    reference) and joins; ordering and paging them whole makes the database
    compute those for every report before it sorts and skips, which over
    100,000 reports takes seconds on a deep page (bench/inbox.py). The ids'
    query sorts and skips on the ``report_inbox`` index instead, and only the
    page's 50 rows are read in full, by id.
    """

    paginator_class = EitherEndPaginator

    def get_base_queryset(self):
        # Read twice: for the listing (filtered and sorted) and for the page.
        if not hasattr(self, "_base_queryset"):
            self._base_queryset = super().get_base_queryset()
        return self._base_queryset.all()

    def paginate_queryset(self, queryset, page_size):
        ids = queryset.values_list("pk", flat=True)
        terms = ids.query.order_by
        if terms and not any(str(t).lstrip("-") in ("pk", "id") for t in terms):
            # Ties broken by number: a total order, the same on every query of
            # the listing, read from either end (EitherEndPaginator).
            ids = ids.order_by(*terms, "-pk")
        paginator, page, id_page, is_paginated = super().paginate_queryset(
            ids, page_size
        )
        wanted = list(id_page)
        # The page's rows by id from the user's scope, without the filters: a
        # search or an area is not tested again for them.
        rows = {
            row.pk: row
            for row in self.get_base_queryset().order_by().filter(pk__in=wanted)
        }
        page.object_list = [rows[pk] for pk in wanted if pk in rows]
        return paginator, page, page.object_list, is_paginated


def query_without(params, names) -> str:
    query = params.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


class InboxMapMixin:
    """For the inbox's list: the "List / Map" switch in its header, keeping the
    query string; and a filter the list cannot apply (such as a malformed area)
    shows no reports and says why, rather than every report."""

    @property
    def header_buttons(self):
        query = query_without(self.request.GET, LIST_ONLY)
        url = reverse("inbox_map") + (f"?{query}" if query else "")
        return [
            *super().header_buttons,
            HeaderButton(_("Map"), url=url, icon_name="site"),
        ]

    def filter_queryset(self, queryset):
        if self.filters and not self.filters.is_valid():
            return queryset.none()
        return super().filter_queryset(queryset)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.filters and not self.filters.is_valid() and not self.results_only:
            for label, errors in filter_errors(self.filters).items():
                messages.error(self.request, f"{label}: {' '.join(errors)}")
        return context


def filter_errors(filters) -> dict[str, list[str]]:
    return {
        str(filters.form.fields[name].label if name in filters.form.fields else name): [
            str(m) for m in messages
        ]
        for name, messages in filters.form.errors.items()
    }
