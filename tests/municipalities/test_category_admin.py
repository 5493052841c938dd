import pytest
from django.core.exceptions import ValidationError

from municipalities.choices import StaffRole
from municipalities.models import Category, CategoryQuestion
from tests.support.people import staff_user, superuser


@pytest.mark.django_db
def test_staff_edit_a_category_with_its_extra_questions_in_the_admin(client):
    client.force_login(superuser())
    category = Category.objects.get(slug="gatubelysning")
    page = client.get(f"/admin/categories/edit/{category.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="questions-TOTAL_FORMS"' in html
    assert 'name="questions-__prefix__-kind"' in html


@pytest.mark.django_db
def test_kommun_editors_cannot_change_the_national_categories(client):
    client.force_login(staff_user("malmo-redaktor", "1280", StaffRole.EDITOR))
    category = Category.objects.get(slug="gatubelysning")
    page = client.get(f"/admin/categories/edit/{category.pk}/")
    assert page.status_code in (302, 403)


@pytest.mark.django_db
def test_a_choice_question_needs_options():
    category = Category.objects.get(slug="klotter")
    question = CategoryQuestion(
        category=category, code="yta", label="Yta", kind="single"
    )
    with pytest.raises(ValidationError) as exc:
        question.full_clean()
    assert "choices" in exc.value.message_dict
    question.choices = ["Vägg", "Skylt"]
    question.full_clean()
