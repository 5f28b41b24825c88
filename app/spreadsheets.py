"""Spreadsheet safety: the one formula guard every CSV and XLSX export runs its cells through (DESIGN.md §7).

Ground floor: it imports nothing of the app, so the core and every feature may use it.
"""

from __future__ import annotations

# What a spreadsheet may read as the start of a formula (OWASP, "CSV Injection"): the four formula leads, and the
# tab and carriage return that some spreadsheets skip before looking for one.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """The cell's text, made safe to open in a spreadsheet: a text starting with ``= + - @``, a tab or a carriage
    return gets a leading apostrophe, so ``=HYPERLINK(...)`` opens as text and never runs; anything else is
    unchanged. ``None`` is the empty cell; other values are written as ``str(value)``."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_LEADS):
        return "'" + text
    return text
