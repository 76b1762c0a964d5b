"""`safeguard concern`: a concern reported by any member of staff, for the safeguarding team.
Given as options in a script, or asked for on a terminal as a short interview that ends with a
summary to confirm; Ctrl-C saves nothing."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from safeguarding import documents_concerns
from safeguarding.entry_fields import SubjectRole
from safeguarding.errors import UsageError

from .. import credentials, output
from ..casework import (
    AtOption,
    JsonOption,
    TextFileOption,
    ask,
    ask_choice,
    ask_optional,
    confirm,
    one_standard_input,
    prompt_lines,
    read_text,
    when,
)
from ..context import STATE, open_vault, reporter

if TYPE_CHECKING:
    from safeguarding.concerns import About, Content, Reported

ROLES = "|".join(SubjectRole.ALL)


AboutOption = Annotated[
    list[str] | None,
    typer.Option("--about", metavar="NAME", help="Who it is about; repeat for several."),
]
AboutRoleOption = Annotated[
    list[str] | None,
    typer.Option(
        "--about-role",
        metavar=ROLES,
        help="Each one's role, in the same order (one role: all of them).",
    ),
]
WhereOption = Annotated[str | None, typer.Option(help="Where it happened.")]
ObservationsOption = Annotated[
    str | None,
    typer.Option(
        "--observations-file",
        metavar="PATH",
        help="Your own view, kept apart from what you saw or heard.",
    ),
]
DoneOption = Annotated[
    str | None,
    typer.Option("--done-file", metavar="PATH", help="What you have done so far."),
]


def concern(
    about: AboutOption = None,
    about_role: AboutRoleOption = None,
    at: AtOption = None,
    where: WhereOption = None,
    text_file: TextFileOption = None,
    observations_file: ObservationsOption = None,
    done_file: DoneOption = None,
    json: JsonOption = False,
) -> None:
    """Report a concern to the safeguarding team.

    Prints its receipt number. Any user may, a member of staff included. It is sealed to
    every DSL, deputy and headteacher, to you (so you can read it back with 'safeguard
    concerns') and to the recovery key; no one else can read it. Never to a user it is
    about: one about the headteacher goes to the chair of governors instead.

    On a terminal it is a short interview: who it is about, when and where, what you saw or
    heard (the child's own words, as they said them), your own view kept apart, what you have
    done so far; then a summary to confirm. Ctrl-C saves nothing.
    """
    from safeguarding import concerns

    files = {"--text-file": text_file, "--observations-file": observations_file}
    one_standard_input(files | {"--done-file": done_file})
    interactive = credentials.is_interactive()
    if where is not None and not where.strip():
        raise UsageError("--where cannot be empty")
    if not interactive:
        _script_needs(about, about_role, where, text_file)
    vault = open_vault(staff=True)
    try:
        name = STATE.user_name if STATE.user is not None or not interactive else _your_name()
        who = reporter(vault, name)
        content, moment = _content(
            about, about_role, at, where, text_file, observations_file, done_file
        )
        done = output.commit(
            lambda: concerns.report(who, content, moment),
            lambda r: f"concern {r.number}",
        )
    finally:
        vault.close()
    _receipt(done, json)


def _receipt(done: Reported, json: bool) -> None:
    """The receipt number (or the JSON document), and on stderr who can read it."""
    if json:
        output.emit_json(documents_concerns.reported(done))
    else:
        output.data_line(str(done.number))
    if done.unread:
        output.say(
            f"Concern {done.number} is about everyone in the safeguarding team who could "
            "read it, so it is sealed to none of them: only you and the recovery key can open "
            "it. Tell the chair of governors."
        )
    elif not json:
        output.say(
            f"Concern {done.number} is with the safeguarding team. Keep its number: "
            "'safeguard concerns' shows what becomes of it."
        )
    if done.left_out:
        output.say(_left_out(done.left_out))


def _left_out(count: int) -> str:
    who = "1 member" if count == 1 else f"{count} members"
    return (
        f"{who} of the safeguarding team cannot read it: they have not unlocked the vault "
        "since it was upgraded. Tell the DSL."
    )


def _content(
    about: list[str] | None,
    about_role: list[str] | None,
    at: str | None,
    where: str | None,
    text_file: str | None,
    observations_file: str | None,
    done_file: str | None,
) -> tuple[Content, datetime | None]:
    """The concern from the options, and on a terminal from the interview, confirmed."""
    from safeguarding import concerns

    interactive = credentials.is_interactive()
    people = _about(about, about_role, interactive)
    if at is not None or not interactive:
        moment = when(at, future_hint=_PAST)
    else:
        from ..disclosing import ask_when

        moment = ask_when("When did it happen?", "today 10:30 or yesterday 16:00", _PAST)
    content = concerns.Content.checked(
        people,
        moment or _now(),
        where or ask("Where did it happen?"),
        read_text("What you saw or heard (the child's own words, as they said them)", text_file),
        _optional(observations_file, "Your own view, kept apart (Enter to leave out)"),
        _optional(done_file, "What you have done so far (Enter to leave out)"),
    )
    if interactive:
        _confirm(content)
    return content, moment


def _script_needs(
    about: list[str] | None, roles: list[str] | None, where: str | None, text_file: str | None
) -> None:
    if not about:
        raise UsageError("a concern must say who it is about: give --about NAME")
    if not roles:
        raise UsageError(_ROLES)
    missing = [o for o, v in (("--where", where), ("--text-file", text_file)) if not v]
    if missing:
        raise UsageError(
            f"missing {', '.join(missing)}",
            hint="on a terminal they are asked for; in a script give them as options",
        )


def _your_name() -> str:
    return ask("Your name, as the DSL added you")


def _about(names: list[str] | None, roles: list[str] | None, interactive: bool) -> list[About]:
    from safeguarding.concerns import About

    given = list(names or [])
    kinds = [r.strip().lower() for r in roles or []]
    if not given and interactive:
        while True:
            given.append(ask("Who is it about? (name)"))
            kinds.append(ask_choice("Their role", SubjectRole.ALL))
            if not confirm("Is it about anyone else as well?", False):
                break
    if not kinds and interactive:
        kinds = [ask_choice(f"Role of {n}", SubjectRole.ALL) for n in given]
    if len(kinds) == 1:
        kinds = kinds * len(given)
    if not kinds:
        raise UsageError(_ROLES)
    if len(kinds) != len(given):
        raise UsageError(
            f"{len(given)} people but {len(kinds)} roles",
            hint="give one --about-role for each --about, or one for all of them",
        )
    return [About(n, r) for n, r in zip(given, kinds, strict=True)]


#: What a concern says when a person's role is not given.
_ROLES = f"give --about-role for each person (--about-role {'|'.join(SubjectRole.ALL)})"
#: What a concern says of a time to come: it records what was seen or heard.
_PAST = "give when you saw or heard it, e.g. today 10:30 or yesterday 16:00"


def _optional(path: str | None, label: str) -> str:
    if path is not None:
        return read_text(label, path)
    if not credentials.is_interactive():
        return ""
    if ask_optional(f"{label.split(' (')[0]}? (y to add, Enter to leave out)") is None:
        return ""
    return prompt_lines(label.split(" (")[0])


def _now() -> datetime:
    from safeguarding import clock

    return clock.now()


def _confirm(content: Content) -> None:
    from rich.panel import Panel
    from rich.table import Table

    from safeguarding import clock, moments
    from safeguarding.timeline_rich import plain

    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, justify="right", style="bold")
    table.add_column(overflow="fold")
    for label, value in (
        ("About", ", ".join(f"{a.name} ({a.role})" for a in content.about)),
        ("When", moments.local_text(clock.from_text(content.at))),
        ("Where", content.where),
        ("What you saw or heard", content.text),
        ("Your own view", content.observations or "(none)"),
        ("Done so far", content.done or "(none)"),
    ):
        table.add_row(label, plain(value))
    output.err.print(Panel(table, title="Check before sending", title_align="left"))
    while not confirm("Send this concern to the safeguarding team?", True):
        if confirm("Discard what you typed?", False):
            raise typer.Abort()
