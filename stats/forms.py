"""The period the statistics cover: from and to, Stockholm dates on which
reports were received."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from municipalities.workdays import local_date

# The longest period shown or exported: five years.
MAX_DAYS = 5 * 366


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 months: from the first of the month eleven months back to
    today."""
    month = today.month - 11
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return dt.date(year, month, 1), today


class PeriodForm(forms.Form):
    """``from`` and ``to`` (the names of the query string), both needed, in
    order, at most five years apart."""

    def __init__(self, data=None, **kwargs):
        today = local_date(timezone.now())
        start, end = default_period(today)
        if data is None or not ({"from", "to"} & set(data)):
            data = {"from": start.isoformat(), "to": end.isoformat()}
        super().__init__(data, **kwargs)
        widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields["from"] = forms.DateField(
            label=_("From"),
            widget=widget,
            error_messages={"required": _("Give the first day.")},
        )
        self.fields["to"] = forms.DateField(
            label=_("To"),
            widget=widget,
            error_messages={"required": _("Give the last day.")},
        )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end:
            if end < start:
                self.add_error("to", _("The last day comes before the first."))
            elif (end - start).days > MAX_DAYS:
                self.add_error("to", _("The period can be at most five years."))
        return cleaned

    @property
    def period(self) -> tuple[dt.date, dt.date]:
        return self.cleaned_data["from"], self.cleaned_data["to"]
