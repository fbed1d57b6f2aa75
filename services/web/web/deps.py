"""What every screen's routes receive, built once in `app.py`."""

from dataclasses import dataclass

from web.backend import Backend
from web.rendering import Renderer
from web.session import Sessions
from web.settings import WebSettings


@dataclass(frozen=True)
class WebDeps:
    settings: WebSettings
    backend: Backend
    sessions: Sessions
    renderer: Renderer
