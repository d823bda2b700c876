"""The message log's pages show a customer's personal data only to staff with the
permission to see it; every other staff member sees it masked."""

import json
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from messagelog.models import MessageRecord
from messaging.models import DeadLetter, HandlingFailure, OutboxMessage
from messaging.personal import MASK
from tests.factories import CUSTOMER, order_placed
from tests.messagelog.records import handled, logged, staff

pytestmark = pytest.mark.django_db

PERSON = [CUSTOMER.name, CUSTOMER.email, CUSTOMER.phone, CUSTOMER.address]
ERROR = (
    "1 validation error for OrderPlaced\ncustomer.address\n  Value error [type=value_error, "
    f"input_value='{CUSTOMER.address}', input_type=str]"
)


@pytest.fixture
def conversation():
    """An order whose placement the warehouse dead-lettered and notifications failed once."""
    placed = order_placed(("MUG-001", 2))
    payload = placed.model_dump(mode="json")
    correlation_id = uuid.uuid4()
    key = str(placed.order_id)
    record = logged("shop.OrderPlaced", correlation_id=correlation_id, key=key, payload=payload)
    handled(record, "sales")
    OutboxMessage.objects.create(
        message_id=record.message_id,
        topic=record.topic,
        key=key,
        type=record.type,
        source="shop",
        kind="event",
        correlation_id=correlation_id,
        time=record.time,
        payload=payload,
        version=2,
    )
    letter = DeadLetter.objects.create(
        group="warehouse",
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=key,
        value=json.dumps(payload),
        headers=record.headers,
        message_id=record.message_id,
        type=record.type,
        correlation_id=correlation_id,
        reason=DeadLetter.Reason.INVALID,
        error=ERROR,
    )
    failure = HandlingFailure.objects.create(
        group="notifications",
        message_id=record.message_id,
        type=record.type,
        correlation_id=correlation_id,
        attempt=1,
        error=f"SMTPRecipientsRefused: {{'{CUSTOMER.email}': (550, b'unknown')}}",
        traceback=f"Traceback ...\nSMTPRecipientsRefused: {CUSTOMER.email}",
        started_at=record.time + timedelta(milliseconds=5),
        failed_at=record.time + timedelta(milliseconds=9),
    )
    unreadable = MessageRecord.objects.create(
        topic="orders", partition=1, offset=3, key=key, raw_value=f"name={CUSTOMER.name}"
    )
    return {
        "record": reverse("admin:messagelog_messagerecord_change", args=[record.pk]),
        "unreadable": reverse("admin:messagelog_messagerecord_change", args=[unreadable.pk]),
        "conversation": reverse("admin:messagelog_conversation", args=[correlation_id]),
        "dead letter": reverse("admin:messaging_deadletter_change", args=[letter.pk]),
        "dead letters": reverse("admin:messaging_deadletter_changelist"),
        "outbox row": reverse(
            "admin:messaging_outboxmessage_change",
            args=[OutboxMessage.objects.get(key=key).pk],
        ),
        "failure": reverse("admin:messaging_handlingfailure_change", args=[failure.pk]),
        "failures": reverse("admin:messaging_handlingfailure_changelist"),
        "operations": reverse("admin:messagelog_operationspage_changelist"),
    }


def operator(client, *, sees_personal_data: bool):
    user = staff("operator-pd" if sees_personal_data else "operator-masked")
    codenames = ["view_deadletter", "view_outboxmessage", "view_handlingfailure"]
    if sees_personal_data:
        codenames.append("view_personal_data")
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


PAGES = [
    "record",
    "unreadable",
    "conversation",
    "dead letter",
    "dead letters",
    "outbox row",
    "failure",
    "failures",
    "operations",
]


@pytest.mark.parametrize("page", PAGES)
def test_staff_without_the_permission_see_personal_data_masked(client, conversation, page):
    response = operator(client, sees_personal_data=False).get(conversation[page])

    assert response.status_code == 200
    html = response.content.decode()
    assert [value for value in PERSON if value in html] == []
    if page != "dead letters":  # its list shows an error's first line, which quotes nobody
        assert MASK in html


@pytest.mark.parametrize("page", ["record", "conversation", "dead letter", "outbox row", "failure"])
def test_staff_with_the_permission_see_it(client, conversation, page):
    response = operator(client, sees_personal_data=True).get(conversation[page])

    assert response.status_code == 200
    html = response.content.decode()
    assert CUSTOMER.email in html
    assert MASK not in html


def test_masking_keeps_what_an_operator_needs(client, conversation):
    html = operator(client, sees_personal_data=False).get(conversation["record"]).content.decode()

    assert "MUG-001" in html and "&quot;quantity&quot;: 2" in html  # the lines
    assert "&quot;email&quot;" in html  # which fields there are, not what they hold


def test_the_dead_letters_error_keeps_its_cause_and_loses_the_value(client, conversation):
    html = operator(client, sees_personal_data=False).get(conversation["dead letter"])

    page = html.content.decode()
    assert "customer.address" in page and "value_error" in page
    assert CUSTOMER.address not in page


def test_the_permission_is_one_the_admin_can_grant():
    permission = Permission.objects.get(codename="view_personal_data")

    assert permission.content_type.app_label == "messaging"
    assert "personal data" in permission.name


def test_a_page_that_forgets_its_viewer_masks_rather_than_shows():
    """The templates' filters and the rows' viewer default to masking."""
    from messagelog.admin.personal import viewer_of
    from messagelog.templatetags.message_log import shown_to

    row = MessageRecord(type="shop.OrderPlaced", payload={"customer": {"email": CUSTOMER.email}})

    assert shown_to(f"to {CUSTOMER.email}", "") == f"to {MASK}"
    assert viewer_of(row).payload(row.type, row.payload) == {"customer": {"email": MASK}}


@pytest.mark.parametrize(
    "page",
    ["admin:messagelog_messagerecord_changelist", "admin:messagelog_conversationspage_changelist"],
)
def test_only_staff_who_may_see_personal_data_find_a_customer_by_email(client, page):
    """Finding someone's conversations by their email tells that they are a customer."""
    placed = order_placed(("MUG-001", 1))
    logged(
        "shop.OrderPlaced",
        correlation_id=uuid.uuid4(),
        key=str(placed.order_id),
        payload=placed.model_dump(mode="json"),
    )
    url = reverse(page)

    masked = operator(client, sees_personal_data=False).get(url, {"q": CUSTOMER.email})
    client.logout()
    shown = operator(client, sees_personal_data=True).get(url, {"q": CUSTOMER.email})

    assert str(placed.order_id)[:8] not in masked.content.decode()
    assert shown.status_code in (200, 302)
    if shown.status_code == 200:  # the log lists it; the finder goes straight to it (302)
        assert str(placed.order_id)[:8] in shown.content.decode()


def test_only_staff_who_may_see_personal_data_search_dead_letters_errors_for_an_email(
    client, conversation
):
    DeadLetter.objects.update(error=f"SMTPRecipientsRefused: {CUSTOMER.email}")
    url = reverse("admin:messaging_deadletter_changelist")

    masked = operator(client, sees_personal_data=False).get(url, {"q": CUSTOMER.email})
    client.logout()
    shown = operator(client, sees_personal_data=True).get(url, {"q": CUSTOMER.email})

    assert masked.context["cl"].result_count == 0
    assert shown.context["cl"].result_count == 1
