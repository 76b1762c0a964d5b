"""`safeguard demo`: a throwaway vault with a worked section 6 case, then its timeline."""

from __future__ import annotations

import tempfile
from pathlib import Path

from . import output


def demo() -> None:
    """Walk a worked case through the whole flow in a throwaway vault, then print its timeline.

    A teaching assistant found to be friends online with a 15-year-old ex-pupil: the disclosure,
    the LADO referral, advice, actions, conversations, a correction and the closure. The case is
    an allegation, so it is restricted, and the demo's deputy DSL does not see it. Your own
    vault is not touched; the demo's is deleted afterwards.
    """
    from rich.rule import Rule

    from safeguarding import demo as worked
    from safeguarding import timeline_rich

    from . import views

    with tempfile.TemporaryDirectory(prefix="safeguard-demo-") as folder:
        output.say(
            f"A throwaway vault in {folder}: {worked.DSL_NAME} (DSL), {worked.HEAD_NAME} "
            f"(headteacher) and {worked.DEPUTY_NAME} (deputy DSL).\n"
        )
        result = worked.run(Path(folder))
    reference = result.case.reference
    for number, step in enumerate(result.steps, start=1):
        command = step.command.replace("REF", reference)
        output.err.print(f"[dim]{number:>2}.[/dim] [bold]$ {command}[/bold]", highlight=False)
        if number in (1, 2, len(result.steps)):
            today = step.written.state.disclosed_at.date()
            output.err.print(views.next_step_panel(step.written, result.config, today))
        if number == 1:
            seen = ", ".join(result.deputy_sees) or "no case at all"
            output.say(
                f"{reference} is an allegation about a member of staff, so it is restricted: "
                f"only {', '.join(result.members)} and the recovery key can read it "
                f"('safeguard access {reference}'). {worked.DEPUTY_NAME}, the deputy DSL, sees "
                f"{seen}: for them {reference} does not exist.\n"
            )
    output.err.print(Rule(f"$ safeguard timeline {reference}"))
    output.out.print(timeline_rich.render(result.timeline))
    output.say(
        "\nThe demo vault has been deleted. Start your own with 'safeguard init', then "
        "'safeguard record'."
    )
