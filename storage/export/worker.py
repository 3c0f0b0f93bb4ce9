"""An export worker process (started by storage.export.parallel): it reads the greeting
(project, format, selection), then writes each part it is asked for to the file named,
answering one JSON line per part. It ends when its input ends."""
from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import IO, Any

from storage.export.parallel import write_part
from storage.export.registry import FORMATS
from storage.export.selection import Rows, Selection
from storage.project import Project


def main() -> None:
    answer = sys.stdout
    sys.stdout = sys.stderr  # nothing else may write to the answers
    try:
        hello = json.loads(sys.stdin.readline())
        parts = FORMATS[hello["format"]].parts
        assert parts is not None, f"{hello['format']} is not written in parts"
        with Project(hello["project"], readonly=True) as project:
            rows = Rows(project, Selection(everything=bool(hello["everything"]),
                                           any_status=bool(hello["any_status"])))
            writer = parts()
            project.conn.execute("BEGIN")  # one snapshot for every part
            _answer(answer, {"ready": True})
            for line in sys.stdin:
                job = json.loads(line)
                counts = write_part(writer, rows.part(job["first"], job["last"]), Path(job["path"]),
                                    _nothing)
                _answer(answer, {"part": job["part"], "counts": counts})
    except BaseException as exc:  # noqa: BLE001 - the parent writes the part itself
        with contextlib.suppress(Exception):
            _answer(answer, {"error": f"{type(exc).__name__}: {exc}"})
        raise SystemExit(1) from None


def _nothing() -> None:
    pass


def _answer(stream: IO[str], message: dict[str, Any]) -> None:
    stream.write(json.dumps(message) + "\n")
    stream.flush()
