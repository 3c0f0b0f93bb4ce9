"""Backups: on open the app keeps rolling consistent copies; `check --restore` brings one back."""
from __future__ import annotations

import os
import random
import time
from datetime import timedelta
from pathlib import Path

import pytest

from storage.backup import backup_dir, backup_on_open, list_backups, make_backup
from storage.check import check_project
from storage.project import Project
from storage.review import Review
from tests.reliability.conftest import dump, integrity, run_cli

# Hundreds of hostile inputs and processes: the full suite runs them, the fast loop does not.
pytestmark = pytest.mark.slow


def _age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_backup_on_open_keeps_the_last_five_consistent_copies(seeded):
    with Project(seeded) as p:
        first = backup_on_open(p)
        assert first is not None and first.parent == backup_dir(seeded)
        # Just made, nothing changed: no second copy.
        assert backup_on_open(p) is None
    for i in range(7):
        _age(list_backups(seeded)[0], 3600)  # the newest backup is an hour old
        with Project(seeded) as p:
            Review(p).reject([i + 1])
        _age(list_backups(seeded)[0], 3600)
        with Project(seeded) as p:
            made = backup_on_open(p)
            assert made is not None
            assert dump(made) == dump(seeded)
    backups = list_backups(seeded)
    assert len(backups) == 5
    for b in backups:
        assert integrity(b) == ["ok"] and check_project(b) == []
    # The newest copy holds the last decision; copies are plain project files (no -wal needed).
    with Project(backups[0], readonly=True) as b:
        assert b.span(7).status == "rejected"
    assert not Path(f"{backups[0]}-wal").exists()


def test_backup_on_open_skips_an_unchanged_file_even_when_the_backup_is_old(seeded):
    with Project(seeded) as p:
        assert backup_on_open(p) is not None
    newest = list_backups(seeded)[0]
    _age(seeded, 7200)
    _age(newest, 3600)
    with Project(seeded) as p:
        assert backup_on_open(p, min_interval=timedelta(0)) is None


def test_backup_is_a_consistent_copy_of_what_is_stored(seeded):
    with Project(seeded) as p:
        review = Review(p)
        review.accept([1, 2, 3])
        review.grade_claim(1, 2)
        copy = make_backup(p)
        review.reject([4])  # after the copy: not in it
    with Project(copy, readonly=True) as b:
        assert [b.span(i).status for i in (1, 2, 3, 4)] == ["accepted"] * 3 + ["suggested"]
        assert b.claim(1).credibility == 2
    assert check_project(copy) == []


def test_check_finds_damage_and_restore_brings_back_the_newest_sound_backup(seeded):
    with Project(seeded) as p:
        Review(p).accept([1])
        good = make_backup(p)
    expected = dump(good)
    # A later backup that is itself damaged must be passed over.
    time.sleep(0.01)
    with Project(seeded) as p:
        bad = make_backup(p)
    data = bytearray(bad.read_bytes())
    data[4096 * 2: 4096 * 4] = random.Random(1).randbytes(4096 * 2)
    bad.write_bytes(bytes(data))
    # Damage the project itself.
    data = bytearray(seeded.read_bytes())
    rng = random.Random(2)
    for page in range(2, len(data) // 4096):
        data[page * 4096 + rng.randrange(4096)] ^= 0xFF
        data[page * 4096] ^= 0xFF  # the page-type byte: damage a free area alone cannot hide
    seeded.write_bytes(bytes(data))

    result = run_cli("check", seeded)
    assert result.returncode == 1 and result.stdout.strip(), result.stdout + result.stderr
    listed = run_cli("check", seeded, "--list-backups")
    assert listed.returncode == 0 and str(good) in listed.stdout and str(bad) in listed.stdout

    restored = run_cli("check", seeded, "--restore")
    assert restored.returncode == 0, restored.stderr
    assert str(good) in restored.stdout
    assert dump(seeded) == expected
    assert run_cli("check", seeded).returncode == 0
    kept = [p for p in seeded.parent.iterdir() if ".replaced-" in p.name]
    assert kept, "the damaged file must be kept beside the restored one"


def test_restore_refuses_while_the_project_is_open(seeded):
    with Project(seeded) as p:
        make_backup(p)
        result = run_cli("check", seeded, "--restore")
        assert result.returncode != 0 and "open elsewhere" in result.stderr, result.stderr
        assert p.document_count() == 8
