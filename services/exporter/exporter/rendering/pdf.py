"""Transcripts as PDF with bounded memory: WeasyPrint lays out a whole document in memory, so a
long conversation is rendered a chunk of entries at a time, each chunk its own small PDF on disk
(numbered on from the previous one), and the chunks are then joined page by page."""

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from fontTools.ttLib import TTFont
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from exporter.domain.glyphs import printable
from exporter.domain.transcript import TranscriptEntry, TranscriptHeader

# The stylesheet's first font, as Debian's fonts-dejavu-core installs it (infra/system-packages.sh).
TRANSCRIPT_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@cache
def font_coverage() -> frozenset[int] | None:
    """Code points the transcript font draws; None (no fallback applied) when it is not there."""
    if not TRANSCRIPT_FONT.exists():
        return None
    return frozenset(TTFont(TRANSCRIPT_FONT, lazy=True).getBestCmap())


def _finalize(value: object) -> object:
    # Every `{{ }}` of the template passes here, so no field can forget the glyph fallback.
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return printable(value, font_coverage())


_TEMPLATES = Environment(
    loader=PackageLoader("exporter.rendering", "templates"),
    autoescape=select_autoescape(["html", "j2"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=_finalize,
)
# Ours, not user input: inserted as is (escaping would break its quoted strings).
_STYLESHEET = Markup(  # noqa: S704 - our own packaged stylesheet, no user input
    resources.files("exporter.rendering").joinpath("templates/transcript.css").read_text()
)


class NoFetching(URLFetcher):
    """Transcripts hold customer-supplied text and attachment URLs: the renderer fetches nothing,
    not even an image or a stylesheet, so a message cannot make the server call out."""

    def fetch(self, url, headers=None):
        raise ValueError(f"exports fetch nothing ({url[:80]})")


def transcript_html(
    header: TranscriptHeader, entries: Sequence[TranscriptEntry], *, first_chunk: bool, first_page: int
) -> str:
    return _TEMPLATES.get_template("transcript.html.j2").render(
        header=header,
        entries=entries,
        first_chunk=first_chunk,
        first_page=first_page,
        stylesheet=_STYLESHEET,
    )


@dataclass
class TranscriptBook:
    """Collects rendered chunks in `workdir`; `finish` writes the one PDF. Not thread-safe: one
    export uses one book, one chunk at a time."""

    header: TranscriptHeader
    workdir: Path
    pages: int = 0
    entries: int = 0
    _chunks: list[Path] = field(default_factory=list)

    def add_chunk(self, entries: Sequence[TranscriptEntry]) -> None:
        html = transcript_html(self.header, entries, first_chunk=not self._chunks, first_page=self.pages + 1)
        document = HTML(string=html, url_fetcher=NoFetching()).render()
        path = self.workdir / f"chunk-{len(self._chunks):05d}.pdf"
        document.write_pdf(path)
        self.pages += len(document.pages)
        self.entries += len(entries)
        self._chunks.append(path)

    def finish(self, target: Path) -> int:
        """Writes the PDF to `target` and answers its number of pages."""
        if not self._chunks:
            self.add_chunk([])
        target.parent.mkdir(parents=True, exist_ok=True)
        if len(self._chunks) == 1:
            shutil.move(self._chunks[0], target)
        else:
            _join(self._chunks, target)
        return self.pages


def _join(chunks: Sequence[Path], target: Path) -> None:
    # pypdf copies pages without re-rendering; the joined file costs about its own size in memory.
    from pypdf import PdfWriter

    writer = PdfWriter()
    for chunk in chunks:
        writer.append(str(chunk))
    with target.open("wb") as out:
        writer.write(out)
    writer.close()
