"""`safeguard categories`: the categories a case can be recorded in."""

from __future__ import annotations

from safeguarding import documents_json, documents_retention

from .. import output
from ..casework import JsonOption


def categories(json: JsonOption = False) -> None:
    """List the categories: policy section, route and deadline.

    A concern is recorded under one of them. With --json, each one's retention rule too
    ('safeguard retention' lists the cases it makes due).
    """
    from safeguarding import categories as kinds
    from safeguarding import config

    found = kinds.load(config.load().categories_file)
    if json:
        kept = documents_retention.rules(found)
        documents = documents_json.categories(found)
        output.emit_json([{**d, "retention": kept[d["code"]]} for d in documents])
        return
    from .. import views

    output.out.print(views.categories_list(found))
