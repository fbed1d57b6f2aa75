"""E-mail bodies from the templates: HTML escaped, plain text untouched, and a kind without a
template is an error (recorded as the reason), not an empty e-mail."""

from uuid import uuid4

import pytest

from notifier.domain.assignments import drafts_for_assignment
from notifier.email.render import EmailRenderer, RenderFailed
from shared.contracts.conversation import ConversationsAssigned

RENDERER = EmailRenderer("https://inbox.test/")


def _context(draft) -> dict:
    return {"kind": draft.kind, "title": draft.title, "body": draft.body, "data": draft.data}


def test_assignment_email_lists_conversations_and_escapes_the_note_in_html_only():
    ids = [uuid4(), uuid4()]
    sam = uuid4()
    (draft,) = drafts_for_assignment(
        ConversationsAssigned(
            account_id=uuid4(),
            conversation_ids=ids,
            assignee_user_id=sam,
            assignee_name="Sam",
            actor_user_id=uuid4(),
            actor_name="Alex <Boss>",
            note="<script>alert(1)</script> & call back",
            notify_user_ids=[sam],
        )
    )
    email = RENDERER.render(draft.kind, _context(draft), "Sam Agent")
    assert email.subject == "Alex <Boss> assigned 2 conversations to you"
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert "<script>alert(1)</script> & call back" in email.text
    for conversation_id in ids:
        assert f"https://inbox.test/conversations/{conversation_id}" in email.html
        assert f"https://inbox.test/conversations/{conversation_id}" in email.text
    assert "Hello Sam Agent" in email.text


def test_unknown_kind_or_missing_values_cannot_render():
    with pytest.raises(RenderFailed):
        RENDERER.render("no_such_kind", {"title": "x", "body": "", "data": {}}, "Sam")
    with pytest.raises(RenderFailed):
        RENDERER.render("message_received", {"title": "x", "body": "hi", "data": {}}, "Sam")
