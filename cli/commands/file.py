"""`safeguard file`: a child's file, their cover sheet and one chronology across their cases."""

from __future__ import annotations

from .. import heap, output
from ..context import unlock
from ..output import JsonOption, PersonArgument
from ..settings import school_settings


def file(
    person: PersonArgument,
    json: JsonOption = False,
) -> None:
    """Show a person's file: a cover sheet, then all their cases.

    The cover sheet gives their name, date of birth, year group, the people linked to them,
    their open cases, the people who have recorded entries about them and their last
    transfer; then every entry of every case about them that you may read, in the order the
    events happened, each marked with its case.

    Reading it is recorded as a view of each of its cases ('safeguard audit').
    """
    from safeguarding import personfile

    with heap.no_cycle_collection():  # many objects, all kept to the end
        settings, kinds = school_settings()
        layout = personfile.Layout(settings.school_name, kinds, settings.closure_days)
        unlocked = unlock()
        try:
            made = personfile.view(unlocked, person, layout)
        finally:
            unlocked.close()
        if json:
            from safeguarding import documents_people

            output.emit_json(documents_people.child_file(made))
            return
        from safeguarding import timeline_rich  # Rich's tables load only for the screen

        output.out.print(timeline_rich.render(made.combined))
