"""An export: safeguard's own record of a case taken out of the vault."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from safeguarding.casefile import CaseEntry, CaseFile
from safeguarding.entries.kind import EntryKind, Fact
from safeguarding.vocabulary import Kind


@dataclass(frozen=True)
class Export(EntryKind):
    """safeguard's own record of a case taken out of the vault: in which format, whether
    redacted, and the name of the file it went to (never its folder) or "-"."""

    kind = Kind.EXPORT
    title = "Export"
    codes = frozenset({"format", "redacted"})
    shape = (
        ("format", (str,)),
        ("redacted", (bool,)),
        ("to", (str,)),
    )
    always = frozenset({"format", "redacted"})

    format: str
    redacted: bool
    to: str

    def payload(self) -> dict[str, Any]:
        return {"format": self.format, "redacted": self.redacted, "to": self.to}

    @classmethod
    def facts(cls, entry: CaseEntry, case: CaseFile) -> Iterator[Fact]:
        d = entry.data
        fmt = str(d.get("format", ""))
        yield Fact("Format", FORMAT_TITLES.get(fmt, fmt))
        yield Fact("Redacted", "yes" if d.get("redacted") else "no")
        if d.get("to"):
            yield Fact("To", destination(str(d["to"])))


FORMAT_TITLES = {
    "txt": "text",
    "html": "HTML",
    "pdf": "PDF",
    "json": "JSON",
    "transfer": "transfer package (to the child's new school)",
    "transfer-pdf": "PDF of the child's file (to their new school)",
}


def destination(to: str) -> str:
    """Where an export went, as its entry shows it: the file's name without its folder (an
    export records only the name; a folder may be named after a person), or standard output."""
    if to == "-":
        return "standard output"
    return to.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or to
