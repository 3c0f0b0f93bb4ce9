"""What one decision changed (Anki's OpChanges): the UI refreshes from this, not by re-reading."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Tables whose rows feed the project-wide counts (status bar, statistics).
_COUNTED = frozenset({"documents", "spans", "claims", "sources", "doc_labels"})


@dataclass
class Changes:
    """The rows a decision (or its undo or redo) wrote, and what the analyst should be told.

    `rows` maps a table name to the primary keys written in it (an id, or a tuple for tables
    with a composite key such as `doc_labels`), so a new table (claim links, annotators…) needs
    no new field. The properties name the tables views care about today.
    """
    action: str = ""
    rows: dict[str, set[Any]] = field(default_factory=dict)
    documents: set[int] = field(default_factory=set)  # documents whose stored state changed
    undo_text: str | None = None   # what Undo would take back now (None: nothing)
    redo_text: str | None = None
    message: str = ""              # one line for the status bar
    id: int | None = None          # the row the decision made (a span, claim, link, source)
    count: int | None = None       # how many items the decision decided or made
    focus: tuple[str, int] | None = None  # ("span" | "claim", id): the item the step was about
    skipped: dict[str, int] = field(default_factory=dict)  # left alone, by reason (bulk steps)

    def keys(self, table: str) -> set[Any]:
        return self.rows.get(table, set())

    @property
    def spans(self) -> set[int]:
        return self.keys("spans")

    @property
    def claims(self) -> set[int]:
        return self.keys("claims")

    @property
    def sources(self) -> set[int]:
        """Registry entries written (their names, aliases or grades)."""
        return self.keys("sources")

    @property
    def registry(self) -> bool:
        """Whether the source registry changed at all (an entry, an alias)."""
        return bool(self.keys("sources") or self.keys("source_aliases"))

    @property
    def claim_links(self) -> set[int]:
        return self.keys("claim_links")

    @property
    def doc_labels(self) -> set[int]:
        """Documents whose document labels changed."""
        return {key[0] for key in self.keys("doc_labels")}

    @property
    def labels(self) -> bool:
        """Whether the project's label scheme changed (names, colours, keys, descriptions)."""
        return bool(self.keys("labels"))

    @property
    def counts(self) -> bool:
        """Whether project-wide counts (articles done, suggestions left…) may have changed."""
        return any(self.rows.get(t) for t in _COUNTED)

    @property
    def empty(self) -> bool:
        return not any(self.rows.values())

    def add(self, table: str, key: Any, document_id: int | None) -> None:
        self.rows.setdefault(table, set()).add(key)
        if document_id is not None:
            self.documents.add(document_id)
