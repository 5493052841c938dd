"""Which tenant a request is for: the Wagtail site its host names, and that
site's kommun. Cached per process, because it is asked on every request and sites
change rarely."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.http.request import split_domain_port
from wagtail.models import Site

from .models import Municipality

CACHE_SECONDS = 60.0
_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[float, SiteTenant]] = {}


@dataclass(frozen=True)
class SiteTenant:
    site_id: int | None
    municipality: Municipality | None


def tenant_for_request(request) -> SiteTenant:
    """The site and kommun serving this request (the national site has no kommun)."""
    hostname, _port = split_domain_port(request.get_host())
    key = (hostname, request.get_port())
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    site = Site.find_for_request(request)
    municipality = (
        Municipality.objects.filter(site=site).select_related("county").first()
        if site
        else None
    )
    tenant = SiteTenant(site_id=site.pk if site else None, municipality=municipality)
    with _lock:
        _cache[key] = (now, tenant)
    return tenant


def tenant_cache_clear() -> None:
    with _lock:
        _cache.clear()
