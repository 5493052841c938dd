"""Casework in the admin: deliveries to case systems (the inbox is the
workspace's, tested in tests/workspace). Each kommun's staff see their own only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from casehub.choices import DeliveryState
from casehub.models import Delivery, DeliveryAttempt
from municipalities.choices import StaffRole
from reports.choices import ReportStatus
from tests.support.casework import (
    LUND,
    MALMO,
    inbox,
    make_delivery,
    make_report,
)
from tests.support.people import staff_user as staff
from tests.support.people import superuser


@pytest.fixture
def cases():
    """A dead delivery in Malmö and one in Lund, each to the kommun's inbox."""
    malmo = make_report(MALMO, title="Släckt lykta i Malmö")
    lund = make_report(LUND, title="Släckt lykta i Lund")
    return {
        MALMO: make_delivery(
            malmo, inbox(MALMO), DeliveryState.DEAD, attempts=9, last_error="boom"
        ),
        LUND: make_delivery(
            lund, inbox(LUND), DeliveryState.DEAD, attempts=9, last_error="boom"
        ),
    }


def as_user(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def handler(client):
    return as_user(client, staff("malmo-handler-test", MALMO, StaffRole.CASE_HANDLER))


def refused(response) -> bool:
    """Wagtail answers a permission refusal with a redirect to the dashboard."""
    return response.status_code in (302, 403, 404)


# --- deliveries --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_case_handler_lists_the_kommuns_deliveries_only(handler, cases):
    html = handler.get("/admin/deliveries/").content.decode()
    assert f"/admin/deliveries/{cases[MALMO].pk}/" in html
    assert f"/admin/deliveries/{cases[LUND].pk}/" not in html
    assert f"#{cases[MALMO].report_id}" in html
    assert "Lund" not in html
    assert "Deliveries" in handler.get("/admin/").content.decode()


@pytest.mark.django_db
def test_another_kommuns_delivery_cannot_be_seen_or_resent(handler, cases):
    lund = cases[LUND]
    assert handler.get(f"/admin/deliveries/{lund.pk}/").status_code == 404
    assert handler.get(f"/admin/deliveries/{lund.pk}/resend/").status_code == 404
    assert handler.post(f"/admin/deliveries/{lund.pk}/resend/").status_code == 404
    lund.refresh_from_db()
    assert lund.state == DeliveryState.DEAD


@pytest.mark.django_db
def test_a_superuser_sees_every_kommuns_deliveries(client, cases):
    as_user(client, superuser())
    html = client.get("/admin/deliveries/").content.decode()
    for delivery in cases.values():
        assert f"/admin/deliveries/{delivery.pk}/" in html
        assert client.get(f"/admin/deliveries/{delivery.pk}/").status_code == 200


@pytest.mark.django_db
def test_editors_have_no_casework_screens(client, cases):
    as_user(client, staff("malmo-redaktor", "1280", StaffRole.EDITOR))
    menu = client.get("/admin/").content.decode()
    assert "Deliveries" not in menu and "Inbox" not in menu
    own = cases[MALMO]
    assert refused(client.get("/admin/deliveries/"))
    assert refused(client.get(f"/admin/deliveries/{own.pk}/"))
    assert refused(client.post(f"/admin/deliveries/{own.pk}/resend/"))
    own.refresh_from_db()
    assert own.state == DeliveryState.DEAD
    assert refused(client.get("/admin/inbox/"))
    report = own.report
    assert refused(client.post(f"/admin/inbox/{report.pk}/", {"status": "fixed"}))
    report.refresh_from_db()
    assert report.status == ReportStatus.OPEN


@pytest.mark.django_db
def test_the_detail_lists_the_attempts(handler, cases):
    delivery = cases[MALMO]
    DeliveryAttempt.objects.create(
        delivery=delivery,
        started_at=timezone.now() - timedelta(minutes=3),
        duration_ms=1234,
        http_status=503,
        error="Service Unavailable from the case system",
    )
    page = handler.get(f"/admin/deliveries/{delivery.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Service Unavailable from the case system" in html
    assert "1234" in html and "503" in html
    assert f'action="/admin/deliveries/{delivery.pk}/resend/"' in html


@pytest.mark.django_db
def test_resend_makes_a_dead_delivery_pending_again(handler, cases):
    delivery = cases[MALMO]
    long_ago = timezone.now() - timedelta(days=3)
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=long_ago, queued_at=long_ago
    )
    assert handler.get(f"/admin/deliveries/{delivery.pk}/resend/").status_code == 200
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DEAD  # GET only asks

    response = handler.post(f"/admin/deliveries/{delivery.pk}/resend/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.queued_at > long_ago and delivery.next_attempt_at > long_ago


@pytest.mark.django_db
def test_a_delivered_delivery_is_not_resent(handler, cases):
    delivery = cases[MALMO]
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.DELIVERED)
    response = handler.post(f"/admin/deliveries/{delivery.pk}/resend/")
    assert response.status_code == 404
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED


@pytest.mark.django_db
def test_deliveries_filter_by_state_and_list_the_stuck_first(handler, cases):
    fine = make_delivery(
        make_report(MALMO, title="Klotter"), inbox(MALMO), DeliveryState.DELIVERED
    )
    html = handler.get("/admin/deliveries/").content.decode()
    stuck, done = (
        f"/admin/deliveries/{cases[MALMO].pk}/",
        f"/admin/deliveries/{fine.pk}/",
    )
    assert html.index(stuck) < html.index(done)

    dead = handler.get("/admin/deliveries/", {"state": "dead"}).content.decode()
    assert stuck in dead and done not in dead
    delivered = handler.get("/admin/deliveries/", {"state": "delivered"})
    assert done in delivered.content.decode()
    assert stuck not in delivered.content.decode()
