"""Dead letters in the admin: read them, retry them (redeliver to their group) or skip them.

Both actions go through a confirmation page. Retrying shows each letter's idempotency key,
the (group, message id) pair the inbox checks, and whether that group already handled it:
a redelivery of something already handled changes nothing. Every action is written to
the admin's history with the user who took it.
"""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from messaging.models import DeadLetter, InboxEntry
from messaging.retrying import skip_dead_letter
from messaging.tasks import redeliver_dead_letter

from . import display, filters
from .personal import Viewer, is_personal, viewer_of
from .tables import LogTableAdmin


class SkipForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why nobody needs this message handled: kept with it.",
    )


@admin.register(DeadLetter)
class DeadLetterAdmin(LogTableAdmin):
    list_display = [
        "created_at",
        "status",
        "group",
        "reason",
        "type",
        "conversation",
        "attempts",
        "short_error",
        "resolved_by",
    ]
    list_filter = ["status", filters.GroupFilter, "reason", filters.TypeFilter, filters.TopicFilter]
    # Searching the error text is how operators pick "everything that failed the same way".
    search_fields = ["=correlation_id", "=message_id", "error"]
    actions = ["retry", "skip"]
    # The record and what failed, as the viewer may read them (messagelog.admin.personal).
    exclude = ["headers", "value", "error", "traceback"]
    readonly_fields = ["shown_headers", "shown_value", "shown_error", "shown_traceback"]

    def get_search_results(self, request, queryset, search_term):
        if is_personal(search_term) and not Viewer.of(request).may_see_personal_data:
            return queryset.none(), False  # an email in the errors would tell who is a customer
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="error")
    def short_error(self, letter: DeadLetter) -> str:
        # A validation error can run to pages; the letter's own page shows all of it.
        error = viewer_of(letter).text(letter.error)
        first = error.splitlines()[0] if error else ""
        return first if len(first) <= 140 else first[:139] + "…"

    @admin.display(description="headers")
    def shown_headers(self, letter: DeadLetter) -> str:
        return display.header_table(viewer_of(letter).headers(letter.headers))

    @admin.display(description="value")
    def shown_value(self, letter: DeadLetter) -> str:
        return display.pretty_text(viewer_of(letter).value(letter.type, letter.value))

    @admin.display(description="error")
    def shown_error(self, letter: DeadLetter) -> str:
        return display.pretty_text(viewer_of(letter).text(letter.error))

    @admin.display(description="traceback")
    def shown_traceback(self, letter: DeadLetter) -> str:
        return display.pretty_text(viewer_of(letter).text(letter.traceback))

    def has_act_permission(self, request) -> bool:
        return request.user.has_perm("messaging.change_deadletter")

    @admin.action(description="Retry: redeliver to their consumer group", permissions=["act"])
    def retry(self, request, queryset):
        letters = list(queryset.filter(status=DeadLetter.Status.OPEN))
        if request.POST.get("confirmed") != "yes":
            handled = set(
                InboxEntry.objects.filter(
                    message_id__in=[d.message_id for d in letters if d.message_id]
                ).values_list("group", "message_id")
            )
            rows = [(d, (d.group, d.message_id) in handled) for d in letters]
            return self._confirm(request, "Retry these dead letters?", "retry", rows)
        for letter in letters:
            redeliver_dead_letter.apply_async(
                (letter.id, request.user.get_username()), queue=letter.group
            )
            self.log_change(request, letter, "Retried: redelivered to its consumer group")
        self.message_user(
            request, f"{len(letters)} sent back to their consumer groups.", messages.SUCCESS
        )
        return None

    @admin.action(description="Skip, with a reason", permissions=["act"])
    def skip(self, request, queryset):
        letters = list(queryset.filter(status=DeadLetter.Status.OPEN))
        form = SkipForm(request.POST if request.POST.get("confirmed") == "yes" else None)
        if not form.is_valid():
            return self._confirm(
                request, "Skip these dead letters?", "skip", [(d, None) for d in letters], form=form
            )
        for letter in letters:
            skip_dead_letter(
                letter.id, by=request.user.get_username(), reason=form.cleaned_data["reason"]
            )
            self.log_change(request, letter, f"Skipped: {form.cleaned_data['reason']}")
        self.message_user(request, f"{len(letters)} skipped.", messages.SUCCESS)
        return None

    def _confirm(self, request, title, action, rows, form=None):
        return TemplateResponse(
            request,
            "admin/messagelog/deadletter/confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                "viewer": Viewer.of(request),
                "action": action,
                "rows": rows,
                "form": form,
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
            },
        )
