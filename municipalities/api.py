"""Public JSON endpoints of the municipalities app."""

from django.core.exceptions import ValidationError
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from infra.ratelimit import rate_limited

from .locate import municipality_for_point, parse_point


def invalid_point_response(exc: ValidationError) -> JsonResponse:
    """The 400 every JSON endpoint answers for bad ``lat``/``lon``."""
    return JsonResponse(
        {"error": "invalid_point", "fields": exc.message_dict}, status=400
    )


@require_GET
@rate_limited("locate")
def locate(request):
    """``GET /api/v1/locate?lat=..&lon=..``: the kommun responsible for a point."""
    try:
        lat, lon = parse_point(request.GET.get("lat"), request.GET.get("lon"))
    except ValidationError as exc:
        return invalid_point_response(exc)
    located = municipality_for_point(lat=lat, lon=lon)
    municipality = located.municipality
    body = {
        "lat": lat,
        "lon": lon,
        "match": located.match.value,
        "distance_m": round(located.distance_m, 1),
        "municipality": None,
    }
    if municipality is not None:
        body["municipality"] = {
            "code": municipality.code,
            "name": municipality.name,
            "slug": municipality.slug,
            "county": municipality.county.name,
            "participating": municipality.participating,
        }
    return JsonResponse(body)


@require_GET
def healthz(request):
    """Liveness and database reachability for load balancers and tests."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})
