"""A caller says "the lamp on Kalendegatan": the contact centre finds the report
by its street. A new report's nearest address is looked up after it is saved
(through the geocoder, never in the citizen's request) and kept; the inbox
searches it."""

import pytest

from devkit.servers import NominatimServer
from municipalities.choices import StaffRole
from municipalities.models import Category
from reports.addresses import report_address_fill
from reports.models import Report
from reports.services import Reporter, report_submit
from tests.support.casework import LUND, MALMO, as_user, make_report
from tests.support.people import citizen, staff_user

pytestmark = pytest.mark.django_db

KALENDEGATAN = (55.6010, 13.0040)
PLACES = [
    {
        "name": "Kalendegatan 12, Malmö, Sverige",
        "lat": KALENDEGATAN[0],
        "lon": KALENDEGATAN[1],
    }
]


@pytest.fixture
def geocoder(settings):
    with NominatimServer(PLACES) as server:
        settings.KNUTPUNKT_GEOCODER = {
            "domain": server.domain,
            "scheme": "http",
            "user_agent": "knutpunkt-tests",
            "timeout": 2.0,
        }
        yield server


def submit(**extra) -> Report:
    return report_submit(
        lat=KALENDEGATAN[0] + 0.0002,
        lon=KALENDEGATAN[1],
        category=Category.objects.get(slug="gatubelysning"),
        title="Släckt lykta",
        description="Lyktan utanför porten är släckt.",
        reporter=Reporter(
            name="Bo Berg", email="bo@example.org", user=citizen("bo-berg")
        ),
        **extra,
    )


def test_a_new_reports_nearest_address_is_kept_and_found_by_its_street(
    client, geocoder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = submit()
    report.refresh_from_db()
    assert report.address == "Kalendegatan 12, Malmö, Sverige"
    assert [q["path"] for q in geocoder.queries] == ["/reverse"]
    other = make_report(MALMO, title="Hål i gatan")

    agent = staff_user("malmo-kc", MALMO, StaffRole.CONTACT_CENTRE)
    page = as_user(client, agent).get("/admin/inbox/", {"q": "kalendegatan"})
    html = page.content.decode()
    assert f"/admin/inbox/{report.pk}/" in html
    assert f"/admin/inbox/{other.pk}/" not in html

    # Lund's contact centre finds nothing of it.
    lund_agent = staff_user("lund-kc", LUND, StaffRole.CONTACT_CENTRE)
    page = as_user(client, lund_agent).get("/admin/inbox/", {"q": "kalendegatan"})
    assert f"/admin/inbox/{report.pk}/" not in page.content.decode()


def test_an_address_given_is_kept_and_never_replaced(
    geocoder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = submit(address="Kalendegatan 3 (porten mot gården)")
    report.refresh_from_db()
    assert report.address == "Kalendegatan 3 (porten mot gården)"
    assert geocoder.queries == []  # nothing to look up
    assert report_address_fill(report_id=report.pk) == report.address
    assert geocoder.queries == []


def test_no_address_when_the_geocoder_is_away(
    geocoder, django_capture_on_commit_callbacks
):
    geocoder.status = 503
    with django_capture_on_commit_callbacks(execute=True):
        report = submit()
    report.refresh_from_db()
    assert report.address == ""
    assert [q["path"] for q in geocoder.queries] == ["/reverse"]
    assert report.status == "open"  # the report itself is unaffected
