"""E-mail about a kommun's reports in its site's brand (cms.mail, registered
with reports.mail.brand_provider): the kommun's name, logo and colour in the
HTML part, and links to its own site, whichever site the report was filed on
and whatever Host the request named."""

import re

import pytest
from django.utils import timezone
from wagtail.models import Site

from cms.models import SiteBranding
from municipalities.models import Municipality
from reports.choices import EventKind, ReportStatus
from reports.events import Actor, event_new
from reports.models import Report, Subscription
from reports.notifications import followers_notify
from tests.support import factories
from tests.support.casework import LUND, MALMO, POINTS
from tests.support.photos import image_in


def brand(code: str, **fields) -> SiteBranding:
    site = Site.objects.get(municipality__code=code)
    branding = SiteBranding.for_site(site)
    for name, value in fields.items():
        setattr(branding, name, value)
    branding.full_clean()
    branding.save()
    return branding


def form(code: str, email: str) -> dict:
    lat, lon = POINTS[code]
    return {
        "lat": str(lat),
        "lon": str(lon),
        "category": "gatubelysning",
        "title": "Trasig gatlykta & mer",
        "description": "Lyktan är släckt.",
        "name": "Anna Andersson",
        "email": email,
    }


def html_of(mail) -> str:
    ((html, kind),) = mail.alternatives
    assert kind == "text/html"
    return html


@pytest.fixture
def brands():
    brand(MALMO, brand_colour="#6b0f1a", logo=image_in(MALMO, "malmos-logga"))
    brand(LUND, brand_colour="#0b5e2f")


@pytest.mark.django_db
@pytest.mark.usefixtures("brands")
def test_a_reports_email_carries_its_kommuns_brand_and_leads_to_its_site(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    # Malmö's report filed on the national site, by a request naming a Host
    # no site has: its e-mail is Malmö's all the same, built from the
    # configured addresses.
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            "/rapportera/", form(MALMO, "malmo@example.org"), HTTP_HOST="evil.example"
        )
        assert sent.status_code == 302
        sent = client.post(
            "/rapportera/", form(LUND, "lund@example.org"), HTTP_HOST="lund.localhost"
        )
        assert sent.status_code == 302
    malmo = next(m for m in mailoutbox if m.to == ["malmo@example.org"])
    lund = next(m for m in mailoutbox if m.to == ["lund@example.org"])
    assert Report.objects.get(email="malmo@example.org").filed_on_site.hostname == (
        "localhost"
    )

    html = html_of(malmo)
    assert "#6b0f1a" in html and ">Malmö</a>" in html
    logo = re.search(r'<img src="([^"]+)"', html).group(1)
    assert logo.startswith("http://malmo.localhost/media/images/malmos-logga")
    assert "evil.example" not in html + malmo.body
    # The text, escaped once, its addresses linked, to Malmö's site.
    assert "Trasig gatlykta &amp; mer" in html
    confirm = re.search(r"http://\S+/bekrafta/\S+/", malmo.body).group(0)
    assert confirm.startswith("http://malmo.localhost/")
    assert f'<a href="{confirm}"' in html
    assert "Trasig gatlykta & mer" in malmo.body and "&amp;" not in malmo.body
    assert malmo.body.rstrip().endswith("Malmö · Knutpunkt")
    assert "http://malmo.localhost/rapporter/" in html  # the kommun's reports

    html = html_of(lund)
    assert "#0b5e2f" in html and ">Lund</a>" in html
    assert "Malmö" not in html and "#6b0f1a" not in html and "<img" not in html
    assert "http://lund.localhost/" in lund.body
    assert "malmo.localhost" not in html + lund.body


@pytest.mark.django_db
@pytest.mark.usefixtures("brands")
@pytest.mark.parametrize(
    ("code", "colour", "host"), [(MALMO, "#6b0f1a", "malmo"), (LUND, "#0b5e2f", "lund")]
)
def test_followers_hear_in_the_kommuns_brand(mailoutbox, code, colour, host):
    report = factories.report(code=code, point=POINTS[code])
    Subscription.objects.create(
        report=report, email="foljare@example.org", confirmed_at=timezone.now()
    )
    event_new(
        report=report,
        actor=Actor.system(),
        kind=EventKind.STATUS,
        status=ReportStatus.IN_PROGRESS,
    ).save()
    assert followers_notify(report.pk) == 1
    (mail,) = mailoutbox
    html = html_of(mail)
    assert colour in html
    # In the reporter's language (Swedish; the suite's default is English).
    root = rf"http://{host}\.localhost/(sv/)?"
    assert re.search(rf"{root}rapporter/{report.pk}/", mail.body)
    assert re.search(rf"{root}avfolj/", mail.body)


@pytest.mark.django_db
def test_a_kommun_without_a_site_of_its_own_gets_the_plain_email(mailoutbox):
    report = factories.report(code=MALMO)
    Municipality.objects.filter(code=MALMO).update(site=None)
    Subscription.objects.create(
        report=report, email="foljare@example.org", confirmed_at=timezone.now()
    )
    event_new(
        report=report,
        actor=Actor.system(),
        kind=EventKind.STATUS,
        status=ReportStatus.IN_PROGRESS,
    ).save()
    assert followers_notify(report.pk) == 1
    (mail,) = mailoutbox
    assert mail.alternatives == []
    assert mail.body.rstrip().endswith("\nKnutpunkt")
