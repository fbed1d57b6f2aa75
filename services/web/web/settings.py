"""The web inbox's settings: where the other services answer, and how its cookies are made."""

from pathlib import Path

from pydantic import SecretStr

from shared.settings import HttpProcessSettings

WEB_ROOT = Path(__file__).resolve().parent.parent


class WebSettings(HttpProcessSettings):
    service_name: str = "web"
    http_port: int = 8080

    routing_url: str = "http://127.0.0.1:8082"
    notifier_url: str = "http://127.0.0.1:8083"
    search_url: str = "http://127.0.0.1:8084"
    exporter_url: str = "http://127.0.0.1:8085"
    ingest_url: str = "http://127.0.0.1:8081"
    backend_timeout_seconds: float = 10.0
    # How long who a session is, its dealership's settings and the staff directory are reused
    # between pages (a change by the person themselves is seen at once).
    recent_answers_seconds: float = 10.0

    session_cookie_name: str = "sb_session"
    # As long as routing's tokens live (JWT_TTL_MINUTES); a refused token ends it sooner.
    session_max_age_minutes: int = 12 * 60
    # Off only for plain-HTTP local runs; every deployment serves the inbox over HTTPS.
    cookie_secure: bool = False
    # Signs the CSRF double-submit cookie; one value for every replica.
    csrf_secret: SecretStr = SecretStr("dev-only-csrf-secret-change-me-0123456789")

    # The npm packages (htmx, its SSE extension) installed from services/web/package-lock.json.
    node_modules_dir: Path = WEB_ROOT / "node_modules"
    default_locale: str = "en"
