"""Wagtail's workflow task chooser, for those who set up workflows only.

Workflows and their tasks are the national administrators' (a kommun's roles
reach none of their screens), but Wagtail's task chooser answers anyone with
admin access, naming every task and the workflows that use it. Here it asks
what the workflow screens ask. It answers at Wagtail's own URLs (config.urls
puts it first).
"""

from __future__ import annotations

from django.urls import path
from django.views.decorators.cache import never_cache
from wagtail.admin.auth import permission_denied, require_admin_access
from wagtail.admin.views import workflows
from wagtail.models import Workflow
from wagtail.permissions import policy_registry


def _for_workflow_editors(view):
    def guarded(request, *args, **kwargs):
        policy = policy_registry.get_by_type(Workflow)
        if not policy.user_has_any_permission(request.user, ["add", "change"]):
            return permission_denied(request)
        return view(request, *args, **kwargs)

    # As Wagtail's own admin URLs are: signed in with admin access, never cached.
    return never_cache(require_admin_access(guarded))


# Wagtail's task chooser URLs (wagtail.admin.urls.workflows), under admin/workflows/.
urlpatterns = [
    path("task_chooser/", _for_workflow_editors(workflows.TaskChooserView.as_view())),
    path(
        "task_chooser/results/",
        _for_workflow_editors(workflows.TaskChooserResultsView.as_view()),
    ),
    path(
        "task_chooser/create/",
        _for_workflow_editors(workflows.TaskChooserCreateView.as_view()),
    ),
    path("task_chooser/<int:task_id>/", _for_workflow_editors(workflows.task_chosen)),
]
