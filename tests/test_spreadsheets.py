"""The one spreadsheet formula guard (``app.spreadsheets``) every CSV and XLSX export uses."""

from __future__ import annotations

import pytest

from app.spreadsheets import FORMULA_LEADS, neutralise


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_starting_with_a_formula_lead_opens_as_text(lead):
    assert lead in FORMULA_LEADS
    assert neutralise(f'{lead}HYPERLINK("http://x")') == f'\'{lead}HYPERLINK("http://x")'
    assert neutralise(lead) == f"'{lead}"


@pytest.mark.parametrize(
    ("value", "cell"),
    [("李四", "李四"), ("a=1", "a=1"), (" =1", " =1"), ("\n=1", "\n=1"), ("", ""), (None, ""), (3, "3"), (-3, "'-3")],
)
def test_other_cells_are_written_as_they_are(value, cell):
    assert neutralise(value) == cell
