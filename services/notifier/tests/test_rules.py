"""Who is told what, as plain functions of the events."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from notifier.domain.actions import not_yet_told
from notifier.domain.assignments import drafts_for_assignment
from notifier.domain.delivery_failures import CATEGORY_WORDS, drafts_for_delivery_failure
from notifier.domain.exports import drafts_for_export
from notifier.domain.kinds import EMAIL_DEFAULTS, email_choices, goes_by_email
from notifier.domain.mentions import drafts_for_note
from notifier.domain.messages import drafts_for_message
from notifier.domain.retries import backoff
from shared.contracts.conversation import ConversationsAssigned, DeliveryFailed, MessageReceived, NoteAdded
from shared.contracts.export import ExportCompleted

ACCOUNT = uuid4()


def _message(**overrides) -> MessageReceived:
    values = dict(
        account_id=ACCOUNT,
        conversation_id=uuid4(),
        customer_id=uuid4(),
        message_id=uuid4(),
        customer_phone="+15145551234",
        dealership_phone="+15145550100",
        body="Is my car ready?",
        received_at=datetime.now(UTC),
    )
    return MessageReceived(**{**values, **overrides})


def _assigned(**overrides) -> ConversationsAssigned:
    values = dict(
        account_id=ACCOUNT,
        conversation_ids=[uuid4()],
        assignee_name="Sam Agent",
        actor_user_id=uuid4(),
        actor_name="Alex Admin",
    )
    return ConversationsAssigned(**{**values, **overrides})


def test_message_goes_to_routing_list_when_assigned_even_if_the_account_chose_unassigned_recipients():
    sam, chosen = uuid4(), uuid4()
    event = _message(assignee_user_id=sam, notify_user_ids=[sam])
    assert [d.user_id for d in drafts_for_message(event, unassigned_recipients=[chosen])] == [sam]


def test_unassigned_message_goes_to_the_accounts_chosen_recipients_else_routings_admins():
    admin, chosen = uuid4(), uuid4()
    event = _message(notify_user_ids=[admin])
    assert [d.user_id for d in drafts_for_message(event, unassigned_recipients=[chosen])] == [chosen]
    assert [d.user_id for d in drafts_for_message(event, unassigned_recipients=None)] == [admin]
    assert [d.user_id for d in drafts_for_message(event, unassigned_recipients=[])] == [admin]


def test_team_message_tells_each_member_once():
    team, sam, kim = uuid4(), uuid4(), uuid4()
    event = _message(assignee_team_id=team, notify_user_ids=[sam, kim, sam])
    drafts = drafts_for_message(event)
    assert [d.user_id for d in drafts] == [sam, kim]
    assert {d.kind for d in drafts} == {"message_received"}


def test_bulk_assignment_is_one_notification_per_recipient_listing_every_conversation_with_the_note():
    sam = uuid4()
    ids = [uuid4() for _ in range(25)]
    drafts = drafts_for_assignment(
        _assigned(conversation_ids=ids, assignee_user_id=sam, notify_user_ids=[sam], note="VIP")
    )
    assert len(drafts) == 1
    (draft,) = drafts
    assert draft.user_id == sam and draft.kind == "conversation_assigned"
    assert draft.title == "Alex Admin assigned 25 conversations to you"
    assert draft.data["conversation_ids"] == [str(i) for i in ids] and draft.data["count"] == 25
    assert draft.body == "VIP" and draft.data["note"] == "VIP"


def test_team_assignment_tells_each_member_but_never_the_actor():
    team, sam, kim = uuid4(), uuid4(), uuid4()
    event = _assigned(
        assignee_team_id=team, assignee_name="Service", actor_user_id=kim, notify_user_ids=[sam, kim]
    )
    drafts = drafts_for_assignment(event)
    assert [d.user_id for d in drafts] == [sam]
    assert drafts[0].title == "Alex Admin assigned a conversation to Service"
    assert drafts[0].data["conversation_id"] == str(event.conversation_ids[0])


def test_assigning_to_oneself_tells_nobody():
    me = uuid4()
    assert drafts_for_assignment(_assigned(assignee_user_id=me, actor_user_id=me, notify_user_ids=[me])) == []


def test_mentions_tell_each_mentioned_colleague_but_never_the_author():
    author, sam, kim = uuid4(), uuid4(), uuid4()
    event = NoteAdded(
        account_id=ACCOUNT,
        conversation_ids=[uuid4()],
        actor_user_id=author,
        actor_name="Alex Admin",
        body="@Sam @Kim can you call him back?",
        mentioned_user_ids=[sam, author, kim, sam],
    )
    drafts = drafts_for_note(event)
    assert [d.user_id for d in drafts] == [sam, kim]
    assert drafts[0].title == "Alex Admin mentioned you in a note"
    assert drafts[0].body == "@Sam @Kim can you call him back?"


def _failed(**overrides) -> DeliveryFailed:
    values = dict(
        account_id=ACCOUNT,
        conversation_id=uuid4(),
        message_id=uuid4(),
        customer_name="Marie Tremblay",
        body="Your car is ready",
        status="undelivered",
        error_category="landline",
        error_code="30006",
    )
    return DeliveryFailed(**{**values, **overrides})


def test_delivery_failure_tells_the_sender_in_words():
    sender = uuid4()
    (draft,) = drafts_for_delivery_failure(_failed(sender_user_id=sender))
    assert draft.user_id == sender
    assert draft.title == "Your message to Marie Tremblay was not delivered"
    assert "the number is a landline" in draft.body and "30006" not in draft.body
    assert draft.data["reason"] == CATEGORY_WORDS["landline"]


def test_delivery_failure_of_an_automated_send_tells_nobody_and_unknown_categories_read_plainly():
    assert drafts_for_delivery_failure(_failed(sender_user_id=None)) == []
    (draft,) = drafts_for_delivery_failure(_failed(sender_user_id=uuid4(), error_category="martian"))
    assert "the carrier did not say why" in draft.body


def test_export_goes_to_the_requester_by_email_only_with_the_link_or_the_reason():
    requester = uuid4()
    ready = ExportCompleted(
        account_id=ACCOUNT,
        job_id=uuid4(),
        conversation_id=uuid4(),
        requested_by_user_id=requester,
        download_url="https://exports.test/x.pdf?sig=1",
        expires_at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
    )
    (draft,) = drafts_for_export(ready)
    assert draft.user_id == requester and not draft.in_app
    assert draft.data["download_url"] == "https://exports.test/x.pdf?sig=1"
    assert "2026-11-26 12:00 UTC" in draft.body
    failed = ready.model_copy(update={"download_url": None, "failed_reason": "conversation not found"})
    (draft,) = drafts_for_export(failed)
    assert draft.title == "Your conversation export failed"
    assert "conversation not found" in draft.body and draft.data["download_url"] is None


def test_email_defaults_and_export_always_by_email():
    assert EMAIL_DEFAULTS == {
        "message_received": False,
        "conversation_assigned": False,
        "mentioned": False,
        "delivery_failed": False,
        "export_completed": True,
    }
    assert goes_by_email("mentioned", {"mentioned": True})
    assert not goes_by_email("mentioned", {})
    assert email_choices({"export_completed": False})["export_completed"] is True


def test_backoff_doubles_up_to_the_cap():
    assert [backoff(n, 5, 60) for n in (1, 2, 3, 4, 5)] == [timedelta(seconds=s) for s in (5, 10, 20, 40, 60)]


def test_the_note_of_an_assignment_and_the_assignment_share_their_action():
    sam, kim, alex = uuid4(), uuid4(), uuid4()
    ids = [uuid4(), uuid4()]
    assignment = _assigned(
        conversation_ids=ids,
        assignee_user_id=sam,
        actor_user_id=alex,
        notify_user_ids=[sam],
        note="@sam @kim",
    )
    note = NoteAdded(
        account_id=ACCOUNT,
        occurred_at=assignment.occurred_at,
        conversation_ids=list(reversed(ids)),
        actor_user_id=alex,
        actor_name="Alex Admin",
        body="@sam @kim",
        mentioned_user_ids=[sam, kim],
    )
    (assigned,) = drafts_for_assignment(assignment)
    mentions = drafts_for_note(note)
    assert {d.data["action"] for d in mentions} == {assigned.data["action"]}
    assert [d.user_id for d in not_yet_told(mentions, {assigned.user_id})] == [kim]
    later = note.model_copy(update={"occurred_at": note.occurred_at + timedelta(seconds=1)})
    assert drafts_for_note(later)[0].data["action"] != assigned.data["action"]
