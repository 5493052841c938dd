"""Wagtail's shared parts are scoped to the user's kommun: one leak test each
(municipalities.staff.staff_pages_q, staff_people, staff_category_choices;
cms.wagtail_hooks, cms.admin_reports, cms.admin_media; each kommun's
collection of images and documents). Malmö's staff look; Lund has a draft
page, a locked page, an image, a document and a category of its own."""

import io
import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage
from wagtail.admin.search import admin_search_areas
from wagtail.documents import get_document_model
from wagtail.images.models import Image
from wagtail.log_actions import log
from wagtail.models import (
    GroupApprovalTask,
    Page,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from cms.models import ContentPage
from cms.services import shared_collection_ensure
from municipalities.choices import StaffRole
from municipalities.models import Category, Municipality, StaffMembership
from municipalities.services import staff_membership_grant, staff_membership_revoke
from tests.support.casework import LUND, MALMO, as_user, kommun_body, make_report
from tests.support.people import staff_user, superuser
from tests.support.photos import image_in, jpeg


def home_of(code):
    return Municipality.objects.get(code=code).site.root_page


def review_everywhere() -> Workflow:
    """One review workflow on both kommuner's sites (as the national
    administrator could set up): a shared task whose reviewers may come from
    either kommun, the hardest case for keeping each to its own pages."""
    task = GroupApprovalTask.objects.create(name="Granskning")
    workflow = Workflow.objects.create(name="Granskning i båda")
    WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    for code in (LUND, MALMO):
        WorkflowPage.objects.create(workflow=workflow, page=home_of(code))
    return workflow


def draft(code, title, **fields):
    return home_of(code).add_child(
        instance=ContentPage(
            title=title,
            slug=title.lower().replace(" ", "-"),
            live=fields.pop("live", False),
            **fields,
        )
    )


def document_in(code: str | None, title: str):
    """A Wagtail document in kommun ``code``'s collection (None: the shared
    national one)."""
    collection = (
        Municipality.objects.get(code=code).collection
        if code
        else shared_collection_ensure()
    )
    return get_document_model().objects.create(
        title=title,
        file=ContentFile(b"Protokoll", name=f"{title}.txt"),
        collection=collection,
    )


def html_of(client, url, **query) -> str:
    response = client.get(url, query, follow=True)
    assert response.status_code in (200, 403), url
    if response["Content-Type"].startswith("application/json"):
        return json.dumps(json.loads(response.content), ensure_ascii=False)
    return response.content.decode()


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
    review_everywhere()
    lund_editor = staff_user("lund-granskare-namn", LUND, StaffRole.EDITOR)
    malmo_editor = staff_user("malmo-granskare-namn", MALMO, StaffRole.EDITOR)
    for code, editor, title in (
        (LUND, lund_editor, "Lunds sida i granskning"),
        (MALMO, malmo_editor, "Malmös sida i granskning"),
    ):
        page = draft(code, title)
        page.save_revision(user=editor)
        workflow = page.get_workflow()
        assert workflow is not None
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
        "wagtailadmin_workflows:task_chooser",
        "wagtailadmin_workflows:task_chooser_results",
    ):
        response = client.get(reverse(name))
        assert response.status_code in (302, 403), name
        assert "Lund" not in response.content.decode()


@pytest.mark.django_db
def test_documents_are_the_own_kommuns_and_the_shared_ones(client):
    lunds = document_in(LUND, "lunds-protokoll")
    document_in(MALMO, "malmos-protokoll")
    shared = document_in(None, "nationellt-protokoll")
    as_user(client, staff_user("malmo-dokumentredaktor", MALMO, StaffRole.EDITOR))

    for name in ("wagtaildocs_chooser:choose", "wagtaildocs_chooser:choose_results"):
        chooser = html_of(client, reverse(name), q="protokoll")
        assert "malmos-protokoll" in chooser and "nationellt-protokoll" in chooser
        assert "lunds-protokoll" not in chooser
    for query in ({}, {"q": "protokoll"}):
        listing = html_of(client, reverse("wagtaildocs:index"), **query)
        assert "malmos-protokoll" in listing
        assert "lunds-protokoll" not in listing
        assert "nationellt-protokoll" not in listing  # chosen only, not managed
    # Lund's document is refused by id, to choose as to edit.
    chosen = client.get(reverse("wagtaildocs_chooser:chosen", args=[lunds.pk]))
    assert chosen.status_code in (302, 403)
    assert "lunds-protokoll" not in chosen.content.decode()
    edit = client.get(reverse("wagtaildocs:edit", args=[lunds.pk]))
    assert edit.status_code in (302, 403)
    assert "lunds-protokoll" not in edit.content.decode()
    assert client.get(reverse("wagtaildocs:edit", args=[shared.pk])).status_code in (
        302,
        403,
    )


@pytest.mark.django_db
def test_the_admin_api_and_the_tags_show_the_own_kommuns_images_and_documents(
    client,
):
    lund_image = image_in(LUND, "lunds-bild")
    lund_image.tags.add("lundataggen")
    lund_document = document_in(LUND, "lunds-protokoll")
    lund_document.tags.add("lundataggen")
    image_in(MALMO, "malmos-bild").tags.add("malmotaggen")
    document_in(MALMO, "malmos-protokoll").tags.add("malmotaggen")
    image_in(None, "nationell-bild").tags.add("nationella-taggen")
    as_user(client, staff_user("malmo-taggredaktor", MALMO, StaffRole.EDITOR))

    # Wagtail's admin API lists every image and document of every collection.
    api = html_of(client, "/admin/api/main/images/")
    assert "malmos-bild" in api and "nationell-bild" in api
    assert "lunds-bild" not in api
    api = html_of(client, "/admin/api/main/documents/")
    assert "malmos-protokoll" in api and "lunds-protokoll" not in api
    for url in (
        f"/admin/api/main/images/{lund_image.pk}/",
        f"/admin/api/main/documents/{lund_document.pk}/",
    ):
        assert client.get(url).status_code == 404

    # The listings' and the chooser's tag filters, and the tag suggestions.
    for url in (
        reverse("wagtailimages:index"),
        reverse("wagtaildocs:index"),
        reverse("wagtailimages_chooser:choose"),
    ):
        html = html_of(client, url)
        assert "malmotaggen" in html, url
        assert "lundataggen" not in html, url
    for url in (
        reverse("wagtailadmin_tag_autocomplete"),
        reverse("wagtailadmin_tag_model_autocomplete", args=["taggit", "tag"]),
    ):
        assert json.loads(client.get(url, {"term": "lund"}).content) == []
        assert json.loads(client.get(url, {"term": "malmo"}).content) == ["malmotaggen"]
    suggested = client.get(reverse("wagtailadmin_tag_autocomplete"), {"term": "nat"})
    assert json.loads(suggested.content) == ["nationella-taggen"]


@pytest.mark.django_db
def test_the_page_explorer_and_page_search_show_the_own_sites_pages_only(client):
    lunds = draft(LUND, "Lunds hemliga utkast")
    draft(MALMO, "Malmös utkast")
    as_user(client, staff_user("malmo-sidredaktor", MALMO, StaffRole.EDITOR))

    for url, query in (
        (reverse("wagtailadmin_explore_root"), {}),
        (reverse("wagtailadmin_explore", args=[home_of(MALMO).pk]), {}),
        # Lund's site: back to the editor's own.
        (reverse("wagtailadmin_explore", args=[home_of(LUND).pk]), {}),
        (
            reverse("wagtailadmin_explore", args=[home_of(MALMO).pk]),
            {"q": "utkast", "search_all": "1"},
        ),
        (reverse("wagtailadmin_pages:search"), {"q": "utkast"}),
        (reverse("wagtailadmin_pages:search_results"), {"q": "utkast"}),
        # The sidebar's explorer asks the admin API.
        ("/admin/api/main/pages/", {"child_of": home_of(MALMO).pk}),
    ):
        html = html_of(client, url, **query)
        assert "Malmös utkast" in html, url
        assert "Lunds hemliga utkast" not in html, url
    for url, query in (
        ("/admin/api/main/pages/", {"child_of": home_of(LUND).pk}),
        ("/admin/api/main/pages/", {"search": "Lunds"}),
        (reverse("wagtailadmin_pages:search"), {"q": "Lunds hemliga"}),
        (reverse("wagtailadmin_pages:edit", args=[lunds.pk]), {}),
        (reverse("wagtailadmin_pages:history", args=[lunds.pk]), {}),
    ):
        response = client.get(url, query, follow=True)
        assert response.status_code in (200, 400, 403), url
        assert "Lunds hemliga utkast" not in response.content.decode(), url


@pytest.mark.django_db
@pytest.mark.parametrize("role", [StaffRole.CASE_HANDLER, StaffRole.CONTACT_CENTRE])
def test_staff_without_page_permissions_see_no_page_tree(client, role):
    draft(MALMO, "Malmös utkast")
    as_user(client, staff_user(f"malmo-{role}-utan-sidor", MALMO, role))

    dashboard = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "wagtail.sidebar.PageExplorerMenuItem" not in dashboard
    assert reverse("wagtailadmin_explore", args=[home_of(MALMO).pk]) not in dashboard
    for url in (
        reverse("wagtailadmin_explore_root"),
        reverse("wagtailadmin_explore", args=[home_of(MALMO).pk]),
        reverse("wagtailadmin_pages:search") + "?q=utkast",
        reverse("wagtailadmin_reports:locked_pages"),
        reverse("wagtailadmin_reports:aging_pages"),
    ):
        response = client.get(url)
        # Wagtail sends them to the dashboard, saying they may not.
        assert response.status_code == 302, url
        assert response["Location"] == reverse("wagtailadmin_home")
    api = json.loads(client.get("/admin/api/main/pages/").content)
    assert api["items"] == []


@pytest.mark.django_db
def test_the_locked_and_aging_pages_reports_show_the_own_sites_pages_only(client):
    lund_editor = staff_user("lund-laser-namn", LUND, StaffRole.EDITOR)
    editor = staff_user("malmo-laser-namn", MALMO, StaffRole.EDITOR)
    now = timezone.now()
    published = {"live": True, "last_published_at": now - timedelta(days=400)}
    for code, title, locker in (
        (LUND, "Lunds låsta sida", lund_editor),
        # Locked by Malmö's editor when they still worked for Lund.
        (LUND, "Lunds sida med Malmös lås", editor),
        (MALMO, "Malmös låsta sida", editor),
    ):
        page = draft(code, title, **published)
        Page.objects.filter(pk=page.pk).update(
            locked=True, locked_by=locker, locked_at=now
        )
    draft(LUND, "Lunds gamla sida", **published)
    draft(MALMO, "Malmös gamla sida", **published)

    as_user(client, editor)
    for name in ("locked_pages", "locked_pages_results"):
        html = html_of(client, reverse(f"wagtailadmin_reports:{name}"))
        assert "Malmös låsta sida" in html
        assert "Lunds låsta sida" not in html
        assert "Lunds sida med Malmös lås" not in html
        assert "lund-laser-namn" not in html  # the "locked by" filter
    for name in ("aging_pages", "aging_pages_results"):
        html = html_of(client, reverse(f"wagtailadmin_reports:{name}"))
        assert "Malmös gamla sida" in html
        assert "Lunds gamla sida" not in html


@pytest.mark.django_db
def test_categories_offered_are_the_shared_and_the_own_kommuns(client):
    """No category chooser is registered (categories are no snippet): the
    admin offers them in lists and filters, each the shared categories and
    those of the bodies of the user's kommuner."""
    Category.objects.create(
        name="Lunds egen kategori", slug="lunds-egen", body=kommun_body(LUND)
    )
    Category.objects.create(
        name="Malmös egen kategori", slug="malmos-egen", body=kommun_body(MALMO)
    )
    report = make_report(MALMO, title="Trasig lykta i Malmö")
    admin = staff_user("malmo-kategoriadmin", MALMO, StaffRole.ADMIN)
    handler = staff_user("malmo-kategorihandlaggare", MALMO, StaffRole.CASE_HANDLER)

    as_user(client, admin)
    for url in (
        reverse("inbox:index"),
        reverse("inbox:inspect", args=[report.pk]),  # the handover form
        reverse("response_templates:add"),
        reverse("routes:add"),
        reverse("questions:add"),
    ):
        html = html_of(client, url)
        assert "Malmös egen kategori" in html, url
        assert "Gatubelysning" in html, url  # a shared one
        assert "Lunds egen kategori" not in html, url
    listing = html_of(client, reverse("categories:index"))
    assert "Malmös egen kategori" in listing and "Lunds egen kategori" not in listing

    as_user(client, handler)
    for url in (reverse("inbox:index"), reverse("inbox:inspect", args=[report.pk])):
        html = html_of(client, url)
        assert "Malmös egen kategori" in html and "Lunds egen kategori" not in html


@pytest.mark.django_db
def test_the_admin_search_areas_reveal_nothing_of_another_kommun(client):
    """Wagtail 8 has no search of its own across the admin: the page search
    links to the other search areas the user may use (images, documents;
    users for those who manage them); each finds the own kommun's only."""
    draft(LUND, "Lunds hemliga sida")
    draft(MALMO, "Malmös sida")
    image_in(LUND, "lunds-bild")
    image_in(MALMO, "malmos-bild")
    document_in(LUND, "lunds-protokoll")
    document_in(MALMO, "malmos-protokoll")
    editor = staff_user("malmo-sokredaktor", MALMO, StaffRole.EDITOR)
    as_user(client, editor)

    request = RequestFactory().get("/admin/pages/search/")
    request.user = editor
    areas = admin_search_areas.search_items_for_request(request)
    assert {area.name for area in areas} == {"pages", "images", "documents"}
    for area in areas:
        for term in ("lund", "malmö", "malmos"):
            html = html_of(client, area.url, q=term)
            assert "Lunds hemliga sida" not in html, area.url
            assert "lunds-bild" not in html and "lunds-protokoll" not in html
    assert "Malmös sida" in html_of(
        client, reverse("wagtailadmin_pages:search"), q="malmö"
    )


@pytest.mark.django_db
def test_the_dashboard_shows_the_own_kommuns_pages_and_counts_only(client):
    # An editor who worked for Lund, and now for Malmö: they edited and
    # locked a page of Lund's and asked for its review, then left Lund.
    review_everywhere()
    editor = staff_user("flyttad-redaktor", LUND, StaffRole.EDITOR)
    lunds = draft(LUND, "Lunds utkast från förr")
    Page.objects.filter(pk=lunds.pk).update(locked=True, locked_by=editor)
    log(instance=lunds, action="wagtail.edit", user=editor)
    lunds.save_revision(user=editor)
    lunds.get_workflow().start(lunds, editor)
    staff_membership_revoke(
        actor=superuser(),
        membership=StaffMembership.objects.get(user=editor, municipality__code=LUND),
    )
    staff_membership_grant(
        user=editor,
        municipality=Municipality.objects.get(code=MALMO),
        role=StaffRole.EDITOR,
    )
    malmos = draft(MALMO, "Malmös nya utkast")
    Page.objects.filter(pk=malmos.pk).update(locked=True, locked_by=editor)
    log(instance=malmos, action="wagtail.edit", user=editor)
    malmos.save_revision(user=editor)
    malmos.get_workflow().start(malmos, editor)
    # They review, too: the platform's review task (every kommun's) counts a
    # group of reviewers with no pages of their own, them among them; a page
    # of Lund's waits for them.
    reviewers = Group.objects.create(name="Granskare")
    lunds.get_workflow().tasks.first().specific.groups.add(reviewers)
    editor.groups.add(reviewers)
    other = draft(LUND, "Lunds sida i granskning")
    other.save_revision(user=superuser())
    other.get_workflow().start(other, superuser())

    image_in(LUND, "lunds-bild")
    image_in(MALMO, "malmos-bild")
    image_in(None, "nationell-bild")
    document_in(LUND, "lunds-protokoll")
    document_in(MALMO, "malmos-protokoll")

    as_user(client, editor)
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Malmös nya utkast" in html
    assert "Lunds utkast från förr" not in html
    assert "Lunds sida i granskning" not in html
    # The site summary counts the own site's pages, and the images and
    # documents of the own and the shared collections.
    summary = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    malmo_pages = Page.objects.descendant_of(home_of(MALMO), inclusive=True).count()
    assert f"{malmo_pages} Pages created in Malmö" in summary
    assert "2 Images created in Malmö" in summary
    assert "1 Document created in Malmö" in summary
