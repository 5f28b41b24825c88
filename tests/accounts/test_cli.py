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


def test_import_summary_counts_created_updated_and_refused_lines(app, tmp_path):
    runner = app.test_cli_runner()
    known = tmp_path / "known.csv"
    known.write_text(
        HEADER + "13600000001,王芳,female,1990-03-04,南昌,江铃汽车,state_owned,,yes,,,\n", encoding="utf-8"
    )
    assert runner.invoke(args=["users", "import", str(known)]).exit_code == 0

    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        HEADER
        + "13600000001,王芳,female,1990-03-04,九江,江铃汽车,state_owned,,yes,,,\n"  # line 2: update
        + "13600000002,李强,male,1988-07-08,九江,快递站,new_employment,,no,,,\n"  # line 3: create
        + "136000,赵敏,female,1992-01-01,南昌,江铃汽车,state_owned,,yes,,,\n"  # line 4: refused
        + "13600000004,钱多,other,1992-01-01,北京,江铃汽车,state_owned,,yes,,,\n",  # line 5: refused twice
        encoding="utf-8",
    )
    refused = runner.invoke(args=["users", "import", str(mixed)])
    assert refused.exit_code == 1
    assert "line 4: phone '136000' is not an 11-digit mainland mobile number" in refused.output
    assert "line 5: gender 'other' must be female or male" in refused.output
    assert "line 5: city '北京' is not one of the cities" in refused.output
    assert "line 2:" not in refused.output and "line 3:" not in refused.output
    assert (
        "refused 2 line(s) of 4: nothing imported (all lines or none); the other lines would create 1 and update 1"
        in refused.output
    )
    assert _user("13600000002") is None and _user("13600000001").profile.city.name == "南昌"

    mixed.write_text("\n".join(mixed.read_text(encoding="utf-8").splitlines()[:3]) + "\n", encoding="utf-8")
    imported = runner.invoke(args=["users", "import", str(mixed)])
    assert imported.exit_code == 0, imported.output
    assert "created 1, updated 1, refused 0 of 2 line(s)" in imported.output
    assert _user("13600000002") is not None and _user("13600000001").profile.city.name == "九江"


def test_import_reports_its_progress_up_to_every_row_written(app):
    from app.accounts.importer import import_members

    rows = "".join(f"136{n:08d},职工{n},female,1990-03-04,南昌,江铃汽车,state_owned,,yes,,,\n" for n in range(450))
    reports: list[tuple[int, int]] = []
    report = import_members(HEADER + rows, progress=lambda done, total: reports.append((done, total)))
    assert report.created == 450 and not report.refused
    assert {total for _done, total in reports} == {900}  # 450 rows checked, then 450 written
    assert [done for done, _total in reports] == sorted(done for done, _total in reports)
    assert reports[-1] == (900, 900) and len(reports) > 2
