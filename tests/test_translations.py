"""Chinese is the source language; every message must also have an English translation with the same
placeholders, so an English reader never meets an untranslated sentence."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
# The same files as babel.cfg: pages (.html) and message templates (.txt: email, SMS and inbox texts).
METHODS = [("app/**.py", "python"), ("app/templates/**.html", "jinja2"), ("app/templates/**.txt", "jinja2")]


def _source_messages() -> set[str]:
    messages = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT),
        METHODS,
        keywords=KEYWORDS,
        options_map={pattern: {"encoding": "utf-8"} for pattern, method in METHODS if method == "jinja2"},
    ):
        messages.add(message if isinstance(message, str) else message[0])
    return messages


def test_every_message_has_an_english_translation_with_the_same_placeholders():
    with open(ROOT / "app/translations/en/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle, locale="en")
    translated = {m.id: m.string for m in catalog if m.id and m.string}
    missing = sorted(m for m in _source_messages() if m not in translated)
    assert not missing, f"{len(missing)} messages lack English; run the extraction and translate:\n" + "\n".join(
        missing[:30]
    )
    wrong = [
        msgid
        for msgid, text in translated.items()
        if isinstance(msgid, str) and set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(text))
    ]
    assert not wrong, wrong
