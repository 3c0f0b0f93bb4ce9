"""The demo project: the seed article (and FA-KES when present), imported and pre-annotated.

The app opens it in two steps so the first run reads the seed article within seconds:
`prepare_demo` imports everything and pre-annotates the seed article only; the other articles
are then pre-annotated in the background in committed batches (storage/background_annotation.py),
which a later start continues. `build_demo` (the `demo-project` command) does both at once.
"""
from __future__ import annotations

from pathlib import Path
from typing import TypedDict

from annotation.progress import Progress
from storage.importer import import_paths
from storage.preannotate import annotate
from storage.project import Project

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SAMPLE = Path(__file__).resolve().parent / "sample" / "sample-article.txt"


class CsvColumns(TypedDict):
    """Which CSV columns `import_paths` reads (its keyword arguments of the same names)."""
    text_column: str
    title_column: str
    meta_columns: list[str]


FAKES_MAPPING = CsvColumns(text_column="article_content", title_column="article_title",
                            meta_columns=["source", "date", "location", "labels"])
# Set in the project once every article is imported (the import is one transaction each, and
# re-importing adds nothing: a first run killed half-way is completed at the next start).
PREPARED = "demo_prepared"


def default_demo_path() -> Path:
    return ROOT / "demo" / "demo.credence"


def seed_path() -> Path:
    seed = SHARED / "seed" / "homs-offensive.txt"
    return seed if seed.exists() else SAMPLE


def fakes_path() -> Path | None:
    fakes = SHARED / "fa-kes" / "FA-KES-Dataset.csv"
    return fakes if fakes.exists() else None


def is_prepared(project: Project) -> bool:
    return project.setting(PREPARED) == "1"


def prepare_demo(project: Project, *, nlp=None, with_fakes: bool = True) -> int:
    """Import the seed article and FA-KES (once), and pre-annotate the seed article; returns
    the seed article's id. Fast: about the time it takes to load the model."""
    if project.document_count() == 0:
        import_paths(project, [seed_path()])
    seed_id = project.conn.execute("SELECT min(id) FROM documents").fetchone()[0]
    if not is_prepared(project):
        fakes = fakes_path()
        if with_fakes and fakes is not None:
            import_paths(project, [fakes], fmt="csv", **FAKES_MAPPING)
        project.set_setting(PREPARED, "1")
    if project.conn.execute("SELECT annotated_with IS NULL FROM documents WHERE id = ?",
                            (seed_id,)).fetchone()[0]:
        annotate(project, doc_ids=[seed_id], nlp=nlp)
    return seed_id


def create_demo(path: Path, *, rebuild: bool = False, nlp=None, with_fakes: bool = True) -> int:
    """Create (or complete) the demo project file at `path` with `prepare_demo`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if rebuild and path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    with Project(path) as project:
        return prepare_demo(project, nlp=nlp, with_fakes=with_fakes)


def build_demo(path: Path, *, rebuild: bool = False, progress: Progress | None = None,
               with_fakes: bool = True) -> str:
    """Build (once) and pre-annotate the whole demo project; returns a one-line summary."""
    create_demo(path, rebuild=rebuild, with_fakes=with_fakes)
    with Project(path) as project:
        summary = annotate(project, progress=progress)
        c = project.counts()
    origin = ("seed article" + (" + FA-KES" if c.documents > 1 else "")
              if seed_path() != SAMPLE else "bundled sample (../shared absent)")
    return (f"{path}: demo project from the {origin}: {c.documents} documents, "
            f"{sum(sum(v.values()) for v in c.spans_by_label_status.values())} spans, "
            f"{c.claims} claims ({summary.documents} annotated now)")
