import re

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_limits():
    """Rate-limit counts live in the cache: each test starts from none."""
    cache.clear()
    yield
    cache.clear()


def link_path(smtp_server, email: str, pattern: str) -> str:
    """The path of the one link e-mailed to ``email`` whose path matches."""
    (mail,) = smtp_server.bodies_to(email)
    found = re.search(r"http://[^/\s]+(\S*" + pattern + r"\S*/)", mail)
    assert found, mail
    return found.group(1)


def page_text(answer, email: str = "") -> str:
    """A page as compared between addresses: without the form's CSRF token
    (one per browser) and with the address typed replaced."""
    html = re.sub(
        r'name="csrfmiddlewaretoken" value="[^"]*"', "", answer.content.decode()
    )
    return html.replace(email, "EMAIL") if email else html
