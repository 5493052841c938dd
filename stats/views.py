"""The public statistics pages (``/statistik/``): a kommun's on its own site,
the nation's (with a table of kommuner) on the national site. Nothing personal
is shown: counts and working days per category, month, channel, body and
kommun. The staff dashboard (workspace.statistics) answers through
``statistics_answer`` too, over the member of staff's scope and filters."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from infra.ratelimit import rate_limit_hit, rate_limited_response
from municipalities.tenancy import tenant_for_request
from reports.models import Report

from .charts import month_chart, promise_chart
from .figures import figures_compute, questionnaire_counts
from .forms import PeriodForm
from .tables import TABLE_NAMES, figures_label, table_csv, tables_of


def statistics_context(
    reports, form: PeriodForm, *, national: bool, problems=()
) -> dict:
    """What a statistics page shows: the figures, their tables and charts;
    only the form when its period (or another filter: ``problems``) is wrong."""
    if problems or not form.is_valid():
        return {"form": form, "figures": None}
    start, end = form.period
    figures = figures_compute(reports, start=start, end=end, national=national)
    figures_label(figures)
    return {
        "form": form,
        "figures": figures,
        "tables": tables_of(figures),
        "questionnaires": questionnaire_counts(reports, start=start, end=end),
        "month_chart": month_chart(
            figures, received_label=_("received"), fixed_label=_("fixed")
        ),
        "promise_chart": promise_chart(
            figures,
            response_label=_("response promise kept"),
            fix_label=_("fix promise kept"),
        ),
    }


def csv_answer(
    request, reports, form: PeriodForm, *, national: bool, name: str, problems=()
):
    """``?format=csv&table=…``: one table as a CSV file, or a 400 saying what
    is wrong (an unknown table, a wrong period or filter)."""
    table_name = request.GET.get("table", "")
    problems = list(problems)
    if table_name not in TABLE_NAMES or (table_name == "kommun" and not national):
        problems.append(_("Choose one of the tables on the page."))
    if not form.is_valid():
        problems += [
            f"{form.fields[field].label}: {' '.join(errors)}"
            for field, errors in form.errors.items()
        ]
    if problems:
        return HttpResponse(
            "\n".join(str(p) for p in problems) + "\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    context = statistics_context(reports, form, national=national)
    table = next(t for t in context["tables"] if t.name == table_name)
    start, end = form.period
    response = HttpResponse(table_csv(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{table_name}-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
    )
    return response


def statistics_answer(
    request,
    reports,
    *,
    national: bool,
    template: str,
    context: dict,
    name: str,
    problems=(),
):
    """The page, or one of its tables as CSV (``?format=csv``). ``problems``:
    what is wrong with the caller's own filters (no figures then)."""
    form = PeriodForm(request.GET)
    if request.GET.get("format") == "csv":
        return csv_answer(
            request, reports, form, national=national, name=name, problems=problems
        )
    context = {
        **context,
        **statistics_context(reports, form, national=national, problems=problems),
    }
    query = request.GET.copy()
    query.pop("format", None)
    query.pop("table", None)
    if "from" not in query and form.is_valid():
        query["from"], query["to"] = (d.isoformat() for d in form.period)
    context["csv_query"] = query.urlencode()
    status = 200 if form.is_valid() and not problems else 400
    return render(request, template, context, status=status)


def statistics_page(request):
    """A kommun's statistics on its site; the nation's on the national site."""
    municipality = tenant_for_request(request).municipality
    if request.GET.get("format") == "csv" and not request.user.is_authenticated:
        retry_after = rate_limit_hit(request, "statistics_csv")
        if retry_after is not None:
            return rate_limited_response(request, "statistics_csv", retry_after)
    if municipality is None:
        reports, name = Report.objects.all(), "sverige"
    else:
        reports, name = (
            Report.objects.filter(municipality=municipality),
            municipality.slug,
        )
    return statistics_answer(
        request,
        reports,
        national=municipality is None,
        template="stats/statistics.html",
        context={"site_municipality": municipality},
        name=name,
    )
