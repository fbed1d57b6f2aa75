from shared.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    service_name: str = "notifier"
    http_port: int = 8083
    sse_ping_seconds: int = 15
    # Notifications of one kind within this window are delivered at most once per user.
    live_channel: str = "switchboard_notifications"
