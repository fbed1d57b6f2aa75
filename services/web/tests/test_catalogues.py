"""Every string the pages show has its Canadian French translation, and the catalogue keeps
the placeholders of the English text."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from web import i18n

WEB = Path(i18n.__file__).resolve().parent
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def shown_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(WEB, METHODS, OPTIONS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def french() -> dict:
    with (i18n.CATALOGUES / "fr_CA/LC_MESSAGES/messages.po").open("rb") as po:
        return {(m.id if isinstance(m.id, str) else m.id[0]): m for m in read_po(po, locale="fr_CA") if m.id}


def test_every_shown_message_is_translated_to_french() -> None:
    catalogue = french()
    missing = sorted(m for m in shown_messages() if m not in catalogue or not catalogue[m].string)
    assert missing == [], f"add these to {i18n.CATALOGUES}/fr_CA/LC_MESSAGES/messages.po: {missing}"


def test_translations_keep_their_placeholders() -> None:
    for key, message in french().items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == set(PLACEHOLDER.findall(key)), key
