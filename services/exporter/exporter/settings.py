from shared.settings import ServiceSettings


class ExporterSettings(ServiceSettings):
    service_name: str = "exporter"
    http_port: int = 8085
    routing_url: str = "http://127.0.0.1:8082"
    storage_dir: str = ".state/exports"
