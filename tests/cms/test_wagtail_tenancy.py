"""Wagtail's shared parts are scoped to the user's kommun: one leak test each
(municipalities.staff.staff_pages_q, staff_people; cms.wagtail_hooks,
cms.admin_reports; each kommun's collection of images and documents)."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image as PILImage
from wagtail.images.models import Image
from wagtail.models import Page

from cms.models import ContentPage
from municipalities.choices import StaffRole
from municipalities.models import Municipality
from tests.support.casework import LUND, MALMO, as_user
from tests.support.people import staff_user
from tests.support.photos import image_in, jpeg


def home_of(code):
    return Municipality.objects.get(code=code).site.root_page


def draft(code, title):
    return home_of(code).add_child(
        instance=ContentPage(
            title=title, slug=title.lower().replace(" ", "-"), live=False
        )
    )


@pytest.mark.django_db
def test_the_page_chooser_offers_the_own_kommuns_pages_only(client):
    draft(LUND, "Lunds hemliga utkast")
    draft(MALMO, "Malmös utkast")
    editor = staff_user("malmo-redaktor", MALMO, StaffRole.EDITOR)
    handler = staff_user("malmo-handlaggare", MALMO, StaffRole.CASE_HANDLER)

    def chooser(name, *args, **query):
        response = client.get(reverse(name, args=args), query)
        assert response.status_code == 200
        if response["Content-Type"].startswith("application/json"):
            return json.loads(response.content)["html"]
        return response.content.decode()

    as_user(client, editor)
    assert "Malmös utkast" in chooser(
        "wagtailadmin_choose_page_child", home_of(MALMO).pk
    )
    root = chooser("wagtailadmin_choose_page")
    assert "Malmö" in root and "Lund" not in root
    lund = chooser("wagtailadmin_choose_page_child", home_of(LUND).pk)
    assert "Lunds hemliga utkast" not in lund
    found = chooser("wagtailadmin_choose_page_search", q="utkast")
    assert "Malmös utkast" in found and "Lunds hemliga utkast" not in found

    # A case handler has no page role: the chooser offers no page at all.
    as_user(client, handler)
    assert "utkast" not in chooser("wagtailadmin_choose_page_search", q="utkast")
    assert "Malmö" not in chooser("wagtailadmin_choose_page")


@pytest.mark.django_db
def test_the_page_types_report_counts_and_names_the_own_site_only(client):
    draft(LUND, "Lunds senaste sida")
    draft(MALMO, "Malmös sida")
    Page.objects.filter(title="Lunds senaste sida").update(
        latest_revision_created_at="2030-01-01T00:00:00Z"
    )
    as_user(client, staff_user("malmo-redaktor", MALMO, StaffRole.EDITOR))
    html = client.get(reverse("wagtailadmin_reports:page_types_usage")).content.decode()
    assert "Malmös sida" in html
    assert "Lunds senaste sida" not in html
    # Asking for Lund's site counts Malmö's still, and Lund is no choice.
    lund = client.get(
        reverse("wagtailadmin_reports:page_types_usage"),
        {"site": home_of(LUND).path},
    ).content.decode()
    assert "Lunds senaste sida" not in lund
    assert "lund.localhost" not in lund.lower()


@pytest.mark.django_db
def test_site_history_names_the_own_kommuns_staff_only(client):
    from wagtail.log_actions import log

    lund_editor = staff_user("lund-redaktor-namn", LUND, StaffRole.EDITOR)
    malmo_editor = staff_user("malmo-redaktor-namn", MALMO, StaffRole.EDITOR)
    page = draft(LUND, "Lunds sida")
    log(instance=page, action="wagtail.edit", user=lund_editor)
    log(instance=draft(MALMO, "Malmös sida"), action="wagtail.edit", user=malmo_editor)
    # A Lund editor also touched something every editor may see: the shared
    # collection's image.
    log(instance=image_in(None, "delad-bild"), action="wagtail.edit", user=lund_editor)

    as_user(client, malmo_editor)
    html = client.get(reverse("wagtailadmin_reports:site_history")).content.decode()
    assert "malmo-redaktor-namn" in html
    assert "lund-redaktor-namn" not in html


@pytest.mark.django_db
def test_images_and_documents_are_the_own_kommuns_and_the_shared_ones(client):
    image_in(LUND, "lunds-bild")
    image_in(MALMO, "malmos-bild")
    image_in(None, "nationell-bild")
    editor = staff_user("malmo-bildredaktor", MALMO, StaffRole.EDITOR)
    as_user(client, editor)

    chooser = client.get(reverse("wagtailimages_chooser:choose")).content.decode()
    assert "malmos-bild" in chooser and "nationell-bild" in chooser
    assert "lunds-bild" not in chooser
    listing = client.get(reverse("wagtailimages:index")).content.decode()
    assert "malmos-bild" in listing
    assert "lunds-bild" not in listing and "nationell-bild" not in listing
    shared = Image.objects.get(title="nationell-bild")
    assert client.get(reverse("wagtailimages:edit", args=[shared.pk])).status_code in (
        302,
        403,
    )

    # An upload goes to the kommun's collection, the only one offered.
    malmo_collection = Municipality.objects.get(code=MALMO).collection
    form = client.get(reverse("wagtailimages:add")).content.decode()
    assert "Lund" not in form
    response = client.post(
        reverse("wagtailimages:add"),
        {
            "title": "uppladdad",
            "file": jpeg("u.jpg", size=(8, 8)),
            "collection": malmo_collection.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Image.objects.get(title="uppladdad").collection == malmo_collection

    documents = client.get(reverse("wagtaildocs_chooser:choose"))
    assert documents.status_code == 200


@pytest.mark.django_db
def test_an_editors_photo_loses_its_metadata_and_a_non_image_is_refused(client):
    from tests.reports.test_photos import exif_bytes

    photo = io.BytesIO()
    PILImage.new("RGB", (40, 20), (10, 120, 200)).save(
        photo, "JPEG", exif=exif_bytes(orientation=6)
    )
    editor = staff_user("malmo-fotoredaktor", MALMO, StaffRole.EDITOR)
    as_user(client, editor)
    collection = Municipality.objects.get(code=MALMO).collection
    response = client.post(
        reverse("wagtailimages:add"),
        {
            "title": "gatufoto",
            "file": SimpleUploadedFile("g.jpg", photo.getvalue(), "image/jpeg"),
            "collection": collection.pk,
        },
    )
    assert response.status_code == 302
    stored = Image.objects.get(title="gatufoto")
    with stored.open_file() as f, PILImage.open(f) as img:
        assert not img.getexif()  # no GPS, no camera
        assert img.size == (20, 40)  # turned as the phone held it
    assert (stored.width, stored.height) == (20, 40)

    refused = client.post(
        reverse("wagtailimages:add"),
        {
            "title": "inte en bild",
            "file": SimpleUploadedFile("x.jpg", b"not an image", "image/jpeg"),
            "collection": collection.pk,
        },
    )
    assert refused.status_code == 200
    assert not Image.objects.filter(title="inte en bild").exists()


@pytest.mark.django_db
def test_the_workflow_reports_show_the_own_sites_pages_and_people_only(client):
    lund_editor = staff_user("lund-granskare-namn", LUND, StaffRole.EDITOR)
    malmo_editor = staff_user("malmo-granskare-namn", MALMO, StaffRole.EDITOR)
    for code, editor, title in (
        (LUND, lund_editor, "Lunds sida i granskning"),
        (MALMO, malmo_editor, "Malmös sida i granskning"),
    ):
        page = draft(code, title)
        page.save_revision(user=editor)
        workflow = page.get_workflow()
        assert workflow is not None  # Wagtail's default moderation workflow
        workflow.start(page, editor)

    as_user(client, malmo_editor)
    for name in (
        "wagtailadmin_reports:workflow",
        "wagtailadmin_reports:workflow_tasks",
    ):
        html = client.get(reverse(name)).content.decode()
        assert "Malmös sida i granskning" in html
        assert "Lunds sida i granskning" not in html
        assert "lund-granskare-namn" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("role", [StaffRole.ADMIN, StaffRole.EDITOR])
def test_the_platforms_own_set_up_in_wagtail_is_the_national_administrators(
    client, role
):
    """Users, groups, redirects, workflows and their tasks, sites and
    collections are shared by every kommun: a kommun's people cannot reach
    them (their staff are managed on the kommun's own screen)."""
    as_user(client, staff_user(f"malmo-{role}-setup", MALMO, role))
    for name in (
        "wagtailusers_users:index",
        "wagtailusers_groups:index",
        "wagtailredirects:index",
        "wagtailadmin_workflows:index",
        "wagtailadmin_workflows:task_index",
        "wagtailsites:index",
        "wagtailadmin_collections:index",
    ):
        response = client.get(reverse(name))
        assert response.status_code in (302, 403), name
        assert "Lund" not in response.content.decode()
