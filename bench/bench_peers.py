"""Credence against Label Studio and doccano, measured side by side in the same run.

    .venv/bin/python bench/bench_peers.py [--runs 3] [--sizes 804,8040] [--peers-dir DIR]

Installs Label Studio 1.23.2 and doccano 1.8.4 (pinned, from the package registry) into
throw-away virtual environments under bench/out/peers/ (git-ignored; --peers-dir elsewhere),
then imports the same FA-KES CSV (804 rows, and the rows repeated with distinct texts) with
each tool and exports it again:

- Credence: `python main.py import` / `export --format labelstudio|doccano`, timed as a user
  waits for the command (start-up included), and the same calls in-process (no start-up);
- Label Studio: its REST API on a server started here (POST /api/projects/ID/import with the
  CSV file, GET /api/projects/ID/export?exportType=JSON), timed from request to last byte;
- doccano: its own import and export pipelines in a Django shell of its environment
  (data_import.datasets.load_dataset + save, data_export export_dataset: what its Celery
  worker runs, without the queue), timed around those calls.

Each figure is the median of --runs runs in fresh projects; ratios are peer time / Credence
time (target: import ≥ 20× faster than Label Studio, export ≥ 10×).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
FAKES = ROOT.parent / "shared" / "data" / "fa-kes" / "FA-KES-Dataset.csv"
PEERS = {
    "Label Studio": ("ls", ["label-studio==1.23.2"]),
    # doccano 1.8.4's environs reads marshmallow.__version_info__ (gone in marshmallow 4), and
    # its pandas 1.5.3 is built against numpy 1.
    "doccano": ("doccano", ["doccano==1.8.4", "marshmallow==3.26.2", "numpy==1.26.4"]),
}
ENV = dict(os.environ, CREDENCE_NO_BOOTSTRAP="1")
MAPPING = ["--text-column", "article_content", "--title-column", "article_title",
           "--meta-columns", "source,date,location,labels"]
LABELS = ("PERSON", "ORG", "GPE", "LOC", "NORP", "DATE")


def install(peers_dir: Path) -> dict[str, Path]:
    """A virtualenv per peer with its pinned packages (once); returns their python executables."""
    out = {}
    for name, (folder, packages) in PEERS.items():
        venv = peers_dir / folder
        python = venv / "bin" / "python"
        stamp = venv / "bench-installed.txt"
        if not stamp.exists() or stamp.read_text() != "\n".join(packages):
            print(f"  installing {name} ({', '.join(packages)}) into {venv} …", flush=True)
            if not python.exists():
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                            "--disable-pip-version-check", *packages], check=True)
            stamp.write_text("\n".join(packages))
        out[name] = python
    return out


def fakes_csv(n: int) -> Path:
    """The FA-KES CSV itself (804 rows) or its rows repeated with distinct texts."""
    if n <= 804:
        return FAKES
    path = OUT / f"peers-fakes-{n}.csv"
    if not path.exists():
        with open(FAKES, encoding="utf-8", errors="replace", newline="") as f:
            rows = list(csv.DictReader(f))
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            for k in range(n):
                row = dict(rows[k % len(rows)])
                row["unit_id"] = str(k)
                row["article_content"] = f"UPDATE {k} — {row['article_content']}"
                w.writerow(row)
    return path


# -- Credence -----------------------------------------------------------------------------------
def credence(src: Path, work: Path) -> dict[str, float]:
    from storage.demo import FAKES_MAPPING
    from storage.export import export
    from storage.importer import import_paths
    from storage.project import Project
    res = {}
    project = work / "c.credence"
    t = time.perf_counter()
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "import", str(project), str(src),
                        *MAPPING], env=ENV, capture_output=True, text=True)
    res["import_cli"] = time.perf_counter() - t
    assert r.returncode == 0, r.stderr
    for fmt in ("labelstudio", "doccano"):
        t = time.perf_counter()
        r = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", str(project),
                            "--format", fmt, "--out", str(work / f"c.{fmt}")], env=ENV,
                           capture_output=True, text=True)
        res[f"export_{fmt}_cli"] = time.perf_counter() - t
        assert r.returncode == 0, r.stderr
    project2 = work / "c2.credence"
    t = time.perf_counter()
    with Project(project2) as p:
        import_paths(p, [src], fmt="csv", **FAKES_MAPPING)
    res["import_api"] = time.perf_counter() - t
    with Project(project2, readonly=True) as p:
        for fmt in ("labelstudio", "doccano"):
            t = time.perf_counter()
            export(p, fmt, work / f"c2.{fmt}")
            res[f"export_{fmt}_api"] = time.perf_counter() - t
    return res


# -- Label Studio ---------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabelStudio:
    """A Label Studio server of its own (data folder, SQLite database, user and token)."""

    TOKEN = "credencebenchtoken0123456789abcdef01234567"

    def __init__(self, python: Path, work: Path):
        self.work = work
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        exe = python.parent / "label-studio"
        data = work / "ls-data"
        self.env = dict(os.environ, LABEL_STUDIO_BASE_DATA_DIR=str(data),
                        LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED="false", DJANGO_DB="sqlite",
                        LATEST_VERSION_CHECK="false", COLLECT_ANALYTICS="false")
        args = ["--data-dir", str(data), "-db", str(data / "ls.sqlite3"), "--no-browser",
                "--username", "bench@example.org", "--password", "benchpass123",
                "--user-token", self.TOKEN, "--enable-legacy-api-token", "--log-level", "ERROR"]
        subprocess.run([str(exe), "init", "bench", *args], env=self.env, check=True,
                       capture_output=True, timeout=900)
        self.log = open(work / "ls-server.log", "w")
        self.server = subprocess.Popen([str(exe), "start", "bench", *args, "-p", str(self.port),
                                        "--internal-host", "127.0.0.1"], env=self.env,
                                       stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while True:
            try:
                self.request("GET", "/api/projects/")
                break
            except OSError:
                if time.monotonic() > deadline or self.server.poll() is not None:
                    raise RuntimeError(f"Label Studio did not start: see {work / 'ls-server.log'}"
                                       ) from None
                time.sleep(1)

    def request(self, method: str, path: str, data: bytes | None = None,
                content_type: str = "application/json") -> bytes:
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Token {self.TOKEN}", "Content-Type": content_type})
        with urllib.request.urlopen(req, timeout=3600) as r:
            return r.read()

    def run(self, src: Path) -> dict[str, float]:
        config = ("<View><Text name=\"text\" value=\"$article_content\"/><Labels name=\"label\" "
                  "toName=\"text\">" + "".join(f"<Label value=\"{lab}\"/>" for lab in LABELS)
                  + "</Labels></View>")
        project = json.loads(self.request("POST", "/api/projects/", json.dumps(
            {"title": f"fakes {time.time()}", "label_config": config}).encode()))
        boundary = "credencebenchboundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"{src.name}\"\r\nContent-Type: text/csv\r\n\r\n").encode() \
            + src.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        t = time.perf_counter()
        answer = json.loads(self.request("POST", f"/api/projects/{project['id']}/import", body,
                                         f"multipart/form-data; boundary={boundary}"))
        imported = time.perf_counter() - t
        t = time.perf_counter()
        exported = self.request("GET", f"/api/projects/{project['id']}/export?exportType=JSON"
                                       "&download_all_tasks=true")
        export_s = time.perf_counter() - t
        n = len(json.loads(exported))
        self.request("DELETE", f"/api/projects/{project['id']}/")
        return {"import": imported, "export": export_s, "tasks": n,
                "reported": answer.get("task_count")}

    def close(self) -> None:
        self.server.terminate()
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.server.kill()
        self.log.close()


# -- doccano --------------------------------------------------------------------------------------
_DOCCANO = r"""
import json, os, sys, time, zipfile
work, src, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
import backend
sys.path.insert(0, os.path.dirname(backend.__file__))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
os.environ["DATABASE_URL"] = "sqlite:///" + os.path.join(work, "doccano.sqlite3")
os.environ["MEDIA_ROOT"] = os.path.join(work, "media")
os.environ.setdefault("SECRET_KEY", "bench")
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from data_import.datasets import load_dataset
from data_import.pipeline.catalog import create_file_format
from data_import.pipeline.readers import FileName
from data_export.celery_tasks import export_dataset
from projects.models import Member, Project, SequenceLabelingProject
from roles.models import Role
from django.conf import settings
User = get_user_model()
user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
    "bench", "bench@example.org", "benchpass123")
role = Role.objects.filter(name=settings.ROLE_PROJECT_ADMIN).first()
out = []
for i in range(runs):
    # Collaborative: one export file of every example (else one per member with a role).
    project = SequenceLabelingProject.objects.create(name=f"fakes {i} {time.time()}",
                                                     created_by=user, project_type="SequenceLabeling",
                                                     collaborative_annotation=True)
    if role is not None:
        Member.objects.get_or_create(project=project, user=user, defaults={"role": role})
    fmt = create_file_format("CSV")
    t = time.perf_counter()
    dataset = load_dataset("SequenceLabeling", fmt, [FileName(full_path=src, generated_name=os.path.basename(src),
                                                      upload_name=os.path.basename(src))],
                           project, column_data="article_content", column_label="label",
                           delimiter=",", encoding="utf_8")
    dataset.save(user, batch_size=settings.IMPORT_BATCH_SIZE)
    imported = time.perf_counter() - t
    n = project.examples.count()
    t = time.perf_counter()
    path = export_dataset(project.id, "JSONL", False)
    exported = time.perf_counter() - t
    with zipfile.ZipFile(path) as z:
        lines = sum(z.read(name).count(b"\n") for name in z.namelist())
    out.append({"import": imported, "export": exported, "tasks": n, "exported": lines})
    project.delete()
print(json.dumps(out))
"""


def doccano(python: Path, src: Path, work: Path, runs: int) -> list[dict[str, float]]:
    r = subprocess.run([str(python), "-c", _DOCCANO, str(work), str(src), str(runs)],
                       capture_output=True, text=True, timeout=7200)
    if r.returncode != 0:
        raise RuntimeError(f"doccano failed: {r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# -- report ----------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="804,8040")
    ap.add_argument("--peers-dir", type=Path, default=OUT / "peers")
    ap.add_argument("--skip", default="", help="peers to leave out, comma-separated")
    args = ap.parse_args()
    if not FAKES.exists():
        print(f"needs {FAKES}")
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    pythons = install(args.peers_dir)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    med = statistics.median
    for n in map(int, args.sizes.split(",")):
        src = fakes_csv(n)
        work = Path(tempfile.mkdtemp(prefix="peers-", dir=OUT))
        try:
            runs = []
            for i in range(args.runs):
                d = work / f"credence{i}"
                d.mkdir()
                runs.append(credence(src, d))
            c = {k: med(r[k] for r in runs) for k in runs[0]}
            peers: dict[str, dict[str, float]] = {}
            if "Label Studio" not in skip:
                ls = LabelStudio(pythons["Label Studio"], work)
                try:
                    lr = [ls.run(src) for _ in range(args.runs)]
                finally:
                    ls.close()
                peers["Label Studio 1.23.2"] = {k: med(r[k] for r in lr) for k in ("import", "export", "tasks")}
            if "doccano" not in skip:
                dr = doccano(pythons["doccano"], src, work, args.runs)
                peers["doccano 1.8.4"] = {k: med(r[k] for r in dr) for k in ("import", "export", "tasks")}
                assert all(r["exported"] >= r["tasks"] - 1 for r in dr), dr
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"\nFA-KES CSV, {n:,} rows (median of {args.runs} runs, this machine, this run)")
        print(f"  Credence: import {c['import_api']:.3f} s in-process / {c['import_cli']:.2f} s as a "
              f"command; export labelstudio {c['export_labelstudio_api']:.3f} s / "
              f"{c['export_labelstudio_cli']:.2f} s, doccano {c['export_doccano_api']:.3f} s / "
              f"{c['export_doccano_cli']:.2f} s")
        for name, p in peers.items():
            fmt = "labelstudio" if name.startswith("Label") else "doccano"
            print(f"  {name}: import {p['import']:.2f} s, export {p['export']:.2f} s "
                  f"({p['tasks']:.0f} tasks)")
            print(f"    Credence faster: import {p['import'] / c['import_api']:.1f}× in-process, "
                  f"{p['import'] / c['import_cli']:.1f}× as a command; export "
                  f"{p['export'] / c[f'export_{fmt}_api']:.1f}× in-process, "
                  f"{p['export'] / c[f'export_{fmt}_cli']:.1f}× as a command")
    print("\ntarget: import ≥ 20× faster than Label Studio, export ≥ 10×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
