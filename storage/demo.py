"""The demo project: the seed article (and FA-KES when present), imported and pre-annotated."""
from __future__ import annotations

from pathlib import Path

from annotation.progress import Progress
from storage.project import Project

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SAMPLE = Path(__file__).resolve().parent / "sample" / "sample-article.txt"
FAKES_MAPPING = dict(text_column="article_content", title_column="article_title",
                     meta_columns=["source", "date", "location", "labels"])


def default_demo_path() -> Path:
    return ROOT / "demo" / "demo.credence"


def build_demo(path: Path, *, rebuild: bool = False, progress: Progress | None = None,
               with_fakes: bool = True) -> str:
    """Build (once) and pre-annotate the demo project; returns a one-line summary."""
    from storage.importer import import_paths
    from storage.preannotate import annotate
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if rebuild and path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    seed = SHARED / "seed" / "homs-offensive.txt"
    fakes = SHARED / "fa-kes" / "FA-KES-Dataset.csv"
    with Project(path) as project:
        if project.document_count() == 0:
            import_paths(project, [seed if seed.exists() else SAMPLE])
            if with_fakes and fakes.exists():
                import_paths(project, [fakes], fmt="csv", **FAKES_MAPPING)
        summary = annotate(project, progress=progress)
        c = project.counts()
    origin = "seed article" + (" + FA-KES" if c.documents > 1 else "") if seed.exists() \
        else "bundled sample (../shared absent)"
    return (f"{path}: demo project from the {origin}: {c.documents} documents, "
            f"{sum(sum(v.values()) for v in c.spans_by_label_status.values())} spans, "
            f"{c.claims} claims ({summary.documents} annotated now)")
