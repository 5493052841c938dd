"""A report's address: the place's nearest address, looked up once in the
background after the report is saved and kept, so that staff find a report by
its street."""

from __future__ import annotations

from .geocoding import address_at
from .models import Report


def report_address_fill(*, report_id: int) -> str:
    """The report's nearest address, looked up once and kept (so that staff find
    the report by its street); "" when the geocoder has none or is away. An
    address already kept is never replaced."""
    report = Report.objects.filter(pk=report_id).only("lat", "lon", "address").first()
    if report is None or report.address:
        return report.address if report else ""
    address = address_at(report.lat, report.lon, patient=True)[:255]
    if address:
        Report.objects.filter(pk=report_id, address="").update(address=address)
    return address
