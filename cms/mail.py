"""The kommun's brand in e-mail about its reports (reports.mail.MailBrand).

reports sits below the kommun sites, so it cannot read a site's settings; this
module answers for it, registered once at start-up (cms.apps). A report in a
kommun with its own site gets that site's name, logo and colours, and its links
lead there; a report in a kommun without one, none (the plain e-mail).
"""

from __future__ import annotations

import logging

from wagtail.images.models import SourceImageIOError

from reports.mail import MailBrand, root_url
from reports.models import Report

from .models import SiteBranding

logger = logging.getLogger("knutpunkt.mail")

#: The logo as e-mail shows it: the header's height.
LOGO_RENDITION = "height-48"


def report_brand(report: Report) -> MailBrand | None:
    site = report.municipality.site
    if site is None:
        return None
    # Read, not made: a site whose editors never saved its settings has the
    # default look (nothing is written from a worker sending e-mail).
    branding = SiteBranding.objects.select_related("logo").filter(
        site=site
    ).first() or SiteBranding(site=site)
    base = root_url(site)
    return MailBrand(
        name=report.municipality.name,
        root_url=base,
        colour=branding.brand_colour,
        text_colour=branding.brand_text_colour,
        logo_url=_logo_url(branding, base),
    )


def _logo_url(branding: SiteBranding, base: str) -> str:
    """The logo's absolute address, built on the site's configured root URL
    (never a request's Host); none if its file cannot be read."""
    if branding.logo is None:
        return ""
    try:
        url = branding.logo.get_rendition(LOGO_RENDITION).url
    except SourceImageIOError:
        logger.warning("The logo of site %s could not be read", branding.site_id)
        return ""
    return url if url.startswith(("https://", "http://")) else base + url
