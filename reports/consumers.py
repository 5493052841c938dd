"""Websocket consumers: live updates for whoever may see the report."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .live import report_group
from .models import Report

# Close code for "you may not watch this" (4000–4999 are the application's).
CLOSE_FORBIDDEN = 4403


class ReportConsumer(AsyncJsonWebsocketConsumer):
    """Joins the report's group; each public event arrives as one JSON frame."""

    group: str | None = None

    async def connect(self):
        report_id = self.scope["url_route"]["kwargs"]["pk"]
        if not await self._may_watch(report_id):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = report_group(report_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    @database_sync_to_async
    def _may_watch(self, report_id: int) -> bool:
        user = self.scope.get("user")
        return Report.objects.visible_to(user).filter(pk=report_id).exists()

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def report_event(self, message):
        await self.send_json(message["event"])
