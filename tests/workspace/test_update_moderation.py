"""Staff moderate a citizen's update as they moderate a report: its text and
photo hidden for a public reason, the original kept for audit only; another
kommun's staff cannot."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.test import Client

from municipalities.audit import AuditEntry
from municipalities.choices import StaffRole
from reports.choices import EventKind
from reports.events import Actor
from reports.models import ReportEvent, ReportPhoto
from reports.photos import process_photos
from reports.updates import report_update_add
from tests.support.casehub import confirmed_report, reporter_user
from tests.support.people import staff_user
from tests.support.photos import jpeg
from workspace.services import report_update_moderate

pytestmark = pytest.mark.django_db

TEXT = "Grannen är en idiot som välte stolpen."


@pytest.fixture
def update():
    report = confirmed_report()
    (event,) = report_update_add(
        report_id=report.pk,
        author=Actor.reporter(reporter_user()),
        text=TEXT,
        photos=process_photos([(jpeg(), "lampa.jpg")]),
    )
    return event


def test_staff_hide_an_updates_text_and_photo_for_a_public_reason(update):
    moderator = staff_user("malmo-admin", "1280", StaffRole.ADMIN)
    (photo,) = ReportPhoto.objects.filter(event=update)
    public_name = photo.image.name
    note = report_update_moderate(
        actor=moderator,
        event_id=update.pk,
        hide_text=True,
        hide_photo_ids=[photo.pk],
        reason="Personangrepp.",
    )
    assert note.kind == EventKind.NOTE and "Personangrepp." in note.note
    update.refresh_from_db()
    assert update.note == "" and update.data["text_hidden"] is True
    assert update.data["photos"] == []
    assert not ReportPhoto.objects.filter(event=update).exists()
    page = Client().get(f"/rapporter/{update.report_id}/").content.decode()
    assert TEXT not in page and public_name not in page
    entry = AuditEntry.objects.get(action="report.moderate_update")
    assert entry.before["text"] == TEXT  # kept for audit only
    # Nothing more to hide: nothing happens.
    assert (
        report_update_moderate(
            actor=moderator, event_id=update.pk, hide_text=True, reason="Igen."
        )
        is None
    )


def test_a_reason_is_needed_and_another_kommuns_staff_cannot(update):
    moderator = staff_user("malmo-admin", "1280", StaffRole.ADMIN)
    with pytest.raises(ValidationError):
        report_update_moderate(
            actor=moderator, event_id=update.pk, hide_text=True, reason=" "
        )
    lund = staff_user("lund-admin", "1281", StaffRole.ADMIN)
    with pytest.raises(PermissionDenied):
        report_update_moderate(
            actor=lund, event_id=update.pk, hide_text=True, reason="X"
        )
    update.refresh_from_db()
    assert update.note == TEXT
    (photo,) = ReportPhoto.objects.filter(event=update)
    assert default_storage.exists(photo.image.name)
    assert ReportEvent.objects.filter(report_id=update.report_id).count() == 2
