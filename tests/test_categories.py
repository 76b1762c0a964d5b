"""Categories are data: the packaged file follows the policy, and a school can use its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safeguarding import categories
from safeguarding.categories import Route
from safeguarding.errors import UsageError
from tests.conftest import VaultInfo, invoke
from tests.flowkit import entry, record, text_writer


def test_the_packaged_categories_follow_the_policy() -> None:
    found = categories.load()
    by_code = {c.code: c for c in found}
    assert len(found) == 11
    assert {c.section for c in found} >= {"3, 6", "4", "5", "7", "8", "KCSIE"}
    lado = [c for c in found if c.route is Route.LADO]
    assert {c.code for c in lado} == {"staff-misuse", "staff-pupil-contact"}
    assert all(c.deadline_working_days == 1 and c.outcomes == "allegation" for c in lado)
    assert by_code["adult-posing-as-child"].route is Route.POLICE
    assert by_code["pupil-joins-staff-area"].route is Route.HEADTEACHER
    assert "parents" in by_code["pupil-joins-staff-area"].guidance.lower()
    assert "police" in by_code["cyberbullying-in-school"].guidance
    assert by_code["cyberbullying-outside"].route is Route.OTHER_SCHOOL
    assert by_code["child-protection"].route is Route.MASH
    assert all(c.guidance and c.title for c in found)


def test_categories_command_and_its_json(tmp_path: Path) -> None:
    table = invoke("categories")
    assert table.exit_code == 0
    assert "staff-pupil-contact" in table.stdout and "working day" in table.stdout
    documents = json.loads(invoke("categories", "--json").stdout)
    assert len(documents) == 11
    first = documents[0]
    assert {"code", "title", "section", "route", "deadline_working_days"} <= set(first)
    by_code = {d["code"]: d for d in documents}
    assert by_code["staff-misuse"]["deadline_working_days"] == 1
    assert by_code["pupil-under-13"]["deadline_working_days"] is None
    assert by_code["pupil-under-13"]["route"] == "none"


def test_deadlines_read_as_the_readme_writes_them() -> None:
    table = invoke("categories", env={"COLUMNS": "220"})
    assert table.exit_code == 0
    rows = {line.split()[0]: line for line in table.stdout.splitlines() if line[:1].isalpha()}
    assert "the same working day" in rows["adult-posing-as-child"]  # was "0 working days"
    assert "0 working days" not in table.stdout
    assert rows["staff-misuse"].endswith("1 working day") and "—" in rows["pupil-under-13"]
    by_code = {d["code"]: d for d in json.loads(invoke("categories", "--json").stdout)}
    assert by_code["adult-posing-as-child"]["deadline_working_days"] == 0


def test_a_school_can_point_at_its_own_categories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ours.toml").write_text(
        "[[category]]\n"
        'code = "esafety"\ntitle = "An e-safety concern"\nsection = "2"\n'
        'route = "headteacher"\ndeadline_working_days = 3\nguidance = "Tell the head."\n'
    )
    config = tmp_path / "config.toml"
    config.write_text('categories_file = "ours.toml"\n')  # relative to the config file
    monkeypatch.setenv("SAFEGUARD_CONFIG", str(config))
    documents = json.loads(invoke("categories", "--json").stdout)
    assert [d["code"] for d in documents] == ["esafety"]
    assert "3 working days" in invoke("categories", env={"COLUMNS": "220"}).stdout
    assert documents[0]["deadline_working_days"] == 3


GOOD = {"code": "a", "title": "t", "section": "1", "route": "lado", "guidance": "g"}


def category_toml(**changes: object) -> str:
    fields = {**GOOD, **changes}
    lines = [f"{k} = {v!r}".replace("'", '"') for k, v in fields.items() if v is not None]
    return "[[category]]\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not toml = = =", "not valid TOML"),
        ('title = "x"', "no [[category]] tables"),
        (category_toml(route="mars"), "'route' must be one of"),
        (category_toml(deadline_working_days=-1), "'deadline_working_days'"),
        (category_toml(title=None), "'title' must be"),
        (category_toml(outcomes="x"), "'outcomes'"),
        (category_toml(code="a b"), "'code' may hold only"),
        (category_toml() * 2, "used twice"),
    ],
)
def test_a_bad_categories_file_names_the_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(UsageError) as caught:
        categories.load(path)
    assert message in caught.value.message
    config = tmp_path / "config.toml"
    config.write_text(f'categories_file = "{path}"\n')
    monkeypatch.setenv("SAFEGUARD_CONFIG", str(config))
    result = invoke("categories")
    assert result.exit_code == 2 and message in result.stderr


def test_a_missing_categories_file_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('categories_file = "/nonexistent/categories.toml"\n')
    monkeypatch.setenv("SAFEGUARD_CONFIG", str(config))
    result = invoke("categories")
    assert result.exit_code == 2 and "cannot read the categories file" in result.stderr


def test_a_case_whose_category_was_removed_still_lists_and_closes(
    vault: VaultInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    say = text_writer(tmp_path)
    case = record(say, category="parent-posts", role="parent")["case"]
    (tmp_path / "ours.toml").write_text(category_toml(code="esafety"))
    config = tmp_path / "config.toml"
    config.write_text('categories_file = "ours.toml"\n')
    monkeypatch.setenv("SAFEGUARD_CONFIG", str(config))
    listed = json.loads(invoke("cases", "--json").stdout)
    assert listed[0]["case"] == case and listed[0]["category"] == "parent-posts"
    entry(say, "refer", case, "--to", "headteacher")
    assert entry(say, "close", case, "--outcome", "resolved")["status"] == "closed"
