"""The message log: every record of every topic, with what each consumer group did with it."""

from django.contrib import admin
from django.utils.html import format_html

from ..models import MessageRecord
from ..outcomes import outcomes_by_record
from ..pagination import EstimatedCountPaginator
from ..search import search_filter
from . import display, filters
from .personal import Viewer, ViewerChangeList, is_personal, viewer_of
from .readonly import ReadOnlyAdmin


class MessageLogChangeList(ViewerChangeList):
    def get_results(self, request) -> None:
        super().get_results(request)
        # Every group's outcome for the whole page at once: four queries, not four per row.
        self.result_list = list(self.result_list)
        outcomes = outcomes_by_record(self.result_list)
        for record in self.result_list:
            record.outcomes = outcomes[record.pk]


@admin.register(MessageRecord)
class MessageRecordAdmin(ReadOnlyAdmin):
    list_display = ["when", "message", "app", "conversation", "order", "outcomes"]
    list_display_links = ["message"]
    list_filter = [
        filters.RecordKindFilter,
        filters.TypeFilter,
        filters.TopicFilter,
        filters.AppFilter,
        filters.OutcomeFilter,
        ("time", admin.DateFieldListFilter),
    ]
    search_fields = ["correlation_id"]  # shows the box; get_search_results does the work
    search_help_text = (
        "An order id or its short reference, a correlation id, a message id, "
        "or a customer's email (exact)."
    )
    # The newest first, by the primary key: always indexed, and unlike `time` never null.
    ordering = ["-id"]
    show_full_result_count = False
    counted_as = "messages"  # the model is called "message log"; what it lists are messages
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    list_per_page = 50
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "conversation_page",
                    "kind_badge",
                    "type",
                    "version",
                    "source",
                    "when",
                    "key",
                    "message_id",
                    "correlation_id",
                    "cause",
                ]
            },
        ),
        ("What each consumer group did", {"fields": ["outcome_table"]}),
        ("Kafka", {"fields": ["topic", "partition", "offset", "recorded_at"]}),
        ("Headers", {"fields": ["header_table"]}),
        ("Payload", {"fields": ["pretty_payload", "raw_text"]}),
    ]
    readonly_fields = [
        "when",
        "version",
        "conversation_page",
        "kind_badge",
        "cause",
        "outcome_table",
        "header_table",
        "pretty_payload",
        "raw_text",
    ]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Message log", **(extra_context or {})})

    def get_changelist(self, request, **kwargs):
        return MessageLogChangeList

    def get_search_results(self, request, queryset, search_term):
        if is_personal(search_term) and not Viewer.of(request).may_see_personal_data:
            return queryset.none(), False  # finding by email would tell who is a customer
        condition = search_filter(search_term)
        return (queryset if condition is None else queryset.filter(condition)), False

    @admin.display(description="time", ordering="time")
    def when(self, record: MessageRecord) -> str:
        if record.time is None:
            return format_html('<span class="mlog-muted">{}</span>', "unreadable")
        return format_html(
            '<span title="{}">{}</span>',
            record.time.isoformat(),
            # Milliseconds tell the order of a conversation's steps; the year rarely matters.
            record.time.strftime("%m-%d %H:%M:%S.%f")[:-3],
        )

    @admin.display(description="version")
    def version(self, record: MessageRecord) -> str:
        return display.version(record.headers)

    @admin.display(description="kind")
    def kind_badge(self, record: MessageRecord) -> str:
        return display.kind_badge(record.kind)

    @admin.display(description="message", ordering="type")
    def message(self, record: MessageRecord) -> str:
        name = record.type.split(".", 1)[-1] if record.type else "(unreadable record)"
        return format_html("{} {}", display.kind_badge(record.kind), name)

    @admin.display(description="app · topic")
    def app(self, record: MessageRecord) -> str:
        # A command goes to its owner; an event comes from its owner.
        if not record.source:
            owner = "-"
        elif record.kind == "command":
            owner = f"to {record.source}"
        else:
            owner = f"from {record.source}"
        return format_html('{}<br><span class="mlog-muted">{}</span>', owner, record.topic)

    @admin.display(description="conversation")
    def conversation(self, record: MessageRecord) -> str:
        return display.conversation_link(record.correlation_id)

    @admin.display(description="order (key)", ordering="key")
    def order(self, record: MessageRecord) -> str:
        if not record.key:
            return "-"
        return format_html(
            '<a href="{}" title="Every message with the key {}">{}</a>',
            display.log_search_url(record.key),
            record.key,
            record.key if len(record.key) <= 12 else f"{record.key[:8]}…",
        )

    @admin.display(description="outcome per group")
    def outcomes(self, record: MessageRecord) -> str:
        return display.outcome_chips(record.outcomes)

    @admin.display(description="conversation")
    def conversation_page(self, record: MessageRecord) -> str:
        if record.correlation_id is None:
            return "-"
        return display.conversation_link(
            record.correlation_id, f"The whole conversation {record.correlation_id}"
        )

    @admin.display(description="caused by")
    def cause(self, record: MessageRecord) -> str:
        if record.causation_id is None:
            return "nothing: it starts the conversation"
        return format_html(
            '<a href="{}">{}</a>', display.log_search_url(record.causation_id), record.causation_id
        )

    @admin.display(description="outcomes")
    def outcome_table(self, record: MessageRecord) -> str:
        return display.outcome_table(outcomes_by_record([record])[record.pk], viewer_of(record))

    @admin.display(description="headers")
    def header_table(self, record: MessageRecord) -> str:
        return display.header_table(viewer_of(record).headers(record.headers))

    @admin.display(description="payload")
    def pretty_payload(self, record: MessageRecord) -> str:
        if record.payload is None:
            return "-"
        return display.pretty_json(viewer_of(record).payload(record.type, record.payload))

    @admin.display(description="raw value")
    def raw_text(self, record: MessageRecord) -> str:
        """The value of a record that is not one of our messages, as text."""
        return viewer_of(record).value(record.type, record.raw_value) or "-"
