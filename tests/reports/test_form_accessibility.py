"""The report form read by screen reader and keyboard, with and without
JavaScript: a refused report lists every error at the top, linked to its field;
each field is marked invalid and described by its error; nothing typed is lost."""

import json
from html.parser import HTMLParser

import pytest

from municipalities.models import Category, CategoryQuestion
from tests.support import factories

MALMO = {"lat": "55.605900", "lon": "13.000700"}


class Page(HTMLParser):
    """The ids of a page, and its elements with ARIA references or states."""

    def __init__(self, text: str):
        super().__init__()
        self.ids: list[str] = []
        self.elements: list[tuple[str, dict]] = []
        self.summary_links: list[tuple[str, str]] = []
        self._in_summary = 0
        self._link: str | None = None
        self._text = ""
        self.summary_attrs: dict = {}
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        self.elements.append((tag, attrs))
        if attrs.get("id") == "error-summary":
            self._in_summary = 1
            self.summary_attrs = attrs
        elif self._in_summary and tag == "div":
            self._in_summary += 1
        if self._in_summary and tag == "a":
            self._link, self._text = attrs["href"], ""

    def handle_endtag(self, tag):
        if self._in_summary and tag == "a":
            self.summary_links.append((self._link, self._text.strip()))
            self._link = None
        if self._in_summary and tag == "div":
            self._in_summary -= 1

    def handle_data(self, data):
        if self._link is not None:
            self._text += data

    def by_name(self, name: str) -> list[dict]:
        return [a for tag, a in self.elements if a.get("name") == name]

    def by_id(self, id_: str) -> dict:
        (attrs,) = [a for tag, a in self.elements if a.get("id") == id_]
        return attrs

    def missing_references(self) -> list[str]:
        """Every id an aria-describedby, aria-labelledby or label names that is
        not on the page."""
        known = set(self.ids)
        missing = []
        for tag, attrs in self.elements:
            for key in ("aria-describedby", "aria-labelledby"):
                missing += [i for i in attrs.get(key, "").split() if i not in known]
            if tag == "label" and attrs.get("for") and attrs["for"] not in known:
                missing.append(attrs["for"])
        return missing


def report(**overrides):
    data = {
        **MALMO,
        "category": "gatubelysning",
        "title": "Trasig gatlykta",
        "description": "Lyktan vid busshållplatsen är släckt.",
        "name": "Anna Andersson",
        "email": "anna@example.org",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def questions():
    factories.lamp_questions()


@pytest.mark.django_db
def test_a_refused_report_lists_every_error_at_the_top_linked_to_its_field(client):
    response = client.post(
        "/rapportera/",
        report(title="", email="inte-en-adress", category=None, phone="x"),
    )
    assert response.status_code == 400
    page = Page(response.content.decode())
    assert page.summary_links == [
        ("#id_category_avfall-och-atervinning", "Category: This field is required."),
        ("#id_title", "Title: This field is required."),
        ("#id_email", "Your e-mail: Enter a valid email address."),
        ("#id_phone", "Phone (optional): Enter a phone number."),
    ]
    # The summary takes focus (without JavaScript too) and each link leads to
    # an element on the page.
    assert "autofocus" in page.summary_attrs and page.summary_attrs["tabindex"] == "-1"
    assert "hidden" not in page.summary_attrs
    assert all(href[1:] in page.ids for href, _ in page.summary_links)
    for name in ("title", "email", "phone"):
        (field,) = page.by_name(name)
        assert field["aria-invalid"] == "true"
        assert field["aria-describedby"] == f"id_{name}_error"
    for radio in page.by_name("category"):
        assert radio["aria-invalid"] == "true"
        assert radio["aria-describedby"] == "id_category_error"
    (description,) = page.by_name("description")
    assert "aria-invalid" not in description
    assert page.missing_references() == []
    text = response.content.decode()
    assert (
        '<p class="field-error" id="id_title_error">This field is required.</p>' in text
    )
    # What was typed is kept.
    assert "Lyktan vid busshållplatsen är släckt." in text
    assert 'value="Anna Andersson"' in text and 'value="inte-en-adress"' in text


@pytest.mark.django_db
def test_a_report_without_a_place_links_to_the_place_search(client):
    response = client.post("/rapportera/", report(lat="", lon=""))
    assert response.status_code == 400
    page = Page(response.content.decode())
    assert page.summary_links == [
        ("#id_q", "Put a pin on the map or search for a place first.")
    ]
    search = page.by_id("id_q")
    assert search["aria-invalid"] == "true"
    assert search["aria-describedby"] == "place-error"
    assert page.missing_references() == []


@pytest.mark.django_db
def test_an_unanswered_question_is_named_at_the_question_and_answers_kept(
    client, questions
):
    response = client.post(
        "/rapportera/", report(q_gatubelysning_fel="Blinkar", title="")
    )
    assert response.status_code == 400
    text = response.content.decode()
    page = Page(text)
    assert page.summary_links == [
        ("#q_gatubelysning_stolpe", "Answer the question “Stolpnummer”."),
        ("#id_title", "Title: This field is required."),
    ]
    assert (
        '<p class="field-error" id="q_gatubelysning_stolpe_error">'
        "Answer the question “Stolpnummer”.</p>" in text
    )
    (answer,) = page.by_name("q_gatubelysning_stolpe")
    assert answer["aria-invalid"] == "true"
    assert answer["aria-describedby"] == "q_gatubelysning_stolpe_error"
    # The answered question is kept as chosen, and not marked.
    choices = page.by_name("q_gatubelysning_fel")
    assert [("checked" in c, "aria-invalid" in c) for c in choices] == [
        (False, False),
        (True, False),
    ]
    (chosen,) = [r for r in page.by_name("category") if "checked" in r]
    assert chosen["value"] == "gatubelysning"
    assert page.missing_references() == []


@pytest.mark.django_db
def test_a_wrong_answer_names_its_question_and_keeps_what_was_typed(client):
    category = Category.objects.get(slug="gatubelysning")
    CategoryQuestion.objects.create(
        category=category, code="hojd", label="Höjd i meter", kind="number"
    )
    response = client.post("/rapportera/", report(q_gatubelysning_hojd="hög"))
    assert response.status_code == 400
    page = Page(response.content.decode())
    assert page.summary_links == [
        ("#q_gatubelysning_hojd", "Answer the question “Höjd i meter”: Enter a number.")
    ]
    (answer,) = page.by_name("q_gatubelysning_hojd")
    assert answer["value"] == "hög" and answer["aria-invalid"] == "true"


@pytest.mark.django_db
def test_with_javascript_the_errors_name_elements_of_the_page(client, questions):
    """The script shows the errors the JSON answer lists on the page it has:
    each element it names is there (the categories at the point loaded)."""
    response = client.post(
        "/rapportera/",
        report(title="", phone="x", q_gatubelysning_fel="Trasig"),
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    summary = json.loads(response.content)["summary"]
    assert [(e["field"], e["href"], e["error_id"], e["message"]) for e in summary] == [
        (
            "q_gatubelysning_stolpe",
            "#q_gatubelysning_stolpe",
            "q_gatubelysning_stolpe_error",
            "Answer the question “Stolpnummer”.",
        ),
        (
            "q_gatubelysning_fel",
            "#q_gatubelysning_fel",
            "q_gatubelysning_fel_error",
            "Answer the question “Vad är fel?”: Choose one of the options.",
        ),
        ("title", "#id_title", "id_title_error", "This field is required."),
        ("phone", "#id_phone", "id_phone_error", "Enter a phone number."),
    ]
    form = client.get("/rapportera/")
    fragment = client.get("/rapportera/kategorier/", MALMO)
    page = Page(form.content.decode() + fragment.content.decode())
    for error in summary:
        assert error["href"][1:] in page.ids
        assert error["error_id"] in page.ids
        assert page.by_name(error["field"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [{}, MALMO, {"lat": "59.91", "lon": "10.75"}, {"lat": "x", "lon": "1"}],
    ids=["empty", "malmo", "outside-sweden", "malformed"],
)
def test_every_reference_of_the_form_names_an_element_on_it(client, questions, params):
    page = Page(client.get("/rapportera/", params).content.decode())
    assert page.missing_references() == []
    assert "hidden" in page.by_id("error-summary")


@pytest.mark.django_db
def test_the_photos_hint_describes_the_photo_field(client):
    page = Page(client.get("/rapportera/").content.decode())
    (photos,) = page.by_name("photos")
    assert photos["aria-describedby"] == "id_photos_helptext"
    assert "id_photos_helptext" in page.ids
