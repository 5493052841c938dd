"""The report page offers following only where it can work: an open report.
A duplicate sends its visitors to the report it duplicates."""

import pytest

from municipalities.choices import StaffRole
from reports.choices import ReportStatus
from tests.support.casehub import confirmed_report
from tests.support.people import staff_user
from workspace.services import report_mark_duplicate, report_status_change

pytestmark = pytest.mark.django_db

FOLLOW_FORM = 'action="/rapporter/{}/folj/"'


@pytest.fixture
def handler():
    return staff_user("gata", "1280", StaffRole.CASE_HANDLER)


def test_an_open_report_can_be_followed_a_fixed_one_not(client, handler):
    report = confirmed_report()
    page = client.get(f"/rapporter/{report.pk}/").content.decode()
    assert FOLLOW_FORM.format(report.pk) in page
    report_status_change(actor=handler, report_id=report.pk, status=ReportStatus.FIXED)
    page = client.get(f"/rapporter/{report.pk}/").content.decode()
    assert FOLLOW_FORM.format(report.pk) not in page


def test_a_duplicate_points_to_its_original_instead_of_being_followed(client, handler):
    original = confirmed_report(title="Släckt lampa")
    copy = confirmed_report(point=(55.6051, 13.0039), title="Lampan är släckt")
    report_mark_duplicate(actor=handler, report_id=copy.pk, original_id=original.pk)
    page = client.get(f"/rapporter/{copy.pk}/").content.decode()
    assert FOLLOW_FORM.format(copy.pk) not in page
    assert f'href="/rapporter/{original.pk}/"' in page
    assert f"Follow report {original.pk} instead" in page
