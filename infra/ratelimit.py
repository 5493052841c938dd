"""A fixed-window rate limit for anonymous endpoints, counted in the shared cache."""

from __future__ import annotations

import functools
import ipaddress
import time

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse


def client_address(request) -> str:
    """The client's address, for rate limits.

    Without proxies (``KNUTPUNKT_TRUSTED_PROXIES = 0``) it is the connection's
    peer, whatever the request says. Behind N proxies that each append the
    address they were reached from to ``X-Forwarded-For``, it is the N-th entry
    from the right: the entries left of it were written by the client and prove
    nothing. A header with fewer entries than proxies did not come through
    them all, and an entry that is not an address is no proxy's: the peer is
    taken then.
    """
    peer = request.META.get("REMOTE_ADDR", "")
    proxies = settings.KNUTPUNKT_TRUSTED_PROXIES
    if proxies <= 0:
        return peer
    # Django joins repeated headers with commas, in the order they came.
    hops = [
        hop.strip()
        for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if hop.strip()
    ]
    if len(hops) < proxies:
        return peer
    return _address_of(hops[-proxies]) or peer


def _address_of(hop: str) -> str | None:
    """The address in an X-Forwarded-For entry: ``203.0.113.1``, ``2001:db8::1``,
    or with a port as some proxies write it (``203.0.113.1:5100``,
    ``[2001:db8::1]:5100``); None for anything else."""
    if hop.startswith("["):
        hop, closed, _port = hop[1:].partition("]")
        if not closed:
            return None
    elif hop.count(":") == 1:
        hop = hop.partition(":")[0]
    try:
        return str(ipaddress.ip_address(hop))
    except ValueError:
        return None


def rate_hit(scope: str, ident: str) -> int:
    """Count one request of ``ident`` (an address, or a hashed account) in the
    scope's current window: 0 while within ``KNUTPUNKT_RATE_LIMITS[scope] =
    (requests, window_seconds)``, else the seconds until the window ends.

    The count lives in the cache, so every process of the scaled profile shares it.
    """
    limit, window = settings.KNUTPUNKT_RATE_LIMITS[scope]
    now = int(time.time())
    window_start = now - now % window
    key = f"ratelimit:{scope}:{ident}:{window_start}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 1)
        count = 1
    if count > limit:
        return max(1, window_start + window - now)
    return 0


def rate_limited(scope: str, *, methods: tuple[str, ...] | None = None):
    """Answer 429 with ``Retry-After`` once a client exceeds the scope's limit.

    Limits are ``KNUTPUNKT_RATE_LIMITS[scope]``, counted by ``rate_hit``. With
    ``methods``, only requests of those methods count.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if methods is not None and request.method not in methods:
                return view(request, *args, **kwargs)
            wait = rate_hit(scope, client_address(request))
            if wait:
                limit, window = settings.KNUTPUNKT_RATE_LIMITS[scope]
                response = JsonResponse(
                    {
                        "error": "rate_limited",
                        "detail": f"At most {limit} requests per {window} s.",
                    },
                    status=429,
                )
                response["Retry-After"] = str(wait)
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
