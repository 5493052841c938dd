"""Staff users for tests, given their role the way the platform does it."""

from django.contrib.auth import get_user_model

from municipalities.choices import StaffRole
from municipalities.models import Municipality
from municipalities.services import staff_membership_grant


def staff_user(username: str, code: str, role: StaffRole):
    """A user with ``role`` in kommun ``code``; the grant lets them into the admin."""
    user = get_user_model().objects.create_user(username=username)
    staff_membership_grant(
        user=user, municipality=Municipality.objects.get(code=code), role=role
    )
    return user


def case_handler(code: str = "1280"):
    """A case handler of kommun ``code`` (made once per test)."""
    user = get_user_model().objects.filter(username=f"handler-{code}").first()
    return user or staff_user(f"handler-{code}", code, StaffRole.CASE_HANDLER)
