"""report_submit for a caller (``filed_by``): confirmed at once with the staff
member's first event; only staff with a filing role, only in their kommun; a
report from the public form is of the web channel."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from municipalities.choices import StaffRole
from reports.choices import ActorKind, ReportChannel, ReportStatus
from reports.models import Report
from reports.services import Reporter, report_submit
from tests.support.casehub import LUND, MALMO, confirmed_report, lamp_category
from tests.support.people import staff_user

pytestmark = pytest.mark.django_db

CALLER = Reporter(name="Greta Persson", email="", phone="040-555555")


def file_for_caller(user, point=MALMO, channel=ReportChannel.PHONE):
    return report_submit(
        lat=point[0],
        lon=point[1],
        category=lamp_category(),
        title="Släckt lykta",
        description="Lyktan vid busshållplatsen är släckt.",
        reporter=CALLER,
        channel=channel,
        filed_by=user,
    )


def test_a_report_from_the_form_is_of_the_web_channel():
    assert confirmed_report().channel == ReportChannel.WEB


def test_a_contact_centre_agent_files_for_a_caller():
    agent = staff_user("kundcenter", "1280", StaffRole.CONTACT_CENTRE)
    report = file_for_caller(agent)
    assert report.status == ReportStatus.OPEN
    assert report.channel == ReportChannel.PHONE
    assert report.reporter is None and report.name == "Greta Persson"
    first = report.events.get()
    assert (first.actor_kind, first.actor_user_id) == (ActorKind.STAFF, agent.pk)
    assert first.note == "Registrerad av kontaktcenter per telefon"


def test_only_in_the_agents_kommun_and_only_with_a_filing_role():
    agent = staff_user("kundcenter", "1280", StaffRole.CONTACT_CENTRE)
    with pytest.raises(ValidationError) as outside:
        file_for_caller(agent, point=LUND)
    assert "location" in outside.value.message_dict
    handler = staff_user("handlaggare", "1280", StaffRole.CASE_HANDLER)
    with pytest.raises(PermissionDenied):
        file_for_caller(handler)
    with pytest.raises(ValidationError):
        file_for_caller(agent, channel=ReportChannel.WEB)
    assert not Report.objects.exists()
