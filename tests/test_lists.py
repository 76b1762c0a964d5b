"""`cases` and `categories` piped at 80 columns: nothing is cut off with an ellipsis, and the
codes a user types at other commands stay whole."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from safeguarding.cli.listing import LAST_COLUMN_MIN

from tests.conftest import VaultInfo, invoke
from tests.flowkit import Say, record


def whole(phrase: str, shown: str) -> bool:
    """`phrase` is in `shown` with its words whole, however the lines wrapped: a word broken in
    the middle ("decisio" then "n") is not there."""
    return " ".join(phrase.split()) in " ".join(shown.split())


def test_categories_at_80_columns_show_every_word(vault: VaultInfo) -> None:
    shown = invoke("categories", env={"COLUMNS": "80"}).stdout
    assert "…" not in shown
    assert max(len(line) for line in shown.splitlines()) <= 80
    words = set(shown.split())
    for category in json.loads(invoke("categories", "--json").stdout):
        assert category["code"] in words
        for word in category["title"].split():
            assert word in words, word
        assert whole(category["title"], shown), category["title"]


def test_cases_at_80_columns_keep_references_and_codes_whole(vault: VaultInfo, say: Say) -> None:
    cases = [
        record(say, category=category)["case"]
        for category in ("staff-pupil-contact", "cyberbullying-in-school")
    ]
    for names in ((), ("--names",)):
        shown = invoke("cases", *names, env={"COLUMNS": "80"}).stdout
        assert "…" not in shown
        assert max(len(line) for line in shown.splitlines()) <= 80
        words = set(shown.split())
        assert {*cases, "staff-pupil-contact", "cyberbullying-in-school"} <= words
        # Two lines a case: the next step, on its own line, reads whole.
        for listed in json.loads(invoke("cases", "--json").stdout):
            assert whole(f"Next step: {listed['next']}", shown), shown
            assert whole(f"{listed['case']} {listed['stage']}", shown), shown
        if names:
            assert whole("Daniel Price (staff)", shown), shown


def test_a_case_list_wraps_long_names_at_words_at_80_columns(vault: VaultInfo, say: Say) -> None:
    long_names = "Maximilian Alexander Fitzgerald-Worthington"
    record(say, "--subject", "Anastasia Josephine Montgomery-Smythe", subject=long_names)
    shown = invoke("cases", "--names", env={"COLUMNS": "80"}).stdout
    assert max(len(line) for line in shown.splitlines()) <= 80
    for name in (long_names, "Anastasia Josephine Montgomery-Smythe"):
        for word in name.split():
            assert word in shown.split(), (word, shown)


def test_help_lists_the_commands_in_the_order_of_the_work() -> None:
    from safeguarding.cli.app import COMMAND_ORDER

    shown = invoke("--help").stdout.split("Commands:", 1)[1]
    listed = [
        line.split()[0] for line in shown.splitlines() if line.startswith("  ") and line[2] != " "
    ]
    assert listed == list(COMMAND_ORDER)  # every command placed, none left to the end
    assert listed.index("record") < listed.index("refer") < listed.index("advice")
    assert listed.index("close") < listed.index("timeline") < listed.index("backup")


@settings(max_examples=400, deadline=None)
@given(
    text=st.one_of(
        st.text(alphabet="abc Zé中\n-", max_size=120),
        # words one space apart, in plain ASCII: the shortcut's own ground
        st.lists(st.text(alphabet="abcXYZ-'(),", min_size=1, max_size=12)).map(" ".join),
    ),
    room=st.integers(min_value=LAST_COLUMN_MIN, max_value=40),
)
def test_a_list_wraps_its_text_as_rich_does(text: str, room: int) -> None:
    """The list's own wrapping (a shortcut for plain ASCII) breaks lines where Rich would, at
    every width the list draws line by line."""
    from rich.console import Console
    from rich.text import Text
    from safeguarding.cli.listing import lines_of

    lines, widest = lines_of(text, room)
    rich_lines = Text(text).wrap(Console(width=room), room)
    assert [text[a:b] for a, b, _ in lines] == [line.plain for line in rich_lines]
    assert [width for _, _, width in lines] == [line.cell_len for line in rich_lines]
    assert widest == min(room, max(Text(line).cell_len for line in text.split("\n")))


_WORDS = st.text(alphabet="abcXYZ-'(),é中 ", max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.lists(_WORDS, min_size=4, max_size=4),
            st.lists(st.tuples(_WORDS, st.sampled_from(["", "dim", "bold red"])), max_size=3),
        ),
        max_size=5,
    ),
    width=st.integers(min_value=30, max_value=120),
)
def test_a_list_of_plain_rows_is_drawn_as_the_same_rows_styled_would_be(
    rows: list[tuple[list[str], list[tuple[str, str]]]], width: int
) -> None:
    """Rows of plain strings take a shortcut; drawn as Rich `Text` instead, each one goes the
    long way round.  On a colour terminal both show the very same characters and styles."""
    import io

    from rich.console import Console
    from safeguarding.cli.listing import Runs, TwoLineList, as_text

    def drawn(items: list) -> str:  # type: ignore[type-arg]
        console = Console(
            file=io.StringIO(), width=width, force_terminal=True, color_system="truecolor"
        )
        console.print(TwoLineList(("Case", "Status", "Category", "About"), items), crop=False)
        return console.file.getvalue()  # type: ignore[attr-defined]

    plain = [(fields, Runs(tuple(prose))) for fields, prose in rows]
    styled = [([as_text(f) for f in fields], as_text(prose)) for fields, prose in plain]
    assert drawn(plain) == drawn(styled)
