"""Saved inbox filters: a member of staff names the inbox's current filters and
finds them again as a link; each sees and deletes their own only."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from wagtail.admin import messages

from .models import SavedFilter

# Not part of a filter set: the page, an export, Wagtail's own parameters.
NOT_FILTERS = ("p", "export", "ordering_fallback")


def filter_query(data: QueryDict) -> str:
    """The filters of an inbox query string, in a stable form."""
    kept = QueryDict(mutable=True)
    for key in sorted(data):
        if key in NOT_FILTERS or key.startswith("_"):
            continue
        values = [v for v in data.getlist(key) if v != ""]
        if values:
            kept.setlist(key, values)
    return kept.urlencode()


def saved_filters(user):
    return SavedFilter.objects.filter(user=user)


@transaction.atomic
def saved_filter_save(*, user, name: str, query: str) -> SavedFilter:
    """Save the filters under ``name``; a name already used is overwritten."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Name the filters.")})
    if len(name) > 100:
        raise ValidationError({"name": _("At most 100 characters.")})
    query = filter_query(QueryDict(query))
    if len(query) > 2000:
        raise ValidationError({"query": _("Too many filters to save.")})
    saved, _created = SavedFilter.objects.update_or_create(
        user=user, name=name, defaults={"query": query}
    )
    return saved


@transaction.atomic
def saved_filter_delete(*, user, filter_id: int) -> None:
    """Delete one of the user's own saved filters; another's is not found."""
    deleted, _by_model = SavedFilter.objects.filter(user=user, pk=filter_id).delete()
    if not deleted:
        raise SavedFilter.DoesNotExist


def _inbox(query: str) -> str:
    index = reverse("inbox:index")
    return f"{index}?{query}" if query else index


class SavedFilterCreateView(View):
    http_method_names = ["post"]

    def post(self, request):
        query = request.POST.get("query", "")
        try:
            saved = saved_filter_save(
                user=request.user, name=request.POST.get("name", ""), query=query
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(_inbox(filter_query(QueryDict(query[:2000]))))
        messages.success(
            request, _("Filters saved as “%(name)s”.") % {"name": saved.name}
        )
        return redirect(_inbox(saved.query))


class SavedFilterDeleteView(View):
    http_method_names = ["post"]

    def post(self, request, pk: int):
        try:
            saved_filter_delete(user=request.user, filter_id=pk)
        except SavedFilter.DoesNotExist:
            raise Http404 from None
        messages.success(request, _("The saved filters were deleted."))
        return redirect("inbox:index")
