from shared.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    service_name: str = "routing"
    http_port: int = 8082
    default_phone_region: str = "US"
    outbox_batch_size: int = 500
    outbox_idle_poll_seconds: float = 0.2
