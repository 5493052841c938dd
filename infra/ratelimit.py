"""A fixed-window rate limit for anonymous endpoints, counted in the shared cache."""

from __future__ import annotations

import functools
import time

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse


def client_address(request) -> str:
    """The client's address; behind a trusted proxy, the first forwarded hop."""
    if settings.KNUTPUNKT_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def rate_limited(scope: str, *, methods: tuple[str, ...] | None = None):
    """Answer 429 with ``Retry-After`` once a client exceeds the scope's limit.

    Limits are ``KNUTPUNKT_RATE_LIMITS[scope] = (requests, window_seconds)``;
    the count lives in the cache, so every process of the scaled profile shares it.
    With ``methods``, only requests of those methods count.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if methods is not None and request.method not in methods:
                return view(request, *args, **kwargs)
            limit, window = settings.KNUTPUNKT_RATE_LIMITS[scope]
            now = int(time.time())
            window_start = now - now % window
            key = f"ratelimit:{scope}:{client_address(request)}:{window_start}"
            cache.add(key, 0, timeout=window + 1)
            try:
                count = cache.incr(key)
            except ValueError:  # evicted between add and incr
                cache.set(key, 1, timeout=window + 1)
                count = 1
            if count > limit:
                response = JsonResponse(
                    {
                        "error": "rate_limited",
                        "detail": f"At most {limit} requests per {window} s.",
                    },
                    status=429,
                )
                response["Retry-After"] = str(window_start + window - now)
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
