"""`safeguard refer`: record a referral under the County's procedure."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import credentials
from ..casework import (
    AtOption,
    CaseArgument,
    EditorOption,
    JsonOption,
    TextFileOption,
    ask_optional,
    read_text,
)
from ..entering import entering

ROUTES = "lado|mash|police|county|headteacher|other-school|other|none"


def refer(
    case: CaseArgument,
    to: Annotated[str, typer.Option("--to", metavar=ROUTES, help="Who it was referred to.")],
    contact: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="The person you spoke to (asked for on a terminal)."),
    ] = None,
    reference: Annotated[
        str | None, typer.Option(metavar="REF", help="Their reference number.")
    ] = None,
    at: AtOption = None,
    text_file: TextFileOption = None,
    editor: EditorOption = False,
    json: JsonOption = False,
) -> None:
    """Record a referral: who was contacted and what was said.

    Their reference too, if they gave one.

    --to none records a decision not to refer; the text is then the reason.
    """
    from safeguarding.categories import ROUTE_TITLES
    from safeguarding.entries import Referral
    from safeguarding.vocabulary import Route

    # The route, and no contact or reference with a decision not to refer, refused first.
    route = Referral(route=to, contact=contact, their_reference=reference).route
    with entering(case, at, text_file, json, Referral) as this:
        usual = this.book.categories.lookup(this.state.category).route
        if route != Route.NONE and credentials.is_interactive():
            # Optional in a script; on a terminal asked, so a name need not go in argv.
            if contact is None:
                contact = ask_optional("Who did you speak to? (name; Enter to leave it out)")
            if reference is None:
                reference = ask_optional("Their reference number (Enter if none)")
        label = "The reason for not referring" if route == Route.NONE else "What was said"
        text = read_text(label, text_file, editor)
        draft = Referral(route=route, contact=contact, their_reference=reference, text=text)
        what = "a decision not to refer"
        if route != Route.NONE:
            what = f"the referral to {ROUTE_TITLES[Route(route)]}"
        also = ""
        if route not in (Route.NONE, usual) and usual != Route.NONE:
            # Not refused: a DSL may rightly go elsewhere (the police as well as the LADO).
            also = f" The policy's usual route for this category is {ROUTE_TITLES[usual]}."
        saved = "the referral" if route != Route.NONE else "the decision not to refer"
        this.add(
            draft, saved, lambda w: f"Recorded {what} as entry {w.number} of {w.reference}.{also}"
        )
