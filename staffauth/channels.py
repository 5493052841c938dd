"""The second factor on websockets: a member of staff who has given the password but
not yet the code is nobody there."""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from .twofactor import second_factor_satisfied_in_session


class SecondFactorScopeMiddleware:
    """Inside Channels' ``AuthMiddleware``: replaces ``scope["user"]`` with an
    anonymous user while the session still owes its second factor."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        user = scope.get("user")
        if user is not None and user.is_authenticated:
            satisfied = await database_sync_to_async(
                second_factor_satisfied_in_session
            )(user, scope["session"])
            if not satisfied:
                scope = dict(scope, user=AnonymousUser())
        return await self.inner(scope, receive, send)
