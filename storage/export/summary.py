"""What an export wrote and what its format could not hold; the one error an export raises."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from storage.project import ProjectError


class ExportError(ProjectError):
    """A problem the user can fix (no such folder, the project itself as --out, a document
    that cannot be written): one line that says what and where."""


@dataclass
class ExportSummary:
    """What an export wrote (or, from `preview`, would write), and what its format could not hold."""
    format: str
    out: Path
    documents: int = 0
    spans: int = 0
    claims: int = 0
    # Each entry says what was left out or changed, and how much ("CoNLL: dropped 3 …").
    not_represented: list[str] = field(default_factory=list)
    # What else the user should know about this export (nothing was lost): "spaCy: …".
    remarks: list[str] = field(default_factory=list)

    def note(self, count: int, text: str) -> None:
        """Record `text` (which names the count) when count is not zero."""
        if count:
            self.not_represented.append(text)

    def line(self) -> str:
        text = (f"exported {self.documents} documents, {self.spans} spans, {self.claims} claims "
                f"as {self.format} to {self.out}")
        if self.not_represented:
            text += "; not represented: " + "; ".join(self.not_represented)
        if self.remarks:
            text += "; note: " + "; ".join(self.remarks)
        return text
