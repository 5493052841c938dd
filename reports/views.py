"""Citizen pages: the report form, the report page, confirmation and following."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from wagtail.models import Site

from infra.forms import errors_to_form
from infra.ratelimit import rate_limit_hit, rate_limited
from infra.tasks import enqueue_with_transaction
from municipalities.api import invalid_point_response
from municipalities.locate import (
    map_bounds,
    municipality_for_point,
    municipality_inside_point,
    parse_point,
)
from municipalities.models import Category, Municipality
from municipalities.notices import messages_at
from municipalities.promises import default_promises, offered_promises, promises_of
from municipalities.routing import responsibility_at
from municipalities.tenancy import tenant_for_request

from .alerts import alert_describe
from .choices import (
    OPEN_STATUSES,
    PUBLIC_STATUSES,
    ActorKind,
    EventKind,
    ReportStatus,
    TokenPurpose,
)
from .forms import (
    FollowForm,
    PlaceByAddressForm,
    PlaceSearchForm,
    QuestionnaireForm,
    ReportForm,
    UpdateForm,
)
from .geocoding import (
    GeocoderUnavailable,
    PlaceSearchRefused,
    places_search,
    places_search_for,
)
from .mail import alert_token, root_url, subscription_id_from_token
from .models import Report, ReportEvent, Subscription
from .my_reports import (
    SESSION_KEY,
    my_alerts,
    my_reports,
    my_reports_latest_event,
    my_reports_link_usable,
    my_reports_link_use,
)
from .photos import PhotoErrors, process_photos
from .services import (
    Reporter,
    answers_clean,
    report_confirm,
    report_follow,
    report_submit,
    reports_nearby,
    subscription_confirm,
    subscription_end,
)
from .tasks import send_my_reports_link_task
from .tokens import LinkReportGone, TokenInvalid, token_peek, token_used_report
from .updates import (
    questionnaire_answer,
    report_update_add,
    reporter_may_say_fixed,
    update_author,
)

PLACE_LABEL_MAX = 200
REPORTS_PER_PAGE = 50


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _point_context(lat, lon, place: str = "") -> dict:
    """What the page says about a chosen point: the kommun and its categories,
    and one sentence that sums it up (shown beside the map and announced)."""
    try:
        lat, lon = parse_point(lat, lon)
    except ValidationError as exc:
        return {
            "point_errors": exc.message_dict,
            "place_announcement": _("That is not a valid position."),
        }
    located = municipality_for_point(lat=lat, lon=lon)
    responsibility = responsibility_at(municipality=located.municipality)
    return {
        "point": {"lat": lat, "lon": lon},
        "located": located,
        "responsibility": responsibility,
        # What the kommun promises, by category (None: its default).
        "kommun_promises": promises_of(located.municipality.pk)
        if located.municipality
        else {},
        # The kommun's operational messages here: for every category, and by
        # category.
        "notices": messages_at(located.municipality.pk, lat=lat, lon=lon)
        if located.municipality
        else None,
        "place_announcement": _place_announcement(located, place),
    }


def _place_announcement(located, place: str) -> str:
    municipality = located.municipality
    if municipality is None:
        return _("This place is outside Sweden. Choose a place in Sweden.")
    if place:
        return _("Place chosen: %(place)s, in %(name)s kommun.") % {
            "place": place,
            "name": municipality.name,
        }
    if located.match == "nearest":
        return _("Place chosen: nearest kommun is %(name)s.") % {
            "name": municipality.name
        }
    return _("Place chosen: in %(name)s kommun.") % {"name": municipality.name}


def _place_label(raw: str | None) -> str:
    """The name of a place a search found, as carried in a link or the form."""
    return (raw or "").strip()[:PLACE_LABEL_MAX]


@rate_limited("categories")
def categories_fragment(request):
    """The kommun and category choices at a point, as an HTML fragment for the map."""
    return render(
        request,
        "reports/_categories.html",
        _point_context(
            request.GET.get("lat"),
            request.GET.get("lon"),
            _place_label(request.GET.get("place")),
        ),
    )


def _answers_from_post(post, category: Category, municipality_id) -> dict:
    answers = {}
    for question in category.questions_for(municipality_id):
        key = f"q_{category.slug}_{question.code}"
        answers[question.code] = (
            post.getlist(key) if question.kind == "multiple" else post.get(key, "")
        )
    return answers


def _errors_to_form(form: ReportForm, category: Category, exc: ValidationError):
    """Put a service's errors on the form: those of the category's extra
    questions at each question, the others at their field or at the top."""
    codes = set(category.questions.values_list("code", flat=True))
    rest = {}
    for code, errors in exc.message_dict.items():
        if code in codes:
            form.question_errors[f"q_{category.slug}_{code}"] = errors
        else:
            rest[code] = errors
    for field, errors in rest.items():
        target = field if field in form.fields else None
        for error in errors:
            form.add_error(target, error)


def _submit(request, form: ReportForm) -> Report | None:
    """Validate everything, process photos, submit; errors go onto the form.

    Every part is checked before answering, so that all errors show at once."""
    form.is_valid()
    data = form.cleaned_data
    municipality_id = None
    try:
        lat, lon = parse_point(data.get("lat"), data.get("lon"))
    except ValidationError:
        form.add_error(None, _("Put a pin on the map or search for a place first."))
    else:
        # The kommun decides which extra questions are asked.
        located = municipality_for_point(lat=lat, lon=lon).municipality
        municipality_id = located.pk if located else None
    category = None
    if data.get("category"):
        category = Category.objects.filter(
            slug=data["category"], is_active=True
        ).first()
        if category is None:
            form.add_error("category", _("Choose a category."))
    answers = {}
    if category is not None:
        answers = _answers_from_post(request.POST, category, municipality_id)
        try:
            answers_clean(
                category=category, municipality_id=municipality_id, raw=answers
            )
        except ValidationError as exc:
            _errors_to_form(form, category, exc)
    photos = []
    try:
        photos = process_photos(
            (upload, upload.name) for upload in data.get("photos") or []
        )
    except PhotoErrors as exc:
        for message in exc.messages:
            form.add_error("photos", message)
    if form.errors or form.question_errors:
        return None
    user = request.user if request.user.is_authenticated else None
    try:
        return report_submit(
            lat=lat,
            lon=lon,
            category=category,
            title=data["title"],
            description=data["description"],
            reporter=Reporter(
                name=data["name"],
                email=data["email"],
                phone=data["phone"],
                show_name=data["show_name"],
                share_contact=data["share_contact"],
                user=user,
            ),
            photos=photos,
            answers=answers,
            site_id=tenant_for_request(request).site_id,
            language=get_language() or settings.LANGUAGE_CODE,
            address=data.get("address", ""),
        )
    except ValidationError as exc:
        _errors_to_form(form, category, exc)
        return None


def _error_summary(form: ReportForm, point: dict) -> list[dict]:
    """Every error of a refused report, in the order of the page: the field's
    input name, the element to go to (``href``), where the error is shown at
    the field (``error_id``), the ``message`` shown there and the ``text`` of
    the summary, which names the field."""

    def entry(field, href, error_id, message, label=None):
        text = f"{label}: {message}" if label else str(message)
        return {
            "field": field,
            "href": href,
            "error_id": error_id,
            "message": str(message),
            "text": text,
        }

    summary = [
        entry("__all__", "#id_q", "place-error", message)
        for message in form.non_field_errors()
    ]
    for name, field in form.fields.items():
        if name in ("lat", "lon", "place"):
            continue
        if name == "category":
            summary += [
                entry(
                    name, _category_anchor(point), "id_category_error", m, field.label
                )
                for m in form.errors.get(name, [])
            ]
            # The extra questions sit with the category, and name themselves.
            summary += [
                entry(key, f"#{key}", f"{key}_error", m)
                for key, messages in form.question_errors.items()
                for m in messages
            ]
            continue
        summary += [
            entry(name, f"#id_{name}", f"id_{name}_error", m, field.label)
            for m in form.errors.get(name, [])
        ]
    return summary


def _category_anchor(point: dict) -> str:
    """The first category choice at the point, or where the choices would be."""
    located, responsibility = point.get("located"), point.get("responsibility")
    if located and located.municipality and responsibility.groups:
        return f"#id_category_{responsibility.groups[0].categories[0].slug}"
    return "#categories"


@require_http_methods(["GET", "POST"])
@rate_limited("report_submit", methods=("POST",))
def report_new(request):
    municipality = tenant_for_request(request).municipality
    summary = []
    by_address = None
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES)
        report = _submit(request, form)
        if report is not None:
            if report.reporter_id:
                target = report.get_absolute_url()
            else:
                target = reverse("report-thanks")
            if _wants_json(request):
                return JsonResponse({"ok": True, "redirect": target}, status=201)
            return redirect(target)
        point = _point_context(
            request.POST.get("lat"),
            request.POST.get("lon"),
            _place_label(request.POST.get("place")),
        )
        summary = _error_summary(form, point)
        if _wants_json(request):
            errors = form.errors.get_json_data()
            for key, messages in form.question_errors.items():
                errors[key] = [{"message": m, "code": "invalid"} for m in messages]
            return JsonResponse(
                {"ok": False, "errors": errors, "summary": summary}, status=400
            )
    else:
        initial = {}
        if request.user.is_authenticated:
            initial = {
                "name": request.user.get_full_name() or request.user.username,
                "email": request.user.email,
            }
        point = {}
        by_address = PlaceByAddressForm(
            request.GET if "kommun" in request.GET else None,
            initial={"kommun": municipality.code if municipality else None},
        )
        if "lat" in request.GET:
            place = _place_label(request.GET.get("place"))
            point = _point_context(request.GET["lat"], request.GET.get("lon"), place)
        elif by_address.is_bound and by_address.is_valid():
            place = by_address.cleaned_data["adress"].strip()
            inside = municipality_inside_point(by_address.cleaned_data["kommun"].code)
            if inside is None:
                by_address.add_error(
                    "kommun", _("That kommun cannot be found on the map.")
                )
            else:
                point = _point_context(*inside, place)
                initial["address"] = place
        if "point" in point:
            # A place chosen without JavaScript (a search result's link): the
            # form carries it on, as the map does with JavaScript.
            initial.update(
                lat=f"{point['point']['lat']:.6f}",
                lon=f"{point['point']['lon']:.6f}",
                place=place,
            )
        form = ReportForm(initial=initial)
    search = PlaceSearchForm(request.GET if "q" in request.GET else None)
    places, search_error, retry_after = [], "", None
    if search.is_bound and search.is_valid():
        try:
            places = places_search_for(request, search.cleaned_data["q"])
        except PlaceSearchRefused as refused:
            search_error, retry_after = refused.message, refused.retry_after
    bounds = map_bounds(municipality)
    if request.method == "POST":
        status = 400
    else:
        status = 200 if retry_after is None else 429
    response = render(
        request,
        "reports/report_new.html",
        {
            "form": form,
            "search": search,
            "places": places,
            "search_error": search_error,
            # Without the place search, the place by kommun and address or by
            # coordinates (a page without JavaScript would end here otherwise).
            "by_address": by_address,
            "place_fallback": bool(search_error)
            or (by_address is not None and bool(by_address.errors)),
            "site_municipality": municipality,
            "map_bounds": list(bounds),
            "selected_category": request.POST.get("category", ""),
            "posted": request.POST if request.method == "POST" else None,
            "question_errors": form.question_errors,
            "error_summary": summary,
            **point,
        },
        status=status,
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def service_promises_page(request):
    """The service promises of the site's kommun: its default and those of the
    categories it takes reports in. On the national site, each participating
    kommun's default promise."""
    municipality = tenant_for_request(request).municipality
    if municipality is None:
        defaults = default_promises()
        rows = [
            (kommun, defaults.get(kommun.pk))
            for kommun in Municipality.objects.filter(participating=True).order_by(
                "name"
            )
        ]
        return render(request, "reports/service_promises.html", {"kommuner": rows})
    default_promise, category_promises = offered_promises(municipality)
    return render(
        request,
        "reports/service_promises.html",
        {
            "municipality": municipality,
            "default_promise": default_promise,
            "category_promises": category_promises,
        },
    )


def report_thanks(request):
    return render(request, "reports/report_thanks.html")


def _visible_report(request, pk: int) -> Report:
    return get_object_or_404(
        Report.objects.visible_to(request.user).select_related(
            "category", "municipality", "body"
        ),
        pk=pk,
    )


def report_detail(request, pk: int):
    return _render_report(request, pk, FollowForm())


def _render_report(request, pk: int, follow_form, status: int = 200, update_form=None):
    # The timeline is read before the report, in one query: the page's socket
    # asks for every event after the newest the timeline shows, so the status
    # and "sent to" line may be newer than the timeline (the socket then sends
    # the events between) but never older.
    events = list(ReportEvent.objects.filter(report_id=pk, is_public=True))
    report = _visible_report(request, pk)
    author = (
        update_author(report=report, user=request.user, session=request.session)
        if report.status in PUBLIC_STATUSES and not report.is_hidden
        else None
    )
    return render(
        request,
        "reports/report_detail.html",
        {
            "report": report,
            "events": events,
            "sent": next(
                (e for e in reversed(events) if e.kind == EventKind.SENT), None
            ),
            # The report's own photos; an update's are shown with it.
            "photos": report.photos.filter(event__isnull=True),
            "follow_form": follow_form,
            # Who may add an update here: the reporter (who may also say it
            # is fixed) or a signed-in follower.
            "update_author": author.kind if author is not None else None,
            "may_say_fixed": author is not None
            and author.kind == ActorKind.REPORTER
            and reporter_may_say_fixed(report),
            "update_form": update_form or UpdateForm(),
            # Only an open report can be followed; a duplicate points to the
            # report it duplicates instead.
            "can_follow": report.status in OPEN_STATUSES,
            "duplicate_of": next(
                (
                    e.data["duplicate_of"]
                    for e in reversed(events)
                    if e.data.get("duplicate_of")
                ),
                None,
            )
            if report.status == ReportStatus.DUPLICATE
            else None,
        },
        status=status,
    )


def _token_link(request, token, *, purpose, template, use, done_message, used_message):
    """An e-mailed link: GET shows a page with a button (so that mail scanners
    fetching the link do not use it up), POST uses the token. A link used
    already takes its reader to the report, saying it was done."""
    try:
        if request.method == "GET":
            report = token_peek(raw=token, purpose=purpose)
            return render(request, template, {"report": report})
        report = use(raw_token=token)
    except TokenInvalid as exc:
        return _link_unusable(
            request, token, purpose=purpose, reason=exc, used_message=used_message
        )
    messages.success(request, done_message)
    return redirect(report.get_absolute_url())


def _link_unusable(request, token: str, *, purpose, reason, used_message):
    """An e-mailed link that cannot be used: one used already takes its
    reader to its report, saying so (``used_message``); one whose report is
    gone says so (410); any other says why (``reason``, 410)."""
    try:
        used = token_used_report(raw=token, purpose=purpose)
    except LinkReportGone:
        return render(request, "reports/questionnaire_gone.html", status=410)
    if used is None:
        return render(
            request, "reports/token_invalid.html", {"reason": reason}, status=410
        )
    messages.info(request, used_message)
    return redirect(used.get_absolute_url())


@require_http_methods(["GET", "POST"])
@rate_limited("confirm")
def report_confirm_view(request, token: str):
    return _token_link(
        request,
        token,
        purpose=TokenPurpose.CONFIRM_REPORT,
        template="reports/report_confirm.html",
        use=report_confirm,
        done_message=_("Thank you! Your report is confirmed and public."),
        used_message=_("This report is confirmed already."),
    )


@require_http_methods(["GET", "POST"])
@rate_limited("confirm")
def subscription_confirm_view(request, token: str):
    return _token_link(
        request,
        token,
        purpose=TokenPurpose.CONFIRM_SUBSCRIPTION,
        template="reports/subscription_confirm.html",
        use=lambda raw_token: subscription_confirm(raw_token=raw_token).report,
        done_message=_("You now follow this report."),
        used_message=_("You follow this report already."),
    )


@require_POST
@rate_limited("report_update")
def report_update_view(request, pk: int):
    """A citizen's update (text, a photo, "it is fixed") from the report's
    page: its reporter's or a signed-in follower's (reports.updates). Errors
    are shown at their fields, with what was written kept."""
    report = _visible_report(request, pk)
    author = update_author(report=report, user=request.user, session=request.session)
    if author is None:
        return render(
            request,
            "reports/update_refused.html",
            {"report": report},
            status=403,
        )
    form = UpdateForm(request.POST, request.FILES)
    photos = []
    if form.is_valid():
        if form.cleaned_data["fixed"] and author.kind != ActorKind.REPORTER:
            form.add_error(None, _("Only the reporter can say that it is fixed."))
        upload = form.cleaned_data.get("photo")
        if upload:
            try:
                photos = process_photos([(upload, upload.name)])
            except PhotoErrors as exc:
                for message in exc.messages:
                    form.add_error("photo", message)
    if form.is_valid():
        try:
            report_update_add(
                report_id=report.pk,
                author=author,
                text=form.cleaned_data["text"],
                photos=photos,
                fixed=form.cleaned_data["fixed"],
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Thank you! Your update is on the report."))
            return redirect(report.get_absolute_url() + "#timeline")
    return _render_report(request, pk, FollowForm(), status=400, update_form=form)


@require_http_methods(["GET", "POST"])
@rate_limited("confirm")
def questionnaire_view(request, token: str):
    """ "Is it fixed?" from the e-mailed link, without signing in. GET shows the
    question (mail scanners fetch links), POST answers it, once. A link used
    already takes its reader to the report, saying it was answered; a link
    whose report is gone says so (410)."""
    template = "reports/questionnaire.html"
    try:
        report = token_peek(raw=token, purpose=TokenPurpose.QUESTIONNAIRE)
    except TokenInvalid as exc:
        return _questionnaire_link_unusable(request, token, exc)
    if request.method == "GET":
        return render(
            request, template, {"report": report, "form": QuestionnaireForm()}
        )
    form = QuestionnaireForm(request.POST)
    if not form.is_valid():
        return render(request, template, {"report": report, "form": form}, status=400)
    try:
        questionnaire_answer(
            raw_token=token,
            fixed=form.cleaned_data["fixed"],
            ask_again=form.cleaned_data["ask_again"],
        )
    except TokenInvalid as exc:  # answered meanwhile, in another tab
        return _questionnaire_link_unusable(request, token, exc)
    messages.success(request, _("Thank you for your answer."))
    return redirect(report.get_absolute_url())


def _questionnaire_link_unusable(request, token: str, reason):
    return _link_unusable(
        request,
        token,
        purpose=TokenPurpose.QUESTIONNAIRE,
        reason=reason,
        used_message=_("You have answered this question already."),
    )


@require_POST
@rate_limited("follow")
def report_follow_view(request, pk: int):
    report = _visible_report(request, pk)
    user = request.user if request.user.is_authenticated else None
    form = FollowForm(request.POST)
    if user is not None and user.email and not request.POST.get("email"):
        form = FollowForm({"email": user.email})
    if form.is_valid():
        try:
            subscription = report_follow(
                report=report, email=form.cleaned_data["email"], user=user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if subscription.confirmed_at:
                messages.success(request, _("You now follow this report."))
            else:
                messages.success(
                    request,
                    _("Check your e-mail: open the link we sent to start following."),
                )
        return redirect(report.get_absolute_url())
    return _render_report(request, pk, form, status=400)


@rate_limited("nearby")
def nearby_json(request):
    """Open reports in the same category near a point (to follow instead)."""
    try:
        lat, lon = parse_point(request.GET.get("lat"), request.GET.get("lon"))
    except ValidationError as exc:
        return invalid_point_response(exc)
    category = Category.objects.filter(slug=request.GET.get("category", "")).first()
    if category is None:
        return JsonResponse(
            {
                "error": "invalid_category",
                "fields": {"category": [_("Unknown category.")]},
            },
            status=400,
        )
    return JsonResponse(
        {
            "reports": [
                {
                    "id": report.pk,
                    "title": report.title,
                    "status": report.get_status_display(),
                    "url": report.get_absolute_url(),
                    "distance_m": round(distance),
                    "created_at": report.created_at.isoformat(),
                }
                for report, distance in reports_nearby(
                    lat=lat, lon=lon, category=category
                )
            ]
        }
    )


@rate_limited("geocode")
def geocode_json(request):
    query = request.GET.get("q", "").strip()
    if not query or len(query) > 200:
        return JsonResponse(
            {"error": "invalid_query", "fields": {"q": [_("Enter 1–200 characters.")]}},
            status=400,
        )
    try:
        places = places_search(query)
    except GeocoderUnavailable:
        return JsonResponse(
            {
                "error": "geocoder_unavailable",
                "detail": _(
                    "Place search is unavailable right now. Tap the map or use your "
                    "position instead."
                ),
            },
            status=503,
        )
    return JsonResponse(
        {"places": [{"label": p.label, "lat": p.lat, "lon": p.lon} for p in places]}
    )


def reports_map_page(request):
    """All public reports on a map, with a plain list of them, newest first,
    beside it."""
    municipality = tenant_for_request(request).municipality
    bounds = map_bounds(municipality)
    reports = (
        Report.objects.public()
        .select_related("category", "municipality")
        .order_by("-created_at", "-pk")
    )
    if municipality is not None:
        reports = reports.filter(municipality=municipality)
    status = request.GET.get("status", "")
    if status == "open":
        reports = reports.filter(status__in=OPEN_STATUSES)
    elif status == "closed":
        reports = reports.exclude(status__in=OPEN_STATUSES)
    category = Category.objects.filter(slug=request.GET.get("category", "")).first()
    if category is not None:
        reports = reports.filter(category=category)
    # Every report of the filter is in the list, a page at a time (links that
    # work without JavaScript): the list is how the map is read by keyboard and
    # screen reader.
    page = Paginator(reports, REPORTS_PER_PAGE).get_page(request.GET.get("page"))
    filters = {
        key: request.GET[key] for key in ("status", "category") if request.GET.get(key)
    }
    return render(
        request,
        "reports/reports_map.html",
        {
            "reports": page.object_list,
            "page": page,
            "page_numbers": page.paginator.get_elided_page_range(
                page.number, on_each_side=2, on_ends=1
            ),
            "filter_query": urlencode(filters),
            "map_bounds": list(bounds),
            # Where "Watch the area" starts without JavaScript (the script
            # moves it with the map).
            "map_centre": ((bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2),
            "site_municipality": municipality,
            "categories": Category.objects.filter(is_active=True),
            "status": status,
            "category": category,
        },
    )


@csrf_exempt  # one-click unsubscribe (RFC 8058): the signed token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request, token: str):
    """Stop following a report from the e-mailed link, without logging in. GET
    asks (mail scanners fetch links), POST does it."""
    template = "reports/unsubscribe.html"
    subscription_id = subscription_id_from_token(token)
    if subscription_id is None:
        return render(request, template, {"done": True}, status=404)
    subscription = (
        Subscription.objects.select_related("report").filter(pk=subscription_id).first()
    )
    if subscription is None:  # already stopped
        return render(request, template, {"done": True})
    report = subscription.report
    if request.method == "POST":
        subscription_end(subscription_id=subscription.pk)
        return render(request, template, {"done": True, "report": report})
    return render(request, template, {"report": report})


# --- Mina sidor ------------------------------------------------------------------


@rate_limited("my_reports_link", methods=("POST",))
@require_http_methods(["GET", "POST"])
def my_reports_page(request):
    """The reporter's own reports with their current status, live; or, for a
    visitor we do not know, a form to get a link by e-mail."""
    if request.method == "POST":
        form = FollowForm(request.POST)
        if form.is_valid():
            email = form.cleaned_data["email"].strip().lower()
            # Per address too, whoever asks; past it nothing is sent, and the
            # answer stays the same (it tells nothing about the address).
            if rate_limit_hit(request, "my_reports_link_email", key=email) is None:
                # The site the request's host names (the default site for any
                # other host), at its configured address.
                site = Site.objects.filter(
                    pk=tenant_for_request(request).site_id
                ).first()
                root = root_url(site)
                enqueue_with_transaction(
                    send_my_reports_link_task, email, root, get_language() or "sv"
                )
            # The same answer whether or not the address has reports.
            return render(request, "reports/my_reports.html", {"link_sent": True})
        return render(request, "reports/my_reports.html", {"form": form}, status=400)
    reports = my_reports(user=request.user, session=request.session)
    if reports is None:
        return render(request, "reports/my_reports.html", {"form": FollowForm()})
    # The newest event the page reflects, read before the reports: the socket
    # asks for what came after it, so a change between rendering the page and
    # opening the socket is sent too (at worst twice, which the page ignores).
    after = my_reports_latest_event(reports)
    alerts = my_alerts(user=request.user, session=request.session)[:50]
    return render(
        request,
        "reports/my_reports.html",
        {
            "reports": list(reports[:200]),
            "after": after,
            "email": request.session.get(SESSION_KEY),
            # Each alert's own page (its SMS number, ending it).
            "alerts": [
                (alert_describe(a), reverse("alert-manage", args=[alert_token(a.pk)]))
                for a in alerts
            ],
        },
    )


@require_http_methods(["GET", "POST"])
@rate_limited("confirm")
def my_reports_link(request, token: str):
    """The e-mailed sign-in link. GET shows a button (mail scanners fetch
    links, and the link works once), POST uses it and signs this browser in
    to Mina sidor for the session."""
    try:
        if request.method == "GET":
            if not my_reports_link_usable(token):
                raise TokenInvalid(_("This link is not valid, used or expired."))
            return render(request, "reports/my_reports_link.html")
        email = my_reports_link_use(token)
    except TokenInvalid as exc:
        return render(
            request,
            "reports/my_reports.html",
            {"form": FollowForm(), "link_invalid": exc},
            status=410,
        )
    request.session.cycle_key()
    request.session[SESSION_KEY] = email
    return redirect("my-reports")
