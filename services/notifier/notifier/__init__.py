"""notifier: tells staff what concerns them (in-app feed, live stream, e-mail) and sends SMS.

Who is told (events from routing, which resolves assignees and teams; exporter for exports):
- `conversation.message_received.v1` → routing's `notify_user_ids` (assignee, each team member,
  or the admins when unassigned); an account may choose its own recipients for unassigned
  conversations (`/api/v1/notification-settings/unassigned-recipients`, admins only).
- `conversation.assigned.v1` → the new assignee or each member of the new team, with the note;
  one notification per (bulk) action listing its conversations.
- `conversation.note_added.v1` → each @mentioned colleague (an assignee mentioned in the note of
  their own assignment already has it with the assignment).
- `conversation.delivery_failed.v1` → the staff member who sent the text, the reason in words.
- `export.completed.v1` → the requester, by e-mail only, with the link or why it failed.
Nobody is told about their own action. Each (event, user) is stored once, so replays change
nothing.

How: `notifications` rows (the feed, `/api/v1/notifications`), announced on commit through
Postgres NOTIFY to the one LISTEN connection of each process, which feeds every open SSE stream
(`live.py`, `stream_feed.py`); `email_outbox` rows for the kinds a user wants by e-mail
(`/api/v1/notification-preferences`), sent by `email.worker` over SMTP with retries. E-mail
addresses come from routing (`GET /api/v1/users/{id}`, service token, cached briefly).
Settings: `ROUTING_URL`, `SMTP_HOST`, `SMTP_PORT`, `SMTP_USERNAME`, `SMTP_PASSWORD`,
`SMTP_STARTTLS`, `EMAIL_FROM`, `APP_BASE_URL`, `EMAIL_MAX_ATTEMPTS` … (see settings.py)."""
