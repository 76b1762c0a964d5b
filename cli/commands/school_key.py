"""`safeguard school-key`: this school's key for receiving a child's file from another school."""

from __future__ import annotations

from safeguarding import documents_transfers, transfer_package

from .. import output
from ..context import unlock
from ..output import JsonOption
from ..settings import school_settings


def school_key(json: JsonOption = False) -> None:
    """Print this school's key for receiving a child's file.

    Send it to the school the child is leaving (it is not secret) and read them its
    fingerprint over the phone: they give it to 'safeguard transfer --key'. Made the first
    time a DSL or the headteacher asks; the same key every time after.
    """
    from rich.markup import escape

    from safeguarding import school_key as keys
    from safeguarding.config import Config

    settings, _ = school_settings()
    unlocked = unlock()
    try:
        made = keys.current(unlocked)
    finally:
        unlocked.close()
    text = transfer_package.key_text(made.public)
    print_ = transfer_package.fingerprint(made.public)
    if json:
        output.emit_json(documents_transfers.school_key(settings.school_name, made, text, print_))
        return
    output.data_line(text)
    unnamed = settings.school_name == Config.school_name
    whose = "this school (its name is not set)" if unnamed else escape(settings.school_name)
    output.say(
        f"This is the key of {whose} for receiving a child's file. "
        "Send it to the school the child is leaving, and read them its fingerprint over the "
        f"phone: {print_}"
    )
    if unnamed:
        output.say(
            "Set school_name in the configuration file (see the README): the school that "
            "sends a file sees the name it holds."
        )
