"""The operations page: is anything stuck? Processes, outbox backlog, consumer lag, bad
records."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path

from ..models import OperationsPage
from ..operations import bad_records, lag_report, outbox_backlog, process_report
from .readonly import PageAdmin


@admin.register(OperationsPage)
class OperationsAdmin(PageAdmin):
    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("", view(self.operations_view), name="messagelog_operationspage_changelist")]

    def operations_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = self.page_context(
            request,
            "Operations",
            processes=process_report(),
            backlog=outbox_backlog(),
            lag=lag_report(),
            bad=bad_records(),
        )
        return TemplateResponse(request, "admin/messagelog/operations.html", context)
