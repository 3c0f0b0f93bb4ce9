"""Fixtures for the review window tests: a pre-annotated seed project, a window on it, settings in tmp."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

SEED_NAME = "homs-offensive"
SHORT = [
    ("aleppo", "Aleppo strikes", "Russian jets struck Aleppo overnight, according to the White Helmets. "
                                 "The Defence Ministry in Moscow denied that civilians were hit."),
    ("geneva", "Geneva talks", "Talks in Geneva stalled on Tuesday, a United Nations spokesman said. "
                               "Reuters reported that Assad would not attend."),
]


def seed_text() -> str:
    """The seed article: the review tests walk its own words ("Assad", "air strikes")."""
    from tests.conftest import shared_path
    return shared_path("seed", "homs-offensive.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed_template(tmp_path_factory, nlp) -> Path:
    """Built once per run (import + pre-annotate with the session model), copied per test."""
    from annotation.model import NewDocument
    from storage.ingest import store_documents
    from storage.preannotate import annotate
    from storage.project import Project
    path = tmp_path_factory.mktemp("seed") / "seed.credence"
    with Project(path) as p:
        docs = [NewDocument(raw_text=seed_text(), name=SEED_NAME, title="Homs offensive")]
        docs += [NewDocument(raw_text=t, name=n, title=title) for n, title, t in SHORT]
        store_documents(p, docs)
        annotate(p, nlp=nlp)
    return path


@pytest.fixture
def seed_project(seed_template, tmp_path) -> Path:
    path = tmp_path / "review.credence"
    shutil.copy(seed_template, path)
    return path


@pytest.fixture(autouse=True)
def temp_settings(qapp, tmp_path):
    """QSettings in tmp_path under a test organisation: the user's own settings are never touched."""
    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    qapp.setOrganizationName("CredenceTest")
    qapp.setApplicationName("CredenceTest")
    yield tmp_path / "settings"


@pytest.fixture
def window(qtbot, seed_project, nlp):
    from ui.main_window import MainWindow
    w = MainWindow(load_model=False, nlp=nlp)
    qtbot.addWidget(w)
    w.resize(1400, 860)
    show_active(qtbot, w)
    assert w.open_project(seed_project)
    seed_id = w.project.conn.execute("SELECT id FROM documents WHERE name = ?", (SEED_NAME,)).fetchone()[0]
    w.doc_list.select_document(seed_id)
    w.view.setFocus()
    yield w
    w.close()


def show_active(qtbot, w) -> None:
    """Show the window and wait until it is the active one: window shortcuts need that."""
    from PySide6.QtWidgets import QApplication
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    w.raise_()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)


def stored(path: Path, sql: str, args: tuple = ()) -> list[tuple]:
    """Rows read from the project file through a fresh read-only connection."""
    from storage.project import Project
    with Project(path, readonly=True) as p:
        return p.conn.execute(sql, args).fetchall()


def snap(qtbot, widget, path) -> None:
    """Let pending layouts settle, then save a screenshot."""
    qtbot.wait(60)
    widget.grab().save(str(path))


def press(qtbot, w, key, modifier=Qt.NoModifier, times: int = 1) -> None:
    """Keys as the analyst presses them, into the article view."""
    for _ in range(times):
        qtbot.keyClick(w.view, key, modifier)
