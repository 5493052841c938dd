"""The report screen's review tools: where the report is (a map and the
nearest address), marking it a duplicate of a nearby report, and moderating
its text and photos. Kept apart from admin_views so that the screen's other
forms and these grow independently; InboxReportView mixes these in."""

from __future__ import annotations

from django import forms
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from reports.choices import EventKind
from reports.geocoding import address_at

from .services import (
    duplicate_candidates,
    report_mark_duplicate,
    report_moderate,
    report_update_moderate,
)

# The actions of the forms below, as their submit buttons send them.
REVIEW_ACTIONS = ("duplicate", "moderate", "moderate_update")


def distance_label(metres: float) -> str:
    if metres < 10:
        return pgettext("distance", "here")
    return _("%(metres)s m away") % {"metres": number_format(round(metres))}


class DuplicateForm(forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    original = forms.TypedChoiceField(
        label=gettext_lazy("The report it duplicates"),
        coerce=int,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Nearby reports of the same kommun, nearest first. This report "
            "closes as a duplicate; its reporter and followers follow the "
            "chosen report from now on."
        ),
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["original"].choices = [
            (
                candidate.pk,
                f"#{candidate.pk} {candidate.title} – {candidate.category.name} – "
                f"{candidate.get_status_display()} – {distance_label(distance)}",
            )
            for candidate, distance in candidates
        ]


class ModerateForm(forms.Form):
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    title = forms.CharField(
        label=pgettext_lazy("report field", "Title"),
        max_length=120,
        required=False,
        help_text=gettext_lazy("Change it to remove what may not be shown."),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    hide_photos = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Photos to hide"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Hidden photos are no longer shown anywhere; they are kept for audit."
        ),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        help_text=gettext_lazy(
            "Shown publicly with the report and e-mailed to the reporter. Never "
            "quote what you removed."
        ),
    )

    def __init__(self, *args, photos, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hide_photos"].choices = [
            (photo.pk, _("Photo %(number)s") % {"number": number})
            for number, photo in enumerate(photos, start=1)
        ]


class UpdateModerateForm(forms.Form):
    """Hide a citizen's update's text or photos (reports.updates)."""

    update = forms.TypedChoiceField(
        label=gettext_lazy("The update"), coerce=int, widget=forms.RadioSelect
    )
    hide_text = forms.BooleanField(label=gettext_lazy("Hide its text"), required=False)
    hide_photos = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Photos to hide"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = ModerateForm.base_fields["reason"]

    def __init__(self, *args, updates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["update"].choices = [
            (update.pk, f"#{update.pk}: {update.note[:80] or '–'}")
            for update in updates
        ]
        self.fields["hide_photos"].choices = [
            (
                photo.pk,
                _("Photo of update #%(update)s") % {"update": update.pk},
            )
            for update in updates
            for photo in update.photos.all()
        ]


class ReviewMixin:
    """The report screen's map, address, duplicate and moderation parts
    (for InboxReportView: ``self.object`` is the report, ``self.can_work``
    whether the user works it and ``self.version`` its version)."""

    @cached_property
    def duplicate_candidates(self):
        return duplicate_candidates(actor=self.request.user, report=self.object)

    def review_form(self, action: str, data=None) -> forms.Form:
        report = self.object
        initial = {"version": self.version}
        if action == "duplicate":
            return DuplicateForm(
                data,
                prefix="duplicate",
                candidates=self.duplicate_candidates,
                initial=initial,
            )
        if action == "moderate_update":
            return UpdateModerateForm(
                data, prefix="moderate_update", updates=self.citizen_updates
            )
        initial.update(title=report.title, description=report.description)
        return ModerateForm(
            data,
            prefix="moderate",
            photos=report.photos.filter(event__isnull=True),
            initial=initial,
        )

    @cached_property
    def citizen_updates(self):
        """The report's citizens' updates with anything left to hide."""
        return [
            update
            for update in self.object.events.filter(
                kind=EventKind.UPDATE
            ).prefetch_related("photos")
            if update.note or update.photos.all()
        ]

    def review_context(self, bound: dict) -> dict:
        report = self.object
        return {
            "address": report.address or address_at(report.lat, report.lon),
            "duplicate_form": bound.get("duplicate") or self.review_form("duplicate"),
            "moderate_form": bound.get("moderate") or self.review_form("moderate"),
            "moderate_update_form": (
                bound.get("moderate_update") or self.review_form("moderate_update")
            )
            if self.citizen_updates or "moderate_update" in bound
            else None,
            "is_duplicate": report.status == "duplicate",
        }

    def review_perform(self, action: str, data: dict):
        user, report = self.request.user, self.object
        if action == "duplicate":
            return report_mark_duplicate(
                actor=user,
                report_id=report.pk,
                original_id=data["original"],
                version=data.get("version"),
            )
        if action == "moderate_update":
            return report_update_moderate(
                actor=user,
                report_id=report.pk,
                event_id=data["update"],
                hide_text=data["hide_text"],
                hide_photo_ids=data["hide_photos"],
                reason=data["reason"],
            )
        return report_moderate(
            actor=user,
            report_id=report.pk,
            title=data["title"],
            description=data["description"],
            hide_photo_ids=data["hide_photos"],
            reason=data["reason"],
            version=data.get("version"),
        )
