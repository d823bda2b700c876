"""One conversation on one screen, and the box that finds it from any id or an email."""

from uuid import UUID

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from ..conversation import load_conversation
from ..finder import find_conversations, latest_conversations
from ..models import ConversationsPage
from ..sequence import sequence_diagram
from .personal import Viewer, is_personal
from .readonly import PageAdmin


@admin.register(ConversationsPage)
class ConversationAdmin(PageAdmin):
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("", view(self.find_view), name="messagelog_conversationspage_changelist"),
            path(
                "<uuid:correlation_id>/",
                view(self.detail_view),
                name="messagelog_conversation",
            ),
        ]

    def find_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        term = request.GET.get("q", "").strip()
        # Finding by email would tell who is a customer.
        email_refused = is_personal(term) and not Viewer.of(request).may_see_personal_data
        if email_refused:
            found = []
        else:
            found = find_conversations(term) if term else latest_conversations()
        if term and len(found) == 1:
            return redirect("admin:messagelog_conversation", found[0].correlation_id)
        context = self.page_context(
            request, "Find a conversation", term=term, found=found, email_refused=email_refused
        )
        return TemplateResponse(request, "admin/messagelog/conversation/find.html", context)

    def detail_view(self, request, correlation_id: UUID):
        if not self.has_view_permission(request):
            raise PermissionDenied
        conversation = load_conversation(correlation_id)
        context = self.page_context(
            request,
            f"Conversation {correlation_id}",
            conversation=conversation,
            diagram=sequence_diagram(conversation.steps),
        )
        return TemplateResponse(
            request,
            "admin/messagelog/conversation/detail.html",
            context,
            status=200 if conversation.steps else 404,
        )
