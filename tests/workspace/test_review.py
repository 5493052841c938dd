"""The report screen's review tools: marking a duplicate (followers and reporter
move to the original, the duplicate closes with a link), moderating text and
photos (gone from every public place, kept for audit, the reporter told), and
the screen's map and nearest address."""

import time

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import Http404
from django.test import RequestFactory
from django.views.static import serve

from devkit.servers import NominatimServer
from municipalities.choices import StaffRole
from municipalities.models import AuditEntry
from reports.choices import EventKind, ReportStatus
from reports.models import Report, ReportEvent, ReportPhoto, Subscription
from reports.photos import process_photos
from tests.support import factories
from tests.support.casehub import MALMO as MALMO_POINT
from tests.support.casehub import confirmed_report
from tests.support.casework import LUND, MALMO, as_user
from tests.support.people import staff_user
from tests.support.photos import jpeg
from workspace.services import (
    duplicate_candidates,
    report_mark_duplicate,
    report_moderate,
    report_version,
)

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60, func_only=True)]

NEAR = (MALMO_POINT[0] + 0.001, MALMO_POINT[1])  # about 110 m north
FAR = (MALMO_POINT[0] + 0.01, MALMO_POINT[1])  # about 1.1 km north
RUDE = "Grannen Sven Svensson på Storgatan 3 är en idiot"


@pytest.fixture
def handler():
    return staff_user("gata", MALMO, StaffRole.CASE_HANDLER)


@pytest.fixture
def original():
    return confirmed_report(point=NEAR, title="Gatlampan vid torget är släckt")


@pytest.fixture
def duplicate():
    """Someone else's report of the same lamp, followed by a neighbour."""
    report = factories.report(
        code=MALMO,
        point=MALMO_POINT,
        title="Släckt lampa",
        name="Bo Berg",
        email="bo@example.org",
    )
    Subscription.objects.create(
        report=report, email="granne@example.org", confirmed_at=report.confirmed_at
    )
    return report


def state(*reports):
    """What a refused action must leave as it was."""
    return [
        (
            r.pk,
            Report.objects.get(pk=r.pk).status,
            sorted(
                Subscription.objects.filter(report=r).values_list("email", flat=True)
            ),
            ReportEvent.objects.filter(report=r).count(),
        )
        for r in reports
    ] + [AuditEntry.objects.count()]


# --- duplicates --------------------------------------------------------------------


def test_a_duplicate_hands_its_followers_and_reporter_to_the_original_and_closes(
    client, handler, original, duplicate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        event = report_mark_duplicate(
            actor=handler, report_id=duplicate.pk, original_id=original.pk
        )
    duplicate.refresh_from_db()
    assert duplicate.status == ReportStatus.DUPLICATE
    assert event.is_public and event.data == {"duplicate_of": original.pk}
    assert not Subscription.objects.filter(report=duplicate).exists()
    followers = Subscription.objects.filter(report=original)
    assert set(followers.values_list("email", flat=True)) == {
        "anna@example.org",  # the original's reporter
        "granne@example.org",  # moved
        "bo@example.org",  # the duplicate's reporter
    }
    assert followers.filter(confirmed_at__isnull=True).count() == 0
    # The duplicate's page links to the original; the original says it too.
    page = client.get(f"/rapporter/{duplicate.pk}/").content.decode()
    assert f'href="/rapporter/{original.pk}/"' in page
    assert ReportEvent.objects.filter(
        report=original,
        kind=EventKind.NOTE,
        is_public=True,
        data__duplicate=duplicate.pk,
    ).exists()
    audit = AuditEntry.objects.get(action="report.duplicate")
    assert audit.actor == handler and audit.municipality_id == duplicate.municipality_id
    assert audit.after["duplicate_of"] == original.pk
    assert audit.before == {"status": ReportStatus.OPEN}


def test_a_duplicate_of_itself_of_a_duplicate_or_of_another_kommun_is_refused(
    handler, original, duplicate
):
    third = factories.report(code=MALMO, point=NEAR, title="Tredje")
    report_mark_duplicate(actor=handler, report_id=third.pk, original_id=original.pk)
    lund = factories.report(code=LUND, point=NEAR, title="Lunds lampa")
    before = state(original, duplicate, third, lund)

    with pytest.raises(ValidationError) as itself:
        report_mark_duplicate(
            actor=handler, report_id=duplicate.pk, original_id=duplicate.pk
        )
    assert "itself" in str(itself.value.message_dict["original"])

    # No chains: the message names the report to choose instead.
    with pytest.raises(ValidationError) as chain:
        report_mark_duplicate(
            actor=handler, report_id=duplicate.pk, original_id=third.pk
        )
    assert f"#{original.pk}" in chain.value.message_dict["original"][0]

    # Another kommun's report is "not found", like one that does not exist.
    with pytest.raises(ValidationError) as elsewhere:
        report_mark_duplicate(
            actor=handler, report_id=duplicate.pk, original_id=lund.pk
        )
    with pytest.raises(ValidationError) as missing:
        report_mark_duplicate(
            actor=handler, report_id=duplicate.pk, original_id=999_999
        )
    assert "Lunds lampa" not in str(elsewhere.value)
    assert str(elsewhere.value).replace(str(lund.pk), "N") == str(
        missing.value
    ).replace("999999", "N")
    assert state(original, duplicate, third, lund) == before


def test_the_picker_lists_nearby_reports_of_the_same_kommun_nearest_first(
    client, handler, original, duplicate
):
    nearer = factories.report(
        code=MALMO, point=(MALMO_POINT[0] + 0.0003, MALMO_POINT[1]), title="Närmare"
    )
    factories.report(code=MALMO, point=FAR, title="Långt bort")
    factories.report(code=LUND, point=NEAR, title="Lunds lampa")
    factories.report(
        code=MALMO, point=NEAR, title="Redan dubblett", status=ReportStatus.DUPLICATE
    )
    factories.report(
        code=MALMO, point=NEAR, title="Obekräftad", status=ReportStatus.UNCONFIRMED
    )
    old = factories.report(code=MALMO, point=NEAR, title="Stängd för länge sedan")
    Report.objects.filter(pk=old.pk).update(
        status=ReportStatus.FIXED,
        status_changed_at=old.created_at.replace(year=old.created_at.year - 1),
    )
    found = duplicate_candidates(actor=handler, report=duplicate)
    assert [r.pk for r, _ in found] == [nearer.pk, original.pk]
    assert 100 < found[1][1] < 125

    as_user(client, handler)
    page = client.get(f"/admin/inbox/{duplicate.pk}/")
    choices = page.context["duplicate_form"].fields["original"].choices
    assert [pk for pk, _ in choices] == [nearer.pk, original.pk]
    html = page.content.decode()
    assert "Gatlampan vid torget är släckt" in html and "m away" in html
    for absent in ("Långt bort", "Lunds lampa", "Redan dubblett", "Obekräftad"):
        assert absent not in html


def test_marking_a_duplicate_on_the_screen_and_a_stale_form(
    client, handler, original, duplicate
):
    as_user(client, handler)
    page = client.get(f"/admin/inbox/{duplicate.pk}/")
    version = page.context["duplicate_form"].initial["version"]
    # A colleague adds a public reply meanwhile: the form is refused, nothing saved.
    colleague = staff_user("kollega", MALMO, StaffRole.ADMIN)
    report_moderate(
        actor=colleague,
        report_id=duplicate.pk,
        title="Släckt gatlampa",
        reason="Tydligare.",
    )
    stale = client.post(
        f"/admin/inbox/{duplicate.pk}/",
        {
            "action": "duplicate",
            "duplicate-original": original.pk,
            "duplicate-version": version,
        },
    )
    assert stale.status_code == 409
    assert Report.objects.get(pk=duplicate.pk).status == ReportStatus.OPEN
    assert stale.context["duplicate_form"].data["duplicate-version"] == str(
        report_version(duplicate.pk)
    )
    done = client.post(
        f"/admin/inbox/{duplicate.pk}/",
        {
            "action": "duplicate",
            "duplicate-original": original.pk,
            "duplicate-version": report_version(duplicate.pk),
        },
    )
    assert done.status_code == 302
    assert Report.objects.get(pk=duplicate.pk).status == ReportStatus.DUPLICATE
    screen = client.get(f"/admin/inbox/{duplicate.pk}/").content.decode()
    assert f'href="/admin/inbox/{original.pk}/"' in screen


def test_a_wrong_original_is_told_at_the_field_and_nothing_changes(
    client, handler, original, duplicate
):
    as_user(client, handler)
    lund = factories.report(code=LUND, point=NEAR, title="Lunds lampa")
    before = state(original, duplicate, lund)
    for chosen in ("", lund.pk, duplicate.pk):
        response = client.post(
            f"/admin/inbox/{duplicate.pk}/",
            {"action": "duplicate", "duplicate-original": chosen},
        )
        assert response.status_code == 200
        assert "original" in response.context["duplicate_form"].errors
        assert "Lunds lampa" not in response.content.decode()
    assert state(original, duplicate, lund) == before


def test_another_kommuns_staff_can_neither_see_nor_mark_nor_moderate(
    client, original, duplicate
):
    lund_admin = staff_user("lund-admin", LUND, StaffRole.ADMIN)
    before = state(original, duplicate)
    as_user(client, lund_admin)
    assert client.get(f"/admin/inbox/{duplicate.pk}/").status_code == 404
    for data in (
        {"action": "duplicate", "duplicate-original": original.pk},
        {"action": "moderate", "moderate-title": "X", "moderate-reason": "Y"},
    ):
        response = client.post(f"/admin/inbox/{duplicate.pk}/", data)
        assert response.status_code == 404
        assert "Släckt lampa" not in response.content.decode()
    with pytest.raises(PermissionDenied):
        report_mark_duplicate(
            actor=lund_admin, report_id=duplicate.pk, original_id=original.pk
        )
    with pytest.raises(PermissionDenied):
        report_moderate(actor=lund_admin, report_id=duplicate.pk, title="X", reason="Y")
    assert state(original, duplicate) == before


def test_a_contact_centre_agent_neither_marks_nor_moderates(original, duplicate):
    agent = staff_user("kundtjanst", MALMO, StaffRole.CONTACT_CENTRE)
    with pytest.raises(PermissionDenied):
        report_mark_duplicate(
            actor=agent, report_id=duplicate.pk, original_id=original.pk
        )
    with pytest.raises(PermissionDenied):
        report_moderate(actor=agent, report_id=duplicate.pk, title="X", reason="Y")


# --- moderation --------------------------------------------------------------------


@pytest.fixture
def rude():
    """A report whose text names a neighbour, with two photos, by a reporter who
    follows it."""
    return confirmed_report(
        title=f"Lampan – {RUDE}",
        description=f"Lampan blinkar. {RUDE}.",
        photos=process_photos([(jpeg().read(), "a.jpg"), (jpeg().read(), "b.jpg")]),
    )


def test_moderated_text_is_gone_from_every_public_place_and_kept_for_audit(
    client, handler, rude, smtp_server, django_capture_on_commit_callbacks
):
    original_title, original_description = rude.title, rude.description
    with django_capture_on_commit_callbacks(execute=True):
        event = report_moderate(
            actor=handler,
            report_id=rude.pk,
            title="Lampan blinkar",
            description="Lampan blinkar.",
            reason="Uppgifter om en privatperson togs bort.",
        )
    assert event.is_public
    assert "Uppgifter om en privatperson togs bort." in event.note
    assert RUDE not in event.note
    places = [
        client.get(f"/rapporter/{rude.pk}/"),
        client.get("/api/v1/reports", {"bbox": "12.9,55.5,13.1,55.7", "zoom": "17"}),
        client.get(
            "/api/v1/reports/nearby",
            {"lat": MALMO_POINT[0], "lon": MALMO_POINT[1], "category": "gatubelysning"},
        ),
    ]
    client.force_login(rude.reporter)
    places.append(client.get("/mina-sidor/"))
    for response in places:
        assert response.status_code == 200, response
        assert "Sven Svensson" not in response.content.decode()
    assert "Lampan blinkar" in places[0].content.decode()
    audit = AuditEntry.objects.get(action="report.moderate")
    assert audit.actor == handler and audit.municipality_id == rude.municipality_id
    assert audit.before["title"] == original_title
    assert audit.before["description"] == original_description
    assert audit.after["title"] == "Lampan blinkar"
    assert audit.after["reason"] == "Uppgifter om en privatperson togs bort."
    # The reporter is told what changed and why, never the removed text.
    # (Once as a follower, with the public event; once as the reporter.)
    mails = smtp_server.bodies_to("anna@example.org")
    assert len(mails) == 2
    for mail in mails:
        assert "Uppgifter om en privatperson togs bort." in mail
        assert "Sven Svensson" not in mail


def test_a_hidden_photo_leaves_the_public_media_and_is_kept_apart(
    client, handler, rude, django_capture_on_commit_callbacks
):
    hidden, kept = rude.photos.all()
    names = (hidden.image.name, hidden.thumbnail.name)
    media = RequestFactory().get("/")
    assert serve(media, hidden.image.name, document_root=settings.MEDIA_ROOT)
    with django_capture_on_commit_callbacks(execute=True):
        report_moderate(
            actor=handler,
            report_id=rude.pk,
            hide_photo_ids=[hidden.pk],
            reason="Bilden visar en person.",
        )
    assert list(ReportPhoto.objects.filter(report=rude)) == [kept]
    for name in names:
        assert not default_storage.exists(name)
        with pytest.raises(Http404):
            serve(media, name, document_root=settings.MEDIA_ROOT)
    page = client.get(f"/rapporter/{rude.pk}/").content.decode()
    assert hidden.thumbnail.url not in page and kept.thumbnail.url in page
    # Kept for audit, outside the served media.
    audit = AuditEntry.objects.get(action="report.moderate")
    (record,) = audit.before["photos"]
    assert record["id"] == hidden.pk
    assert (settings.KNUTPUNKT_MODERATED_ROOT / record["image"]).is_file()
    assert (settings.KNUTPUNKT_MODERATED_ROOT / record["thumbnail"]).is_file()
    assert not str(settings.KNUTPUNKT_MODERATED_ROOT).startswith(
        str(settings.MEDIA_ROOT)
    )


def test_moderation_on_the_screen_keeps_what_was_typed_and_errs_at_the_field(
    client, handler, rude
):
    as_user(client, handler)
    page = client.get(f"/admin/inbox/{rude.pk}/")
    form = page.context["moderate_form"]
    photo_ids = [pk for pk, _ in form.fields["hide_photos"].choices]
    assert len(photo_ids) == 2
    data = {
        "action": "moderate",
        "moderate-title": "Lampan blinkar",
        "moderate-description": "Lampan blinkar.",
        "moderate-hide_photos": [photo_ids[0]],
        "moderate-reason": "",
        "moderate-version": form.initial["version"],
    }
    response = client.post(f"/admin/inbox/{rude.pk}/", data)
    assert response.status_code == 200
    assert "reason" in response.context["moderate_form"].errors
    assert response.context["moderate_form"].data["moderate-title"] == "Lampan blinkar"
    assert Report.objects.get(pk=rude.pk).title == rude.title
    response = client.post(
        f"/admin/inbox/{rude.pk}/",
        {**data, "moderate-title": " ", "moderate-reason": "Ok"},
    )
    assert "title" in response.context["moderate_form"].errors
    assert not AuditEntry.objects.filter(action="report.moderate").exists()
    done = client.post(
        f"/admin/inbox/{rude.pk}/", {**data, "moderate-reason": "Namn togs bort."}
    )
    assert done.status_code == 302
    rude.refresh_from_db()
    assert rude.title == "Lampan blinkar" and rude.photos.count() == 1


# --- the map and the nearest address ------------------------------------------------


PLACES = [
    {"name": "Stortorget 1, 211 22 Malmö", "lat": MALMO_POINT[0], "lon": MALMO_POINT[1]}
]


@pytest.fixture
def nominatim(settings):
    with NominatimServer(PLACES) as server:
        settings.KNUTPUNKT_GEOCODER = {
            "domain": server.domain,
            "scheme": "http",
            "user_agent": "knutpunkt-tests",
            "timeout": 2.0,
        }
        yield server


def test_the_screen_shows_the_map_and_the_admin_policy_allows_only_its_tiles(
    client, handler, original
):
    as_user(client, handler)
    response = client.get(f"/admin/inbox/{original.pk}/")
    html = response.content.decode()
    assert 'id="map"' in html and f'data-point="{NEAR[0]:f},{NEAR[1]:f}"' in html
    assert 'data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in html
    assert "leaflet.js" in html and "js/report.js" in html
    directives = dict(
        d.split(" ", 1) for d in response["Content-Security-Policy"].split("; ")
    )
    assert directives["img-src"] == "'self' data: blob: https://tile.openstreetmap.org"
    assert "http" not in directives["script-src"] + directives["connect-src"]


def test_the_screen_shows_the_nearest_address(client, handler, duplicate, nominatim):
    as_user(client, handler)
    html = client.get(f"/admin/inbox/{duplicate.pk}/").content.decode()
    assert "Stortorget 1, 211 22 Malmö" in html
    assert [q["path"] for q in nominatim.queries] == ["/reverse"]
    # Shown again: remembered, nobody asked.
    client.get(f"/admin/inbox/{duplicate.pk}/")
    assert len(nominatim.queries) == 1


def test_a_slow_geocoder_leaves_the_address_out_quickly(
    client, handler, duplicate, nominatim
):
    nominatim.delay = 5
    as_user(client, handler)
    started = time.monotonic()
    response = client.get(f"/admin/inbox/{duplicate.pk}/")
    assert time.monotonic() - started < 4
    assert response.status_code == 200
    assert (
        "The nearest address could not be found right now." in response.content.decode()
    )
