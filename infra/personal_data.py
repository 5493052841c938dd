"""Where each app's personal data joins a citizen's export and erasure (GDPR
articles 15, 17 and 20).

The citizen's pages (``citizens``) stand above the apps that hold data about a
person, and an app may stand anywhere in the layers, so the registry is here,
below them all: each app says once, in its ``AppConfig.ready()``, how to export
and how to erase what it holds about a ``DataSubject``, as the hub does for the
handoff (``reports.handoff``). ``citizens.services`` runs every section, in the
order registered, in one transaction.

An exporter returns JSON-ready data (dicts, lists, strings, numbers, booleans,
None; moments as ISO 8601 strings). An eraser erases or anonymises, in the
caller's transaction, and returns a count per kind of thing for the audit
record: numbers only, never the data itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DataSubject:
    """Whom the data is about: a signed-in account (``user``) and the e-mail
    addresses proved to be theirs (the account's, or the one an e-mailed link
    proved), lower-cased."""

    user: object | None = None
    emails: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Section:
    name: str  # the key of the section in the export ("reports", "alerts"…)
    export: Callable[[DataSubject], object]
    erase: Callable[[DataSubject], dict[str, int]]


_sections: dict[str, Section] = {}


def personal_data_section(
    name: str,
    *,
    export: Callable[[DataSubject], object],
    erase: Callable[[DataSubject], dict[str, int]],
) -> None:
    """Register (or, with the same name, replace) how an app's data about a
    person is exported and erased."""
    _sections[name] = Section(name, export, erase)


def personal_data_sections() -> list[Section]:
    return list(_sections.values())
