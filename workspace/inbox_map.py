"""The inbox as a map: the same reports as the inbox's list (the same scope
through the inbox's permission policy, the same filters through its filter
set), drawn as markers, clustered when there are many.

The page (``/admin/inbox/map/``) carries the list's query string; its map asks
``/admin/inbox/map/reports/`` with that query string plus the visible box and
zoom. The answer is bounded as the public map's is (reports.map): at street
level the newest ``STREET_LIMIT`` reports in the box, zoomed out one cluster per
cell of the public map's grid, counted by the database, so that no answer has
more than ``MAX_FEATURES`` features however many reports match. The browser side
is the public map's script (static/js/reports_map.js), pointed at this endpoint.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import HeaderButton

from municipalities.locate import SWEDEN_BOUNDS, municipality_bounds
from municipalities.staff import CASEWORK_ROLES, staff_municipalities
from reports.choices import ReportStatus
from reports.map import (
    LON_COLUMNS_PER_DEGREE,
    STREET_LIMIT,
    BBox,
    _cells,
    _in_bands,
    cell_counts,
    cluster_shift,
    is_street_level,
    lat_band_for,
    parse_bbox,
    parse_zoom,
)
from reports.models import LAT_BANDS_PER_DEGREE, LatBand

from .admin_views import InboxFilterSet, inbox_scope, report_policy
from .listing import LIST_ONLY, filter_errors, query_without

# Query parameters of the map itself, not filters of the inbox.
MAP_PARAMETERS = ("bbox", "zoom")


def filtered_reports(
    request, *, ignore=MAP_PARAMETERS, plain: bool = False
) -> tuple[QuerySet, object]:
    """The reports the inbox's list would show for this request (its scope and
    filters), and the filter set; a 404 for users without the inbox. The
    query parameters ``ignore`` are not filters; ``plain``: the scope without
    the list's annotations (for counting, workspace.statistics)."""
    filterset_class, policy = InboxFilterSet, report_policy
    user = request.user
    if not policy.user_has_permission(user, "view"):
        raise Http404
    if plain:
        scope = inbox_scope(user)
    else:
        scope = policy.instances_user_has_any_permission_for(user, {"view"})
    params = request.GET.copy()
    for name in ignore:
        params.pop(name, None)
    filters = filterset_class(data=params, request=request, queryset=scope)
    return filters.qs if filters.is_valid() else scope.none(), filters


def _feature(lon: float, lat: float, properties: dict) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": properties,
    }


def _report_features(reports: QuerySet) -> list[dict]:
    labels = {value: str(label) for value, label in ReportStatus.choices}
    marker = "9081726354"
    before, after = reverse("inbox:inspect", args=[int(marker)]).split(marker)
    rows = reports.order_by("-created_at", "-pk").values_list(
        "pk", "lat", "lon", "title", "category__name", "status"
    )
    return [
        _feature(
            lon,
            lat,
            {
                "cluster": False,
                "id": pk,
                "title": f"#{pk} {title}",
                "url": f"{before}{pk}{after}",
                "category": {"name": category},
                "status": status,
                "status_label": labels.get(status, status),
            },
        )
        for pk, lat, lon, title, category, status in rows
    ]


def _street(bbox: BBox, reports: QuerySet) -> tuple[list[dict], bool]:
    # The public map's bands: the report_map index orders the box's reports
    # by age without reading them.
    boxed = _in_bands(
        reports, lat_band_for(bbox.south), lat_band_for(bbox.north)
    ).filter(lon__range=(bbox.west, bbox.east), lat__range=(bbox.south, bbox.north))
    newest = list(
        boxed.order_by("-created_at", "-pk").values_list("pk", flat=True)[
            : STREET_LIMIT + 1
        ]
    )
    features = _report_features(
        reports.model.objects.filter(pk__in=newest[:STREET_LIMIT])
    )
    return features, len(newest) > STREET_LIMIT


def _clustered(bbox: BBox, zoom: int, reports: QuerySet) -> list[dict]:
    """One feature per grid cell of the public map's grid (reports.map): a
    cluster with its count at the cell's mean position, or the report itself
    when the cell holds one."""
    shift = cluster_shift(bbox, zoom)
    row0, row1, col0, col1 = _cells(bbox, shift)
    size = 1 << shift
    west = col0 * size / LON_COLUMNS_PER_DEGREE - 180.0 - 1e-9
    east = (col1 + 1) * size / LON_COLUMNS_PER_DEGREE - 180.0 + 1e-9
    # A plain range of lat and lon: the inbox is one kommun's reports, and the
    # report_inbox_map index (kommun, lat, lon, …) holds every column counted.
    south = (row0 * size) / LAT_BANDS_PER_DEGREE - 90.0
    north = ((row1 + 1) * size) / LAT_BANDS_PER_DEGREE - 90.0
    boxed = reports.alias(lat_band=LatBand("lat")).filter(
        lon__range=(west, east), lat__gte=south, lat__lt=north
    )
    cells = cell_counts(boxed, shift)
    features, singles = [], []
    for row, col, count, mean_lat, mean_lon, first in cells:
        if not (row0 <= row <= row1 and col0 <= col <= col1):
            continue
        if count == 1:
            singles.append(first)
        else:
            features.append(
                (count, _feature(mean_lon, mean_lat, {"cluster": True, "count": count}))
            )
    features.sort(key=lambda pair: -pair[0])
    found = [feature for _count, feature in features]
    if singles:
        found += _report_features(reports.model.objects.filter(pk__in=singles))
    return found


def inbox_map_reports(request):
    """GeoJSON of the inbox's reports in a box: ``bbox`` and ``zoom`` as the
    public map's API takes them, and the inbox's filters. Errors are 400 JSON
    keyed by parameter."""
    reports, filters = filtered_reports(request)
    errors: dict[str, list[str]] = {}
    if filters.form.errors:
        errors.update({name: list(m) for name, m in filters.form.errors.items()})
    values = {}
    for name, parse in (("bbox", parse_bbox), ("zoom", parse_zoom)):
        try:
            values[name] = parse(request.GET.get(name))
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    bbox, zoom = values["bbox"], values["zoom"]
    if is_street_level(bbox, zoom):
        features, truncated = _street(bbox, reports)
        clustered = False
    else:
        features, truncated = _clustered(bbox, zoom, reports), False
        clustered = True
    return JsonResponse(
        {
            "type": "FeatureCollection",
            "clustered": clustered,
            "truncated": truncated,
            "features": features,
        }
    )


def _bounds(user) -> tuple[float, float, float, float]:
    """The user's kommuner's box, or Sweden's."""
    boxes = [
        b
        for code in staff_municipalities(user, CASEWORK_ROLES).values_list(
            "code", flat=True
        )[:20]
        if (b := municipality_bounds(code))
    ]
    if not boxes:
        return SWEDEN_BOUNDS
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def inbox_map_page(request):
    """The inbox's filters and a map of the reports they find."""
    _reports, filters = filtered_reports(request)
    query = query_without(request.GET, (*MAP_PARAMETERS, *LIST_ONLY))
    list_url = reverse("inbox:index") + (f"?{query}" if query else "")
    return render(
        request,
        "workspace/admin/inbox_map.html",
        {
            "header_title": _("Inbox map"),
            "page_title": _("Inbox map"),
            "header_icon": "site",
            "breadcrumbs_items": [
                *WagtailAdminTemplateMixin.breadcrumbs_items,
                {"url": list_url, "label": _("Inbox")},
                {"url": "", "label": _("Map")},
            ],
            "header_buttons": [
                HeaderButton(_("List"), url=list_url, icon_name="list-ul")
            ],
            "filters": filters,
            "filter_errors": filter_errors(filters) if filters.form.errors else {},
            "query": query,
            "query_without_area": query_without(
                request.GET, (*MAP_PARAMETERS, *LIST_ONLY, "area")
            ),
            "list_url": list_url,
            "endpoint": reverse("inbox_map_reports"),
            "bounds": ",".join(str(v) for v in _bounds(request.user)),
        },
    )


def inbox_map_urls() -> list:
    return [
        path("inbox/map/", inbox_map_page, name="inbox_map"),
        path("inbox/map/reports/", inbox_map_reports, name="inbox_map_reports"),
    ]
