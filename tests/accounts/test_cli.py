from app.accounts.models import Role, User
from app.extensions import db


def _user(phone):
    db.session.expire_all()
    return db.session.scalar(db.select(User).where(User.phone == phone))


def test_create_admin_and_organizer(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create-admin", "--phone", "13911112222", "--password", "admin-pass-9", "--name", "管理员"]
    )
    assert result.exit_code == 0, result.output
    assert _user("13911112222").role == Role.ADMIN
    result = runner.invoke(
        args=[
            "users",
            "create-organizer",
            "--phone",
            "13911113333",
            "--password",
            "organizer-9x",
            "--name",
            "赣州组织者",
            "--org",
            "jx-ganzhou",
        ]
    )
    assert result.exit_code == 0, result.output
    organizer = _user("13911113333")
    assert organizer.role == Role.ORGANIZER and organizer.organization.code == "jx-ganzhou"


def test_create_organizer_unknown_org_fails(app):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create-organizer",
            "--phone",
            "13911113333",
            "--password",
            "organizer-9x",
            "--name",
            "x",
            "--org",
            "nope",
        ]
    )
    assert result.exit_code == 1 and "unknown organization" in result.output
    assert _user("13911113333") is None


def test_orgs_list_shows_stable_codes(app):
    output = app.test_cli_runner().invoke(args=["orgs", "list"]).output
    assert "jx\t江西省总工会" in output and "jx-ganzhou" in output and "jx-ganjiang" in output


HEADER = "phone,name,gender,birth_date,city,employer,enterprise_type,industry,frontline,member_no,email,password\n"


def test_import_creates_then_updates_idempotently(app, tmp_path):
    csv_file = tmp_path / "members.csv"
    csv_file.write_text(
        HEADER
        + "13600000001,王芳,female,1990-03-04,南昌,江铃汽车,state_owned,装备制造,yes,NC001,wf@example.com,long-enough-pw\n"
        + "13600000002,李强,male,1988-07-08,九江,快递站,新就业形态劳动者,其他,否,,,\n",
        encoding="utf-8-sig",
    )
    runner = app.test_cli_runner()
    first = runner.invoke(args=["users", "import", str(csv_file), "--org", "jx-nanchang"])
    assert first.exit_code == 0, first.output
    assert "created 2, updated 0" in first.output and "1 account(s) without a password" in first.output
    second = runner.invoke(args=["users", "import", str(csv_file)])
    assert "created 0, updated 2" in second.output
    wang = _user("13600000001")
    assert (
        wang.profile.industry.name == "装备制造" and wang.profile.frontline and wang.organization.code == "jx-nanchang"
    )
    assert _user("13600000002").profile.enterprise_type.value == "new_employment"
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 2


def test_import_reports_every_bad_row_and_imports_nothing(app, tmp_path):
    csv_file = tmp_path / "members.csv"
    csv_file.write_text(
        HEADER
        + "13600000001,王芳,female,1990-03-04,南昌,江铃汽车,state_owned,装备制造,yes,,,\n"
        + "1234,李强,man,1988-13-08,北京,快递站,alien,钓鱼,maybe,,,\n"
        + "13600000001,重复,female,1990-03-04,南昌,江铃汽车,state_owned,,no,,,\n",
        encoding="utf-8",
    )
    result = app.test_cli_runner().invoke(args=["users", "import", str(csv_file)])
    assert result.exit_code == 1
    for expected in [
        "line 3: phone",
        "line 3: gender",
        "line 3: birth_date",
        "line 3: city",
        "line 3: enterprise_type",
        "line 3: industry",
        "line 3: frontline",
        "line 4: phone repeats line 2",
        "nothing imported",
    ]:
        assert expected in result.output, expected
    assert _user("13600000001") is None


def test_import_rejects_wrong_header(app, tmp_path):
    csv_file = tmp_path / "members.csv"
    csv_file.write_text("phone,name\n13600000001,王芳\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["users", "import", str(csv_file)])
    assert result.exit_code == 1 and "line 1: header must be" in result.output
