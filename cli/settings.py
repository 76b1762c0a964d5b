"""The school's settings and categories, as the commands that show a case read them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from safeguarding.categories import Categories
    from safeguarding.config import Config


CaseArgument = Annotated[str, typer.Argument(metavar="CASE", help="The case, e.g. SG-2026-0007.")]


def school_settings() -> tuple[Config, Categories]:
    from safeguarding import categories, config

    settings = config.load()
    return settings, categories.load(settings.categories_file)
