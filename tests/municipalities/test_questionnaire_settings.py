"""A kommun's administrators set after how many days its reporters are asked
"is it fixed?" on a small admin screen; Malmö's administrator neither sees nor
changes Lund's, and a wrong number is an error at the field."""

import pytest

from municipalities.audit import AuditEntry
from municipalities.choices import StaffRole
from municipalities.models import Municipality
from tests.support.casework import as_user
from tests.support.people import case_handler, staff_user

pytestmark = pytest.mark.django_db

PATH = "/admin/kommun/is-it-fixed/"
MALMO, LUND = "1280", "1281"


def kommun(code):
    return Municipality.objects.get(code=code)


def test_an_administrator_sets_their_kommuns_days_audited(client):
    as_user(client, staff_user("malmo-admin", MALMO, StaffRole.ADMIN))
    page = client.get(PATH)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Malmö" in html and f'value="{kommun(MALMO).pk}"' in html
    malmo = kommun(MALMO).pk
    answer = client.post(
        PATH, {"municipality": malmo, f"k{malmo}-questionnaire_days": "14"}
    )
    assert answer.status_code == 302
    assert kommun(MALMO).questionnaire_days == 14
    entry = AuditEntry.objects.get(action="municipality.questionnaire_days")
    assert (entry.before, entry.after) == (
        {"questionnaire_days": 28},
        {"questionnaire_days": 14},
    )


def test_malmos_administrator_cannot_see_or_change_lunds(client):
    as_user(client, staff_user("malmo-admin", MALMO, StaffRole.ADMIN))
    html = client.get(PATH).content.decode()
    assert "Lund" not in html and f'value="{kommun(LUND).pk}"' not in html
    lund = kommun(LUND).pk
    answer = client.post(
        PATH, {"municipality": lund, f"k{lund}-questionnaire_days": "3"}
    )
    assert answer.status_code == 404
    assert kommun(LUND).questionnaire_days == 28


def test_a_wrong_number_is_an_error_at_the_field_and_nothing_changes(client):
    as_user(client, staff_user("malmo-admin", MALMO, StaffRole.ADMIN))
    malmo = kommun(MALMO).pk
    for wrong in ("0", "366", "tjugo", ""):
        answer = client.post(
            PATH, {"municipality": malmo, f"k{malmo}-questionnaire_days": wrong}
        )
        assert answer.status_code == 400
        assert 'aria-invalid="true"' in answer.content.decode()
    assert client.post(PATH, {"municipality": "x"}).status_code == 404
    assert kommun(MALMO).questionnaire_days == 28


def test_case_handlers_do_not_have_the_screen(client):
    as_user(client, case_handler(MALMO))
    assert client.get(PATH).status_code in (302, 403)
