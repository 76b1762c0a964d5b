"""Recorded text is kept exactly as given, and shown so that it can never drive a terminal.

A record reads back byte for byte (`--json`, the json export, the library); the terminal
timeline, the demo's panels and the txt/html exports show control characters as visible
symbols and markup-like text literally.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from safeguarding import clock
from safeguarding.timeline import _ESCAPED, _VISIBLE, visible
from tests.conftest import VaultInfo, invoke, run, safeguard_executable
from tests.reliability import case_entries, record_case

#: A text a hostile or careless source could produce: clear the screen, ring the bell, set the
#: window title (OSC), a carriage return that would overwrite the line, C1's CSI, Rich markup
#: and a link, right-to-left Hebrew with its marks, a Windows line ending and a trailing newline.
HOSTILE = (
    "Before\x1b[2J\x1b[31mred\x07 bell\x1b]0;owned\x07 title\r\n"
    "over\rwritten \x9b6n [bold]x[/bold] [link=https://evil.example]click[/link] [/i]\n"
    "\u200fשלום\u200e said\ttabbed\x00nul\x7fdel\n"
)
ESCAPES = ("\x1b", "\x07", "\x9b", "\x00", "\x7f")


def test_text_from_a_file_or_stdin_is_kept_byte_for_byte(vault: VaultInfo, tmp_path: Path) -> None:
    case = record_case(vault.path)
    path = tmp_path / "windows.txt"
    path.write_bytes(HOSTILE.encode("utf-8"))
    from_file = invoke("note", case, "--text-file", str(path), "--json")
    from_stdin = invoke("note", case, "--text-file", "-", "--json", input=HOSTILE.encode())
    assert from_file.exit_code == 0 and from_stdin.exit_code == 0, from_file.stderr
    ids = {json.loads(r.stdout)["entry"] for r in (from_file, from_stdin)}
    texts = [e.text for e in case_entries(vault.path, case) if e.id in ids]
    assert texts == [HOSTILE, HOSTILE]
    document = json.loads(invoke("timeline", case, "--json").stdout)
    assert [e["text"] for e in document["entries"] if e["id"] in ids] == [HOSTILE, HOSTILE]


def test_text_that_is_not_utf8_is_refused_and_nothing_is_saved(
    vault: VaultInfo, tmp_path: Path
) -> None:
    case = record_case(vault.path)
    before = len(case_entries(vault.path, case))
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Zoë's café\n".encode("latin-1"))
    for args, data in (
        (("--text-file", str(latin1)), None),
        (("--text-file", "-"), b"\xff\xfe\x00h\x00i"),  # UTF-16
    ):
        result = invoke("note", case, *args, input=data)
        assert result.exit_code == 2, result.stderr
        assert "is not UTF-8 text; nothing was saved" in result.stderr
        assert "Traceback" not in result.stderr
    assert len(case_entries(vault.path, case)) == before


def test_a_name_that_is_not_utf8_in_argv_is_a_usage_error(vault: VaultInfo) -> None:
    # A real process: undecodable argv bytes reach Python as lone surrogates.
    result = subprocess.run(
        [safeguard_executable(), "record", "--category", "staff-misuse",
         "--subject", b"Dan\xff", "--subject-role", "staff", "--disclosed-by", "Kay",
         "--relationship", "parent", "--where", "office", "--text-file", "-"],
        input=b"The account.",
        capture_output=True,
        check=False,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert b"is not UTF-8 text" in result.stderr


def test_the_terminal_timeline_shows_control_characters_and_markup_harmlessly(
    vault: VaultInfo,
) -> None:
    case = record_case(vault.path)
    for args in (
        ("note", case),
        ("action", "add", case, "--owner", "[/b]Owner[link=x]", "--due", "2099-01-01"),
    ):
        added = invoke(*args, "--text-file", "-", input=HOSTILE.encode())
        assert added.exit_code == 0, added.stderr
    piped = run("timeline", case)  # a real pipe: what `| less` or a log file receives
    assert piped.returncode == 0, piped.stderr
    shown = piped.stdout
    for byte in (*ESCAPES, "\r"):
        assert byte not in shown, f"{byte!r} reached the terminal"
    assert "Before␛[2J␛[31mred␇ bell␛]0;owned␇ title" in shown
    assert "over␍written \\x9b6n [bold]x[/bold] [link=https://evil.example]click[/link]" in shown
    assert "[/b]Owner[link=x]" in shown  # the owner, in the actions table
    assert "שלום" in shown and "␀nul␡del" in shown


def test_exports_show_control_characters_harmlessly_and_json_keeps_them(
    vault: VaultInfo, tmp_path: Path
) -> None:
    case = record_case(vault.path)
    assert invoke("note", case, "--text-file", "-", input=HOSTILE.encode()).exit_code == 0
    files = {}
    for fmt in ("txt", "html", "json", "pdf"):
        path = tmp_path / f"export.{fmt}"
        result = invoke("export", case, "--format", fmt, "--output", str(path))
        assert result.exit_code == 0, result.stderr
        assert "missing the following glyphs" not in result.stderr
        files[fmt] = path.read_bytes()
    for fmt in ("txt", "html"):
        text = files[fmt].decode("utf-8")
        assert not any(byte in text for byte in (*ESCAPES, "\r")), fmt
        assert "[bold]x[/bold]" in text and "␛[2J" in text
    assert "<a " not in files["html"].decode() and "evil.example" in files["html"].decode()
    document = json.loads(files["json"])
    assert HOSTILE in [e["text"] for e in document["entries"]]


def test_the_demo_timeline_on_a_colour_terminal_shows_recorded_text_harmlessly(
    vault: VaultInfo,
) -> None:
    import io

    from rich.console import Console

    from safeguarding import timeline, timeline_rich
    from safeguarding.chronology import Checkpoint
    from tests.reliability import open_casebook

    case = record_case(vault.path)
    assert invoke("note", case, "--text-file", "-", input=HOSTILE.encode()).exit_code == 0
    book = open_casebook(vault.path)
    try:
        file = book.read(case)
    finally:
        book.unlocked.close()
    view = timeline.build(  # what `safeguard demo` prints, as `safeguard timeline` does
        file,
        school="[red]Caldecote[/red]",
        categories=book.categories,
        checkpoint=Checkpoint(1, "00" * 32),
        produced_at=clock.now(),
        produced_by="[red]DSL[/red]",
    )
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, color_system="truecolor", width=100)
    console.print(timeline_rich.render(view))
    shown = screen.getvalue()  # colour codes of its own, but none from the text
    for sequence in ("\x1b[2J", "\x1b[31m", "\x1b]0;", "\x07", "\x9b", "\r", "\x00"):
        assert sequence not in shown, f"{sequence!r} reached the terminal"
    assert "Before␛[2J␛[31mred␇ bell" in shown and "[bold]x[/bold]" in shown
    assert "[red]Caldecote[/red]" in shown and "by [red]DSL[/red]" in shown


def test_user_names_that_look_like_markup_are_shown_as_typed(tmp_path: Path) -> None:
    env = {"SAFEGUARD_PASSPHRASE": "correct horse battery staple"}
    made = invoke("--user", "[/b]Head[red]", "init", env=env)
    assert made.exit_code == 0, made.stderr
    assert "[/b]Head[red] is its DSL" in " ".join(made.stderr.split())
    deputy = {**env, "SAFEGUARD_USER": "[/b]Head[red]", "SAFEGUARD_NEW_PASSPHRASE": "x" * 16}
    added = invoke("user", "add", "[link=x]Sam[/i]", "--role", "deputy", env=deputy)
    assert added.exit_code == 0 and "Added [link=x]Sam[/i] (deputy)" in added.stderr
    listed = invoke("user", "list", env=deputy)
    assert listed.exit_code == 0 and "[link=x]Sam[/i]" in listed.stdout


@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_text_shown_as_it_is_only_when_nothing_in_it_needs_showing(text: str) -> None:
    """The shortcut for text with no control character gives what the translation gives."""
    for pictures in (True, False):
        table = _VISIBLE if pictures else _ESCAPED
        assert visible(text, pictures=pictures) == text.replace("\r\n", "\n").translate(table)
