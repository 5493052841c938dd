"""Public JSON endpoints of the reports app."""

from urllib.parse import urlencode

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from infra.ratelimit import rate_limited

from . import map as reports_map


def _report_feature(report: reports_map.MapReport) -> dict:
    return {
        "type": "Feature",
        "id": report.id,
        "geometry": {"type": "Point", "coordinates": [report.lon, report.lat]},
        "properties": {
            "cluster": False,
            "title": report.title,
            "category": {"name": report.category_name, "slug": report.category_slug},
            "status": report.status,
            "status_label": report.status_label,
            "municipality": report.municipality_name,
            "created_at": report.created_at,
            "updated_at": report.updated_at,
            "url": report.url,
            "reporter": report.reporter_name or None,
        },
    }


def _cluster_feature(cluster: reports_map.MapCluster) -> dict:
    return {
        "type": "Feature",
        "geometry": {
            "type": "Point",
            # A mean: six decimals (0.1 m) are plenty.
            "coordinates": [round(cluster.lon, 6), round(cluster.lat, 6)],
        },
        "properties": {"cluster": True, "count": cluster.count},
    }


@require_GET
@rate_limited("reports_map")
def reports_in_bbox(request):
    """``GET /api/v1/reports?bbox=west,south,east,north&zoom=Z``: the public map.

    Optional ``status`` (``open``, ``closed`` or status values) and ``category``
    (slugs), both comma-separated. A GeoJSON FeatureCollection: the newest
    ``reports_map.STREET_LIMIT`` reports at street level (``truncated`` when there
    were more), or at most ``reports_map.MAX_FEATURES`` clusters (with their
    ``count``) and single reports when zoomed out. Bad parameters get a 400 naming
    each one at fault. The only personal data is the reporter's name, and only
    where the reporter chose to show it.
    """
    try:
        query = reports_map.parse_map_query(request.GET)
    except ValidationError as exc:
        return JsonResponse(
            {"error": "invalid_query", "fields": exc.message_dict}, status=400
        )
    cache_key = None
    if not reports_map.is_street_level(query["bbox"], query["zoom"]):
        canonical = urlencode(sorted(request.GET.items()))
        cache_key = f"reports:map:{reports_map.map_version()}:{canonical}"
        cached = cache.get(cache_key)
        if cached is not None:
            return HttpResponse(cached, content_type="application/json")
    result = reports_map.reports_in_bbox(**query)
    features = [_cluster_feature(c) for c in result.clusters]
    features += [_report_feature(r) for r in result.reports]
    response = JsonResponse(
        {
            "type": "FeatureCollection",
            "zoom": result.zoom,
            "clustered": result.clustered,
            "truncated": result.truncated,
            "features": features,
        },
        # Compact, and no cycle check: these dicts are built just above.
        json_dumps_params={"separators": (",", ":"), "check_circular": False},
    )
    if cache_key is not None:
        cache.set(cache_key, response.content, reports_map.CLUSTER_CACHE_SECONDS)
    return response
