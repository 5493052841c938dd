"""People for tests: citizens, and staff given their role the way the platform
does it."""

from django.contrib.auth import get_user_model

from municipalities.choices import StaffRole
from municipalities.models import Municipality
from municipalities.services import staff_membership_grant

PASSWORD = "ett-lösenord-för-test"


def citizen(username: str = "medborgare", *, password: str = PASSWORD):
    """A citizen's account (no staff rights), signed in with ``password``."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user = get_user_model().objects.create_user(
            username=username, email=f"{username}@example.org", password=password
        )
    return user


def staff_user(username: str, code: str, role: StaffRole):
    """A user with ``role`` in kommun ``code``; the grant lets them into the admin."""
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.org", password=PASSWORD
    )
    staff_membership_grant(
        user=user, municipality=Municipality.objects.get(code=code), role=role
    )
    return user


def case_handler(code: str = "1280"):
    """A case handler of kommun ``code`` (made once per test)."""
    user = get_user_model().objects.filter(username=f"handler-{code}").first()
    return user or staff_user(f"handler-{code}", code, StaffRole.CASE_HANDLER)


def superuser(username: str = "admin"):
    """A national administrator (Django superuser)."""
    user = get_user_model().objects.filter(username=username).first()
    return user or get_user_model().objects.create_superuser(
        username=username, email=f"{username}@example.org", password=PASSWORD
    )
