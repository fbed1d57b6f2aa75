"""E-mail bodies from jinja2 templates (`templates/email/<kind>.{txt,html}`), HTML autoescaped.
A missing template or a missing value is an error, not a half-empty e-mail."""

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"


class RenderFailed(Exception):
    """The e-mail cannot be made from its stored context; retrying will not help."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class EmailRenderer:
    def __init__(self, app_base_url: str, directory: Path = TEMPLATES) -> None:
        self._app_base_url = app_base_url.rstrip("/")
        loader = FileSystemLoader(directory)
        self._html = Environment(loader=loader, autoescape=True, undefined=StrictUndefined)
        # Plain text is never interpreted as markup: nothing to escape.
        self._text = Environment(loader=loader, autoescape=False, undefined=StrictUndefined)  # noqa: S701

    def render(self, kind: str, context: dict, recipient_name: str) -> RenderedEmail:
        values = {
            **context,
            "recipient_name": recipient_name,
            "app_url": self._app_base_url,
            "data": context.get("data", {}),
        }
        # `{kind}.{language}.txt` when the e-mail is in another language than English and the
        # template exists in it (invitations and resets are; notifications are English for now).
        language = context.get("language")
        names = [f"{kind}.{language}", kind] if language and language != "en" else [kind]
        try:
            text = self._text.select_template([f"{name}.txt" for name in names]).render(values)
            html = self._html.select_template([f"{name}.html" for name in names]).render(values)
        except TemplateError as exc:
            raise RenderFailed(f"{type(exc).__name__}: {exc}") from exc
        subject = " ".join(str(context.get("title") or "Switchboard").split())[:200]
        return RenderedEmail(subject=subject, text=text, html=html)
