"""The admin's "Is it fixed?" screen: after how many days each of the user's
kommuner asks its reporters whether the problem is fixed
(``Municipality.questionnaire_days``; reports.questionnaire). Only the kommuner
the user administers (municipalities.staff), changed through
``municipality_questionnaire_days_set`` (audited)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from .models import Municipality
from .services import municipality_questionnaire_days_set
from .staff import SETUP_ROLES, staff_municipalities


class QuestionnaireDaysForm(forms.Form):
    municipality = forms.IntegerField(widget=forms.HiddenInput)
    questionnaire_days = forms.IntegerField(
        label=Municipality._meta.get_field("questionnaire_days").verbose_name,
        min_value=1,
        max_value=365,
        help_text=Municipality._meta.get_field("questionnaire_days").help_text,
    )


def questionnaire_admins(user) -> bool:
    return staff_municipalities(user, SETUP_ROLES).exists()


@require_http_methods(["GET", "POST"])
def questionnaire_settings_view(request):
    kommuner = list(
        staff_municipalities(request.user, SETUP_ROLES)
        .filter(participating=True)
        .order_by("name")
    )
    if not kommuner:
        raise PermissionDenied
    forms_by_pk = {
        kommun.pk: QuestionnaireDaysForm(
            initial={
                "municipality": kommun.pk,
                "questionnaire_days": kommun.questionnaire_days,
            },
            prefix=f"k{kommun.pk}",
        )
        for kommun in kommuner
    }
    status = 200
    if request.method == "POST":
        try:
            pk = int(request.POST.get("municipality", ""))
        except ValueError:
            raise Http404 from None
        if pk not in forms_by_pk:
            raise Http404  # not one of the user's kommuner: nothing said of it
        form = QuestionnaireDaysForm(request.POST, prefix=f"k{pk}")
        form.data = form.data.copy()
        form.data[f"k{pk}-municipality"] = pk
        forms_by_pk[pk] = form
        if form.is_valid():
            try:
                municipality_questionnaire_days_set(
                    actor=request.user,
                    municipality_id=pk,
                    days=form.cleaned_data["questionnaire_days"],
                )
            except ValidationError as exc:
                form.add_error("questionnaire_days", exc.messages)
            else:
                messages.success(request, _("Saved."))
                return redirect("questionnaire_settings")
        status = 400
    return TemplateResponse(
        request,
        "municipalities/admin/questionnaire_settings.html",
        {
            "page_title": gettext_lazy("Is it fixed?"),
            "header_title": gettext_lazy("Is it fixed?"),
            "rows": [(kommun, forms_by_pk[kommun.pk]) for kommun in kommuner],
        },
        status=status,
    )
