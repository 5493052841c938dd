"""Live updates of a report: who is watching it and what they are sent.

Every accepted change of a report becomes a ``ReportEvent``; after commit it is
sent to the report's group on the channel layer, rendered in each language the
site speaks, so that a watcher's page shows it as it would after a reload. The
frame is encoded once, here; every socket is sent the same text.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from config.live import group_send

from .models import ReportEvent


def report_group(report_id: int) -> str:
    return f"report-{report_id}"


def event_payload(event: ReportEvent) -> dict:
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


def event_broadcast(event: ReportEvent) -> None:
    """Send a public event to everyone watching its report (call after commit)."""
    if not event.is_public:
        return
    from .models import Report

    # Whether the report is public now: sockets opened while it was are told
    # nothing more once it is hidden (its reporter, who may see it, still is).
    public = Report.objects.public().filter(pk=event.report_id).exists()
    group_send(
        report_group(event.report_id),
        {
            "type": "report.event",
            "text": json.dumps(event_payload(event), separators=(",", ":")),
            "public": public,
        },
    )
