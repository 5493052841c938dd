"""Websocket consumers: live updates for whoever may see the report.

A client that reconnects says which event it saw last (``?after=<event id>``)
and first gets every public event it missed, then the live ones; it skips ids it
already has, since one can arrive both ways around the moment it joins.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from infra.live import local_fanout
from municipalities.staff import staff_workspace_scope

from .live import EVENT_MESSAGE, event_frame, event_payload, report_group
from .models import Report, ReportEvent
from .my_reports import my_reports

# Close code for "you may not watch this" (4000–4999 are the application's).
CLOSE_FORBIDDEN = 4403
BACKLOG_LIMIT = 200


def _after(scope) -> int | None:
    """The last event id the client has (0: none yet); None if it did not say,
    and then it is sent no backlog."""
    values = parse_qs(scope.get("query_string", b"").decode()).get("after")
    try:
        return max(0, int(values[0])) if values else None
    except ValueError:
        return None


@database_sync_to_async
def _missed(report_ids: list[int], after: int) -> list[dict]:
    events = ReportEvent.objects.filter(
        report_id__in=report_ids, is_public=True, pk__gt=after
    ).order_by("pk")[:BACKLOG_LIMIT]
    return [event_payload(event) for event in events]


class _WatchingConsumer(AsyncJsonWebsocketConsumer):
    """A socket watching reports. It has no channel of its own (no channel
    layer alias): the process's ``LocalFanout`` joins the reports' groups and
    hands their frames to it."""

    channel_layer_alias = None
    groups_joined: tuple[str, ...] = ()
    # Frames held until the socket is accepted and has had its backlog.
    _held: list[str] | None = None
    # Whether this socket may hear about reports that are not (or no longer)
    # public: only their own reporter's.
    sees_hidden = False

    async def connect(self):
        report_ids = await self._report_ids()
        if report_ids is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.watch(report_ids)

    async def _report_ids(self) -> list[int] | None:
        """The reports this socket may watch; None refuses it."""
        raise NotImplementedError

    async def watch(self, report_ids: list[int]) -> None:
        fanout = local_fanout()
        self._held = []
        self.groups_joined = tuple(report_group(pk) for pk in report_ids)
        if fanout is not None:
            for group in self.groups_joined:
                await fanout.join(group, self)
        await self.accept()
        after = _after(self.scope)
        if after is not None:
            for payload in await _missed(report_ids, after):
                await self.send_json(payload)
        # Frames that came while joining, after the backlog (the client skips
        # an event it has had both ways).
        held, self._held = self._held, None
        for text in held:
            await self.send(text_data=text)

    async def disconnect(self, code):
        fanout = local_fanout()
        if fanout is not None:
            for group in self.groups_joined:
                await fanout.leave(group, self)

    async def live_frame(self, message):
        """A report's event, from the process's fan-out. The first socket of the
        process handed it renders the frame; the others are sent the same text."""
        if not (message.get("public", True) or self.sees_hidden):
            return
        text = message.get("text")
        if text is None and message.get("type") == EVENT_MESSAGE:
            text = message["text"] = event_frame(message)
        if text is None:
            return
        if self._held is not None:
            self._held.append(text)
        else:
            await self.send(text_data=text)


class ReportConsumer(_WatchingConsumer):
    """One report's page: joins the report's group if the visitor may see it."""

    @database_sync_to_async
    def _report_ids(self) -> list[int] | None:
        report_id = self.scope["url_route"]["kwargs"]["pk"]
        user = self.scope.get("user")
        reporters = list(
            Report.objects.visible_to(user)
            .filter(pk=report_id)
            .values_list("reporter_id", flat=True)[:1]
        )
        if not reporters:
            return None
        self.sees_hidden = bool(
            user is not None and user.is_authenticated and reporters[0] == user.pk
        )
        return [report_id]


class MyReportsConsumer(_WatchingConsumer):
    """ "Mina sidor": every report of the signed-in reporter, or of the e-mail
    address a magic link proved, in one socket."""

    sees_hidden = True  # they are all the visitor's own reports

    @database_sync_to_async
    def _report_ids(self) -> list[int] | None:
        reports = my_reports(
            user=self.scope.get("user"), session=self.scope.get("session")
        )
        if reports is None:
            return None
        return list(reports.values_list("pk", flat=True)[:BACKLOG_LIMIT])


class StaffReportConsumer(_WatchingConsumer):
    """A report in the staff workspace: only for staff who may see it there."""

    sees_hidden = True

    @database_sync_to_async
    def _report_ids(self) -> list[int] | None:
        report_id = self.scope["url_route"]["kwargs"]["pk"]
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return None
        allowed = (
            Report.objects.filter(staff_workspace_scope(user))
            .filter(pk=report_id)
            .exists()
        )
        return [report_id] if allowed else None
