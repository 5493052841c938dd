"""A kommun's operational messages (driftmeddelanden): published by its staff
on a scoped screen, shown on its site and on the report form where they apply,
and marking new reports there as a known problem (municipalities.notices)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from municipalities.choices import StaffRole
from municipalities.models import Category, District, Municipality, OperationalMessage
from municipalities.notices import known_message_for, messages_at
from reports.services import Reporter, report_submit
from tests.support.casework import LUND, MALMO, POINTS, as_user
from tests.support.people import staff_user

MALMO_HOST = "malmo.localhost"
INSIDE = POINTS[MALMO]  # Stortorget, inside the district below
OUTSIDE = (55.5700, 12.9800)  # still Malmö, outside it


def square_around(lat, lon, half=0.01) -> dict:
    west, east, south, north = lon - half, lon + half, lat - half, lat + half
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def message(code=MALMO, *, categories=(), **fields) -> OperationalMessage:
    now = timezone.now()
    values = {
        "municipality": Municipality.objects.get(code=code),
        "title": "Vinterväghållning pågår",
        "text": "Snöröjningen sker enligt plan.",
        "starts_at": now - dt.timedelta(hours=1),
        "ends_at": now + dt.timedelta(days=1),
        **fields,
    }
    made = OperationalMessage.objects.create(**values)
    made.categories.set(categories)
    return made


def lamp() -> Category:
    return Category.objects.get(slug="gatubelysning")


def form(**fields) -> dict:
    data = {
        "municipality": str(Municipality.objects.get(code=MALMO).pk),
        "title": "Vattenläcka på Amiralsgatan",
        "text": "Gatan är avstängd.",
        "starts_at": "2026-12-08 08:00",
        "ends_at": "2026-12-09 16:00",
        "district": "",
    }
    data.update(fields)
    return data


@pytest.mark.django_db
def test_staff_publish_their_kommuns_messages_and_never_see_anothers(client):
    editor = staff_user("malmo-drift", MALMO, StaffRole.EDITOR)
    as_user(client, editor)
    add = reverse("operational-messages:add")

    with translation.override("en"):
        refused = client.post(
            add, form(ends_at="2026-12-07 16:00"), HTTP_ACCEPT_LANGUAGE="en"
        )
    assert refused.status_code == 200
    assert "The end must be after the start." in refused.content.decode()
    assert 'value="Vattenläcka på Amiralsgatan"' in refused.content.decode()
    assert not OperationalMessage.objects.exists()

    assert client.post(add, form()).status_code == 302
    saved = OperationalMessage.objects.get()
    assert saved.municipality.code == MALMO

    lunds = message(LUND, title="Lunds avstängda gata")
    listing = client.get(reverse("operational-messages:index")).content.decode()
    assert "Vattenläcka på Amiralsgatan" in listing
    assert "Lunds avstängda gata" not in listing
    edit_lunds = reverse("operational-messages:edit", args=[lunds.pk])
    assert client.get(edit_lunds).status_code == 404
    assert client.post(edit_lunds, form(title="Kapad")).status_code == 404
    # Another kommun cannot be chosen either, nor its district.
    lund_district = District.objects.create(
        municipality=lunds.municipality,
        name="Centrum",
        geometry=square_around(55.70, 13.19),
    )
    taken = client.post(
        add, form(municipality=str(lunds.municipality.pk), title="Fel kommun")
    )
    assert (
        taken.status_code == 200
        and not OperationalMessage.objects.filter(title="Fel kommun").exists()
    )
    taken = client.post(add, form(district=str(lund_district.pk), title="Fel område"))
    assert (
        taken.status_code == 200
        and not OperationalMessage.objects.filter(title="Fel område").exists()
    )

    # A contact-centre agent does not publish them.
    agent = staff_user("malmo-kc", MALMO, StaffRole.CONTACT_CENTRE)
    as_user(client, agent)
    assert client.get(add).status_code in (302, 403)


@pytest.mark.django_db
def test_the_report_form_shows_the_messages_that_apply_at_the_point(client):
    malmo = Municipality.objects.get(code=MALMO)
    district = District.objects.create(
        municipality=malmo, name="Innerstaden", geometry=square_around(*INSIDE)
    )
    message(title="Hela kommunen")
    message(title="Bara gatlyktor", categories=[lamp()])
    message(title="Bara innerstaden", district=district)
    message(title="Redan slut", ends_at=timezone.now() - dt.timedelta(minutes=1))
    message(title="Inte än", starts_at=timezone.now() + dt.timedelta(hours=1))
    message(LUND, title="Lunds meddelande")

    here = messages_at(malmo.pk, lat=INSIDE[0], lon=INSIDE[1])
    assert {m.title for m in here.everywhere} == {"Hela kommunen", "Bara innerstaden"}
    assert [m.title for m in here.for_category(lamp().pk)] == ["Bara gatlyktor"]
    there = messages_at(malmo.pk, lat=OUTSIDE[0], lon=OUTSIDE[1])
    assert {m.title for m in there.everywhere} == {"Hela kommunen"}

    fragment = client.get(
        reverse("report-categories"), {"lat": INSIDE[0], "lon": INSIDE[1]}
    ).content.decode()
    assert "Hela kommunen" in fragment and "Bara innerstaden" in fragment
    lamp_part = fragment.split('id="id_category_gatubelysning"')[1].split(
        'class="category"'
    )[0]
    assert "Bara gatlyktor" in lamp_part
    for hidden in ("Redan slut", "Inte än", "Lunds meddelande"):
        assert hidden not in fragment
    home = client.get("/", HTTP_HOST=MALMO_HOST).content.decode()
    assert "Hela kommunen" in home and "Bara innerstaden (Innerstaden)" in home
    assert "Lunds meddelande" not in home and "Redan slut" not in home
    assert (
        "Hela kommunen"
        not in client.get("/", HTTP_HOST="lund.localhost").content.decode()
    )


@pytest.mark.django_db
def test_a_report_in_a_known_problems_category_and_area_is_marked_known(client):
    malmo = Municipality.objects.get(code=MALMO)
    district = District.objects.create(
        municipality=malmo, name="Innerstaden", geometry=square_around(*INSIDE)
    )
    known = message(
        title="Gatlyktor släckta i innerstaden",
        categories=[lamp()],
        district=district,
        mark_known=True,
    )
    message(title="Bara information", mark_known=False)
    assert (
        known_message_for(
            municipality_id=malmo.pk,
            category_id=lamp().pk,
            lat=OUTSIDE[0],
            lon=OUTSIDE[1],
        )
        is None
    )
    other = Category.objects.exclude(pk=lamp().pk).filter(routes__isnull=False).first()
    assert (
        known_message_for(
            municipality_id=malmo.pk, category_id=other.pk, lat=INSIDE[0], lon=INSIDE[1]
        )
        is None
    )

    user = staff_user("bo-medborgare", MALMO, StaffRole.EDITOR)
    report = report_submit(
        lat=INSIDE[0],
        lon=INSIDE[1],
        category=lamp(),
        title="Släckt lykta",
        description="Hela raden är släckt.",
        reporter=Reporter(name="Bo", email=user.email, user=user),
    )
    assert report.known_message == known
    page = client.get(report.get_absolute_url(), HTTP_HOST=MALMO_HOST).content.decode()
    assert "Gatlyktor släckta i innerstaden" in page and "known-problem" in page

    elsewhere = report_submit(
        lat=OUTSIDE[0],
        lon=OUTSIDE[1],
        category=lamp(),
        title="Släckt lykta i Hyllie",
        description="En lykta.",
        reporter=Reporter(name="Bo", email=user.email, user=user),
    )
    assert elsewhere.known_message is None
