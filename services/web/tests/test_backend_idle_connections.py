"""Web's pool drops an idle connection before the service at the other end closes it: a POST
sent on a connection the server is closing is not retried, and the page would say
"Switchboard could not be reached" (seen at sign-in in CI)."""

from shared.settings import HttpProcessSettings
from web.backend import IDLE_CONNECTION_SECONDS


def test_web_drops_idle_connections_before_the_services_close_them():
    assert HttpProcessSettings().http_keep_alive_seconds > IDLE_CONNECTION_SECONDS
