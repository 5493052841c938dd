"""Live updates of a report: who is watching it and what they are sent.

Every accepted change of a report becomes a ``ReportEvent``; after commit its
fields (not its rendering) go to the report's group on the channel layer. Each
server process that has sockets watching the report renders the frame once, in
each language the site speaks, so that a watcher's page shows the event as it
would after a reload; every socket of the process is sent the same text. An
event nobody watches is never rendered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from infra.live import group_send, group_send_many

from .models import Report, ReportEvent

# The message type the watching consumers take (infra.live.LocalFanout).
EVENT_MESSAGE = "report.event"


def report_group(report_id: int) -> str:
    return f"report-{report_id}"


def event_fields(event: ReportEvent) -> dict:
    """What a watcher's process needs to render the event, as JSON values."""
    return {
        "id": event.pk,
        "report": event.report_id,
        "kind": event.kind,
        "status": event.status,
        "note": event.note,
        "data": event.data,
        "created_at": event.created_at.isoformat(),
        "happened_at": event.happened_at.isoformat() if event.happened_at else None,
        "superseded": event.superseded,
    }


def event_from_fields(fields: dict) -> ReportEvent:
    """An unsaved event with the fields of ``event_fields``, to render."""
    happened_at = fields.get("happened_at")
    return ReportEvent(
        pk=fields["id"],
        report_id=fields["report"],
        kind=fields["kind"],
        status=fields["status"],
        note=fields["note"],
        data=fields["data"],
        created_at=datetime.fromisoformat(fields["created_at"]),
        happened_at=datetime.fromisoformat(happened_at) if happened_at else None,
        superseded=fields["superseded"],
    )


def event_payload(event: ReportEvent) -> dict:
    """The frame a watcher's page takes: the event rendered in every language."""
    html, status_display = {}, {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            html[code] = render_to_string("reports/_event.html", {"event": event})
            status_display[code] = str(event.get_status_display())
    return {
        "type": "event",
        "id": event.pk,
        "report": event.report_id,
        "kind": event.kind,
        "status": event.status,
        # A superseded event is history only: the report's status stays.
        "changes_status": bool(event.status) and not event.superseded,
        "status_display": status_display,
        "data": event.data,
        "created_at": event.created_at.isoformat(),
        "html": html,
    }


def event_frame(message: dict) -> str:
    """The JSON text of a broadcast event's frame (rendered by the receiving
    process, once for all its sockets)."""
    payload = event_payload(event_from_fields(message["event"]))
    return json.dumps(payload, separators=(",", ":"))


def event_message(event: ReportEvent, *, public: bool) -> dict:
    """The channel-layer message for one event. ``public``: whether the report is
    public now; sockets opened while it was are told nothing more once it is
    hidden (its reporter, who may see it, still is)."""
    return {"type": EVENT_MESSAGE, "event": event_fields(event), "public": public}


def event_broadcast(event: ReportEvent) -> None:
    """Send a public event to everyone watching its report (call after commit)."""
    if not event.is_public:
        return
    public = Report.objects.public().filter(pk=event.report_id).exists()
    group_send(report_group(event.report_id), event_message(event, public=public))


def events_broadcast(events: Iterable[ReportEvent], *, public: set[int]) -> None:
    """Send many public events at once (call after commit); ``public`` holds the
    ids of the reports that are public now."""
    group_send_many(
        [
            (
                report_group(event.report_id),
                event_message(event, public=event.report_id in public),
            )
            for event in events
            if event.is_public
        ]
    )
