"""Citizen pages of alerts: asking for one ("Bevaka området", from the map
page, working without JavaScript), confirming it by the e-mailed link, and
its own page from the link in every digest (an SMS number, ending it), all
without signing in."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from infra.forms import errors_to_form
from infra.ratelimit import rate_limit_hit, rate_limited
from infra.sms import sms_configured
from municipalities.locate import map_bounds
from municipalities.tenancy import tenant_for_request

from .alert_services import (
    alert_confirm,
    alert_end,
    alert_phone_remove,
    alert_phone_set,
    alert_phone_verify,
    alert_request,
)
from .alerts import alert_describe
from .choices import TokenPurpose
from .forms import AlertCodeForm, AlertForm, AlertPhoneForm
from .geocoding import PlaceSearchRefused, places_search_for
from .mail import alert_id_from_token, alert_token
from .models import Alert
from .tokens import TokenInvalid, token_peek_token

_FORM_FIELDS = ("kind", "lat", "lon", "radius", "kommun", "category")


def _place_from_address(request, form) -> bool:
    """A typed address, when no point is given: the place search's best
    match. False (an error at ``adress``) when it cannot be found."""
    data = form.cleaned_data
    if data.get("lat") or data.get("lon") or not data.get("adress"):
        return True
    try:
        places = places_search_for(request, data["adress"], limit=1)
    except PlaceSearchRefused as refused:
        form.add_error("adress", refused.message)
        return False
    if not places:
        form.add_error("adress", _("No place with that name was found."))
        return False
    data["lat"], data["lon"] = str(places[0].lat), str(places[0].lon)
    return True


@require_http_methods(["GET", "POST"])
@rate_limited("alert_signup", methods=("POST",))
def alert_new(request):
    """Ask for an alert: an area (the map's centre, a typed address or a
    point), a kommun, or a category of a kommun."""
    municipality = tenant_for_request(request).municipality
    if request.method == "POST":
        form = AlertForm(request.POST)
        if form.is_valid() and _place_from_address(request, form):
            data = form.cleaned_data
            # Per address too, whoever asks: past it nothing is sent, and the
            # answer is the same.
            if rate_limit_hit(request, "alert_signup_email", key=data["email"].lower()):
                return render(request, "reports/alert_sent.html")
            try:
                alert_request(
                    kind=data["kind"],
                    email=data["email"],
                    lat=data["lat"],
                    lon=data["lon"],
                    radius=data["radius"],
                    municipality=data["kommun"],
                    category=data["category"],
                    site_id=tenant_for_request(request).site_id,
                    language=get_language() or settings.LANGUAGE_CODE,
                    user=request.user if request.user.is_authenticated else None,
                )
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                return render(request, "reports/alert_sent.html")
        status = 400
    else:
        west, south, east, north = map_bounds(municipality)
        initial = {
            "lat": request.GET.get("lat") or f"{(south + north) / 2:.5f}",
            "lon": request.GET.get("lon") or f"{(west + east) / 2:.5f}",
            "kommun": municipality.code if municipality else None,
        }
        if request.GET.get("radie"):
            initial["radius"] = request.GET["radie"]
        form = AlertForm(initial=initial)
        status = 200
    return render(request, "reports/alert_new.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@rate_limited("confirm")
def alert_confirm_view(request, token: str):
    """The double opt-in's link: GET shows a button (mail scanners fetch
    links), POST confirms and goes to the alert's page."""
    try:
        if request.method == "GET":
            alert = token_peek_token(
                raw=token, purpose=TokenPurpose.CONFIRM_ALERT
            ).alert
            return render(
                request,
                "reports/alert_confirm.html",
                {"description": alert_describe(alert)},
            )
        alert = alert_confirm(raw_token=token)
    except TokenInvalid as exc:
        return render(
            request, "reports/token_invalid.html", {"reason": exc}, status=410
        )
    messages.success(request, _("Your alert is on. New reports come by e-mail."))
    return redirect("alert-manage", token=alert_token(alert.pk))


def _alert_or_none(token: str) -> Alert | None:
    alert_id = alert_id_from_token(token)
    if alert_id is None:
        return None
    return (
        Alert.objects.select_related("municipality", "category")
        .filter(pk=alert_id)
        .first()
    )


@require_http_methods(["GET", "POST"])
def alert_manage(request, token: str):
    """The alert's own page: what it watches, an SMS number (where SMS is
    offered) and its code, and ending it."""
    alert = _alert_or_none(token)
    if alert is None or alert.confirmed_at is None:
        return render(request, "reports/alert_end.html", {"done": True}, status=404)
    phone_form, code_form, status = AlertPhoneForm(), AlertCodeForm(), 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "phone":
                phone_form = AlertPhoneForm(request.POST)
                if phone_form.is_valid():
                    if rate_limit_hit(request, "alert_sms_code", key=str(alert.pk)):
                        raise ValidationError(
                            {"phone": _("Too many codes asked for. Try again later.")}
                        )
                    alert_phone_set(
                        alert_id=alert.pk, phone=phone_form.cleaned_data["phone"]
                    )
                    messages.success(request, _("We sent a code to your phone."))
                    return redirect(request.path)
            elif action == "code":
                code_form = AlertCodeForm(request.POST)
                if code_form.is_valid():
                    alert_phone_verify(
                        alert_id=alert.pk, code=code_form.cleaned_data["code"]
                    )
                    messages.success(
                        request, _("Your number is verified: alerts come by SMS too.")
                    )
                    return redirect(request.path)
            elif action == "remove_phone":
                alert_phone_remove(alert_id=alert.pk)
                messages.success(request, _("No more SMS for this alert."))
                return redirect(request.path)
        except ValidationError as exc:
            target = code_form if "code" in exc.message_dict else phone_form
            errors_to_form(target, exc)
        status = 400
        alert.refresh_from_db()
    return render(
        request,
        "reports/alert_manage.html",
        {
            "alert": alert,
            "description": alert_describe(alert),
            "sms": sms_configured(),
            "phone_form": phone_form,
            "code_form": code_form,
            "end_url": reverse("alert-end", args=[token]),
        },
        status=status,
    )


@csrf_exempt  # one-click unsubscribe (RFC 8058): the signed token is the proof
@require_http_methods(["GET", "POST"])
def alert_end_view(request, token: str):
    """End an alert from the e-mailed link, without signing in: GET asks, POST
    (the page's button, or a mail program's one-click) ends it."""
    alert = _alert_or_none(token)
    if alert is None:
        status = 404 if alert_id_from_token(token) is None else 200
        return render(request, "reports/alert_end.html", {"done": True}, status=status)
    description = alert_describe(alert)
    if request.method == "POST":
        alert_end(alert_id=alert.pk)
        return render(
            request,
            "reports/alert_end.html",
            {"done": True, "description": description},
        )
    return render(request, "reports/alert_end.html", {"description": description})
