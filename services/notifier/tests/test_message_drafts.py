from datetime import UTC, datetime
from uuid import uuid4

from notifier.domain.messages import drafts_for_message
from shared.contracts.base import Attachment
from shared.contracts.conversation import MessageReceived


def _event(**overrides) -> MessageReceived:
    values = dict(
        account_id=uuid4(),
        conversation_id=uuid4(),
        customer_id=uuid4(),
        message_id=uuid4(),
        customer_phone="+15145551234",
        dealership_phone="+15145550100",
        body="Is my car ready?",
        received_at=datetime.now(UTC),
        notify_user_ids=[],
    )
    return MessageReceived(**{**values, **overrides})


def test_each_recipient_once_and_never_the_actor():
    alice, bob = uuid4(), uuid4()
    drafts = drafts_for_message(_event(notify_user_ids=[alice, bob, alice]), actor_user_id=bob)
    assert [d.user_id for d in drafts] == [alice]


def test_title_names_the_customer_or_their_number():
    user = uuid4()
    named = drafts_for_message(_event(notify_user_ids=[user], customer_name="Marie Tremblay"))
    unnamed = drafts_for_message(_event(notify_user_ids=[user]))
    assert named[0].title == "New message from Marie Tremblay"
    assert unnamed[0].title == "New message from +15145551234"


def test_long_bodies_are_cut_and_media_only_messages_name_their_files():
    user = uuid4()
    long_body = drafts_for_message(_event(notify_user_ids=[user], body="x" * 500))[0]
    assert len(long_body.body) == 140 and long_body.body.endswith("…")
    media = drafts_for_message(
        _event(notify_user_ids=[user], body="", attachments=[Attachment(url="u", file_name="photo.jpg")])
    )[0]
    assert media.body == "photo.jpg"
