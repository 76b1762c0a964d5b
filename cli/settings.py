"""The school's settings and categories, as the commands that show a case read them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .output import CaseArgument as CaseArgument  # every case command's CASE

if TYPE_CHECKING:
    from safeguarding.categories import Categories
    from safeguarding.config import Config


def school_settings() -> tuple[Config, Categories]:
    from safeguarding import categories, config

    settings = config.load()
    return settings, categories.load(settings.categories_file)
