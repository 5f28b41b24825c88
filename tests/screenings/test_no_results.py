"""No medical result, diagnosis or measurement is stored anywhere (issue 5, "attendance without results").

Two searches: every table and column in the SQLAlchemy metadata, and every field-like name in app/ (model
attributes, form fields, form inputs in templates). Medical words are forbidden everywhere; generic result
words are forbidden in the screening and booking tables, where a result could otherwise slip in.
"""

import re
from pathlib import Path

from app.extensions import db

APP = Path(__file__).resolve().parents[2] / "app"

MEDICAL = re.compile(
    r"diagnos|patholog|cytolog|biops|lesion|tumou?r|carcinom|malignan|benign|hpv|\btct\b|_tct|tct_|mammo|"
    r"ultrason|b_?scan|blood_?pressure|glucose|cholesterol|\bbmi\b|_bmi|bmi_|medical_?(record|result|note)|"
    r"lab_?(result|value)|test_?result|exam_?result|screen(ing)?_?result|finding|abnormal|symptom|icd_?10",
    re.IGNORECASE,
)
GENERIC = re.compile(r"result|measure|reading|value|score|note|remark|comment|detail|finding", re.IGNORECASE)
GUARDED_TABLES = {"screening_visits", "screening_bookings", "registrations", "registration_history", "slots"}

FIELD_DEFINITION = re.compile(
    r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*Mapped\[|=\s*(?:db\.)?(?:Column|mapped_column|\w+Field)\()",
    re.MULTILINE,
)
TEMPLATE_INPUT = re.compile(r"""name=["'](?P<name>[A-Za-z_][A-Za-z0-9_\-]*)["']""")


def _columns():
    for table in db.metadata.sorted_tables:
        yield table.name, table.name
        for column in table.columns:
            yield table.name, column.name


def test_no_table_or_column_is_named_for_a_medical_result():
    offending = [f"{table}.{name}" for table, name in _columns() if MEDICAL.search(name)]
    assert offending == []


def test_screening_and_booking_tables_have_no_result_like_column():
    offending = [f"{table}.{name}" for table, name in _columns() if table in GUARDED_TABLES and GENERIC.search(name)]
    assert offending == []
    assert {c.name for c in db.metadata.tables["screening_bookings"].columns} == {
        "registration_id",
        "two_cancer",
        "outcome",
        "not_screened_reason",
        "recorded_at",
    }


def _field_names():
    for path in APP.rglob("*.py"):
        for match in FIELD_DEFINITION.finditer(path.read_text(encoding="utf-8")):
            yield path, match.group("name")
    for path in APP.rglob("*.html"):
        for match in TEMPLATE_INPUT.finditer(path.read_text(encoding="utf-8")):
            yield path, match.group("name")


def test_no_model_attribute_form_field_or_form_input_is_named_for_a_medical_result():
    names = list(_field_names())
    assert len(names) > 50  # the search really reads the code
    offending = [f"{path.relative_to(APP)}: {name}" for path, name in names if MEDICAL.search(name)]
    assert offending == []


def test_screening_code_defines_no_result_like_field():
    screening = [(path, name) for path, name in _field_names() if "screening" in str(path.relative_to(APP))]
    assert screening
    offending = [f"{path.relative_to(APP)}: {name}" for path, name in screening if GENERIC.search(name)]
    assert offending == []


def test_the_search_would_catch_a_result_column():
    assert MEDICAL.search("hpv_result") and MEDICAL.search("diagnosis") and MEDICAL.search("blood_pressure")
    assert GENERIC.search("screening_result") and GENERIC.search("measured_value")
    assert not MEDICAL.search("outcome") and not MEDICAL.search("not_screened_reason")
    assert FIELD_DEFINITION.search("    hpv_result: Mapped[str] = mapped_column()")
    assert FIELD_DEFINITION.search("    diagnosis = StringField('x')")
