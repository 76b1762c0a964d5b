"""`safeguard categories`: the categories a case can be recorded in."""

from __future__ import annotations

from safeguarding import documents_json

from .. import output
from ..casework import JsonOption


def categories(json: JsonOption = False) -> None:
    """List the categories: policy section, route and deadline.

    A concern is recorded under one of them.
    """
    from safeguarding import categories as kinds
    from safeguarding import config

    found = kinds.load(config.load().categories_file)
    if json:
        output.emit_json(documents_json.categories(found))
        return
    from .. import views

    output.out.print(views.categories_list(found))
