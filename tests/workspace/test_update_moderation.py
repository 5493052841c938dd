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
    # Said in the report's language, as a report's moderation is.
    assert "(texten i en uppdatering, 1 bild)" in note.note, note.note
    assert note.data == {"moderated": ["update_text"], "photos_hidden": 1}
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


def test_the_report_screen_hides_an_updates_text(client, update):
    moderator = staff_user("malmo-admin", "1280", StaffRole.ADMIN)
    client.force_login(moderator)
    screen = client.get(f"/admin/inbox/{update.report_id}/")
    assert screen.status_code == 200
    assert 'value="moderate_update"' in screen.content.decode()
    missing_reason = client.post(
        f"/admin/inbox/{update.report_id}/",
        {
            "action": "moderate_update",
            "moderate_update-update": update.pk,
            "moderate_update-hide_text": "on",
        },
    )
    assert missing_reason.status_code == 200
    assert "reason" in missing_reason.context["moderate_update_form"].errors
    done = client.post(
        f"/admin/inbox/{update.report_id}/",
        {
            "action": "moderate_update",
            "moderate_update-update": update.pk,
            "moderate_update-hide_text": "on",
            "moderate_update-reason": "Personangrepp.",
        },
    )
    assert done.status_code == 302
    update.refresh_from_db()
    assert update.note == "" and update.data["text_hidden"] is True


def test_another_kommuns_staff_do_not_see_the_update_on_a_screen(client, update):
    client.force_login(staff_user("lund-admin", "1281", StaffRole.ADMIN))
    answer = client.post(
        f"/admin/inbox/{update.report_id}/",
        {
            "action": "moderate_update",
            "moderate_update-update": update.pk,
            "moderate_update-hide_text": "on",
            "moderate_update-reason": "X",
        },
    )
    assert answer.status_code == 404
    assert TEXT not in answer.content.decode()
    update.refresh_from_db()
    assert update.note == TEXT
