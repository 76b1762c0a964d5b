"""`safeguard conversation`: record a conversation about a case."""

from __future__ import annotations

from typing import Annotated

import typer

from safeguarding.entry_fields import choice

from ..casework import (
    AtOption,
    CaseArgument,
    EditorOption,
    JsonOption,
    TextFileOption,
    ask_name,
    name_needed,
    read_text,
)
from ..entering import entering

CHANNELS = "phone|email|meeting|in-person|other"


def conversation(
    case: CaseArgument,
    channel: Annotated[str, typer.Option(metavar=CHANNELS, help="How it took place.")],
    with_whom: Annotated[
        str | None,
        typer.Option(
            "--with",
            metavar="WHO",
            help="Who the conversation was with (asked for on a terminal).",
        ),
    ] = None,
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Record a conversation: with whom, how, what was said."""
    from safeguarding.entries import Conversation
    from safeguarding.entry_fields import CHANNELS as KNOWN

    choice(channel, KNOWN, "channel")
    name_needed(with_whom, "--with", "WHO")
    with entering(case, at, text_file, json, Conversation) as this:
        with_whom = ask_name(with_whom, "Who was the conversation with? (name)")
        text = read_text("What was said", text_file, editor)
        draft = Conversation(with_whom=with_whom, channel=channel, text=text)
        this.add(
            draft,
            "the conversation",
            lambda w: f"Recorded the conversation as entry {w.number} of {w.reference}.",
        )
