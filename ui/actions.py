"""The one table of the window's actions: keys, menus, help, and the callable each one runs.

The table feeds the menus, the shortcuts, the context menu and the cheat sheet, so they cannot
disagree. Each entry carries its handler, bound when the window builds the table.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from annotation.model import CREDIBILITY, RELIABILITY, STANCES


@dataclass(frozen=True)
class ActionSpec:
    """One command: `run` is what it does; `name` and `arg` identify it (menus, tests)."""
    name: str
    text: str
    keys: tuple[str, ...]
    menu: str
    help: str
    run: Callable[[], Any]
    arg: Any = None
    checkable: bool = False
    needs_project: bool = True
    article_only: bool = False  # its keys act only while the article has the focus (arrows)

    @property
    def id(self) -> str:
        return self.name if self.arg is None else f"{self.name}:{self.arg}"


# Section order in menus and in the cheat sheet.
MENUS = ("File", "Edit", "Review", "Claim", "Article", "Help")


class WindowCommands(Protocol):
    def new_project(self) -> None: ...
    def open_project_dialog(self) -> None: ...
    def import_files(self) -> None: ...
    def export_files(self) -> None: ...
    def preannotate(self) -> None: ...
    def show_stats(self) -> None: ...
    def show_sources(self) -> None: ...
    def show_label_guidelines(self) -> None: ...
    def ask_analyst_name(self) -> None: ...
    def train_from_decisions(self) -> None: ...
    def show_model_history(self) -> None: ...
    def close(self) -> bool: ...
    def focus_search(self) -> None: ...
    def focus_article(self) -> None: ...
    def next_article(self) -> None: ...
    def prev_article(self) -> None: ...
    def cheat_sheet(self) -> None: ...
    def show_claims(self) -> None: ...
    def go_back(self) -> None: ...


class ReviewCommands(Protocol):
    def undo(self) -> None: ...
    def redo(self) -> None: ...
    def next_suggestion(self) -> None: ...
    def prev_suggestion(self) -> None: ...
    def accept(self) -> None: ...
    def reject(self) -> None: ...
    def reset(self) -> None: ...
    def delete_span(self) -> None: ...
    def move_boundary(self, which: str) -> None: ...
    def apply_all(self, scope: str) -> None: ...
    def reject_all(self, scope: str) -> None: ...
    def label_key(self, label: str) -> None: ...
    def pick_label(self) -> None: ...
    def step_selection(self, backwards: bool) -> None: ...
    def mark_claim(self) -> None: ...
    def set_claim_part(self, role: str) -> None: ...
    def add_claim_piece(self, role: str) -> None: ...
    def grade_claim(self, grade: int | None) -> None: ...
    def grade_source(self, grade: str | None) -> None: ...
    def toggle_done(self) -> None: ...
    def toggle_doc_label(self, label: str) -> None: ...
    def pick_related(self, backwards: bool) -> None: ...
    def link_picked(self, kind: str) -> None: ...
    def unlink_picked(self) -> None: ...
    def goto_picked(self) -> None: ...
    def set_stance(self, stance: str | None) -> None: ...
    def accept_grade_suggestion(self) -> None: ...


# One key each to link the picked claim to the current one.
LINK_KEYS = {"supports": "Shift+S", "contradicts": "Shift+C", "same claim": "=", "cites": "Shift+R"}
STANCE_KEYS = {"asserts": "T, A", "denies": "T, D", "hedges": "T, H"}


def action_specs(labels: list[dict] | None, window: WindowCommands,
                 review: ReviewCommands) -> list[ActionSpec]:
    """Every action of the window, with the label keys of this project's label scheme."""
    labels = labels or []
    w, r = window, review

    def spec(name: str, text: str, keys: tuple[str, ...], menu: str, help: str,
             run: Callable[..., Any], arg: Any = None, **kw: Any) -> ActionSpec:
        return ActionSpec(name, text, keys, menu, help, run if arg is None else partial(run, arg),
                          arg, **kw)

    specs = [
        spec("new_project", "&New Project…", ("Ctrl+N",), "File", "create a project file",
             w.new_project, needs_project=False),
        spec("open_project", "&Open Project…", ("Ctrl+O",), "File", "open a project file",
             w.open_project_dialog, needs_project=False),
        spec("import_files", "&Import…", ("Ctrl+I",), "File",
             "import articles (txt, html, csv, jsonl, brat)", w.import_files),
        spec("export_files", "&Export…", ("Ctrl+E",), "File", "export the dataset", w.export_files),
        spec("preannotate", "Pre-&annotate New Articles", ("Ctrl+Shift+P",), "File",
             "run the model over articles it has not seen", w.preannotate),
        spec("show_stats", "&Statistics", ("Ctrl+Shift+S",), "File", "counts and agreement",
             w.show_stats),
        spec("show_sources", "Source &Registry…", ("Ctrl+R",), "File",
             "the project's sources and grades", w.show_sources),
        spec("analyst_name", "Analyst &Name…", (), "File",
             "the name your decisions are recorded under (asked once; change it here)",
             w.ask_analyst_name, needs_project=False),
        spec("quit", "&Quit", ("Ctrl+Q",), "File", "close the window (work is already saved)",
             w.close, needs_project=False),

        spec("undo", "&Undo", ("Ctrl+Z",), "Edit", "undo the last decision (apply-to-all is one step)",
             r.undo),
        spec("redo", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Edit", "redo", r.redo),
        spec("focus_search", "&Find Articles", ("Ctrl+F",), "Edit", "search titles and texts",
             w.focus_search),
        spec("focus_article", "Back to the &Article", ("Esc",), "Edit",
             "leave the search box or list; clear the selection", w.focus_article),

        spec("next_suggestion", "&Next Suggestion", ("J", "Tab"), "Review",
             "go to the next undecided span or claim", r.next_suggestion),
        spec("prev_suggestion", "&Previous Suggestion", ("K", "Shift+Tab"), "Review",
             "go to the previous undecided span or claim", r.prev_suggestion),
        spec("accept", "&Accept", ("A", "Space"), "Review",
             "accept the current span or claim, then go to the next", r.accept),
        spec("reject", "Re&ject", ("X", "Delete"), "Review",
             "reject the current span or claim, then go to the next", r.reject),
        spec("reset", "Back to &Suggested", ("U",), "Review", "undecide the current span or claim",
             r.reset),
        spec("delete_span", "&Delete Span", ("Shift+Delete",), "Review",
             "remove the current span altogether", r.delete_span),
        spec("select_next_token", "Select the Next Token", ("Right",), "Review",
             "select the token after the selection (or the current item): a span without the "
             "mouse, then Shift+arrows resize it and a label key makes it a span",
             r.step_selection, False, article_only=True),
        spec("select_prev_token", "Select the Previous Token", ("Left",), "Review",
             "select the token before the selection (or the current item)",
             r.step_selection, True, article_only=True),
        spec("grow_end", "Grow End by a Token", ("Shift+Right",), "Review",
             "move the end one token right (of the selection when text is selected, else of the "
             "current span)", r.move_boundary, "grow_end"),
        spec("shrink_end", "Shrink End by a Token", ("Shift+Left",), "Review",
             "move the end one token left (selection, else current span)", r.move_boundary,
             "shrink_end"),
        spec("grow_start", "Grow Start by a Token", ("Ctrl+Shift+Left",), "Review",
             "move the start one token left (selection, else current span)", r.move_boundary,
             "grow_start"),
        spec("shrink_start", "Shrink Start by a Token", ("Ctrl+Shift+Right",), "Review",
             "move the start one token right (selection, else current span)", r.move_boundary,
             "shrink_start"),
        spec("pick_label", "&Label As… (Type to Filter)", ("E",), "Review",
             "choose any label by typing part of it: relabels the current span, or makes the "
             "selection a span", r.pick_label),
        spec("label_guidelines", "Label &Guidelines…", ("Ctrl+G",), "Review",
             "what each label means: read and edit the guidelines", w.show_label_guidelines),
        spec("train", "&Train from My Decisions", ("Ctrl+Shift+T",), "Review",
             "learn the project's own claims and entities models from the articles marked done "
             "and every decision, in the background; shows old and new scores before switching",
             w.train_from_decisions),
        spec("model_history", "&Model History…", (), "Review",
             "every model the project learned, its provenance and scores; switch back to one",
             w.show_model_history),
        spec("apply_all", "Accept Every Mention in This Article", ("Shift+A",), "Review",
             "give every mention of this text in the article the current label",
             r.apply_all, "document"),
        spec("reject_all", "Reject Every Mention in This Article", ("Shift+X",), "Review",
             "reject every suggested mention of this text in the article", r.reject_all, "document"),
        spec("apply_all", "Accept Every Mention in the Project", ("Ctrl+Shift+A",), "Review",
             "the same across every article of the project", r.apply_all, "project"),
        spec("reject_all", "Reject Every Mention in the Project", ("Ctrl+Shift+X",), "Review",
             "the same across every article of the project", r.reject_all, "project"),

        spec("mark_claim", "&Mark Claim from Selection", ("M",), "Claim",
             "the selected text becomes a new claim's content", r.mark_claim),
        spec("set_claim_part", "Set &Content from Selection", ("C, T",), "Claim",
             "the selection becomes the current claim's content", r.set_claim_part, "Content"),
        spec("set_claim_part", "Set C&ue from Selection", ("C, U",), "Claim",
             "the selection becomes the current claim's cue (said, told…)", r.set_claim_part, "Cue"),
        spec("set_claim_part", "Set &Source from Selection", ("C, S",), "Claim",
             "the selection becomes the current claim's source (linked to the registry)",
             r.set_claim_part, "Source"),
        spec("add_claim_piece", "Add Selection to the Content", ("C, Shift+T",), "Claim",
             "one more piece of the current claim's content (a quotation the cue interrupts)",
             r.add_claim_piece, "Content"),
        spec("add_claim_piece", "Add Selection to the Cue", ("C, Shift+U",), "Claim",
             "one more piece of the current claim's cue (quoted … as saying)",
             r.add_claim_piece, "Cue"),
        spec("add_claim_piece", "Add Selection to the Source", ("C, Shift+S",), "Claim",
             "one more piece of the current claim's source", r.add_claim_piece, "Source"),
    ]
    for lab in labels:
        if lab["kind"] == "entity":
            # Every label can be assigned from the menus; those with a key also by their key.
            keys = (lab["key"],) if lab.get("key") else ()
            specs.append(spec("label_key", f"Label {lab['name']}", keys, "Review",
                              f"relabel the current span as {lab['name']}; with text selected, "
                              f"create a {lab['name']} span", r.label_key, lab["name"]))
    for grade, meaning in CREDIBILITY.items():
        specs.append(spec("grade_claim", f"Credibility {grade}: {meaning}", (f"C, {grade}",),
                          "Claim", f"grade the current claim {grade} ({meaning})", r.grade_claim, grade))
    specs.append(spec("grade_claim", "Credibility: Ungraded", ("C, 0",), "Claim",
                      "clear the claim's credibility grade", r.grade_claim, 0))
    for grade, meaning in RELIABILITY.items():
        specs.append(spec("grade_source", f"Source Reliability {grade}: {meaning}", (f"S, {grade}",),
                          "Claim", f"grade the current claim's source {grade} ({meaning})",
                          r.grade_source, grade))
    specs.append(spec("grade_source", "Source Reliability: Ungraded", ("S, 0",), "Claim",
                      "clear the source's reliability grade", r.grade_source, "0"))
    specs.append(spec("take_suggested_grade", "Take the Suggested Credibility", ("Y",), "Claim",
                      "grade the claim as its independent sources suggest (shown under Evidence)",
                      r.accept_grade_suggestion))
    for stance, key in STANCE_KEYS.items():
        specs.append(spec("set_stance", f"Stance: {stance}", (key,), "Claim",
                          f"the claim's source {STANCES[stance].removeprefix('the source ')}",
                          r.set_stance, stance))
    specs.append(spec("set_stance", "Stance: Not Set", ("T, 0",), "Claim",
                      "clear the claim's stance", r.set_stance, ""))
    specs += [
        spec("pick_related", "Pick the Next Linked or Related Claim", ("]",), "Claim",
             "go down the current claim's links, then its related claims in other articles",
             r.pick_related, False),
        spec("pick_related", "Pick the Previous Linked or Related Claim", ("[",), "Claim",
             "go up the current claim's links and related claims", r.pick_related, True),
    ]
    for kind, key in LINK_KEYS.items():
        what = ("the current claim cites (repeats) the picked one" if kind == "cites" else
                f"the picked claim and the current one: {kind} (read both ways)")
        specs.append(spec("link_claim", f"Link: {kind.capitalize()}", (key,), "Claim",
                          what + "; linked already, the link becomes this", r.link_picked, kind))
    specs += [
        spec("unlink_claim", "Remove the Link to the Picked Claim", ("Shift+U",), "Claim",
             "remove the link between the current claim and the picked one", r.unlink_picked),
        spec("goto_picked", "Go to the Picked Claim", ("G",), "Claim",
             "open the picked claim's article with that claim current", r.goto_picked),
        spec("go_back", "Back to the Previous Claim", ("B",), "Claim",
             "back to the claim you came from (after G or the claims view)", w.go_back),
        spec("show_claims", "All &Claims…", ("Ctrl+Shift+C",), "Claim",
             "every claim of the project: filter, sort, search, open one", w.show_claims),
    ]
    specs += [
        spec("next_article", "&Next Article", ("N", "Ctrl+Down"), "Article",
             "open the next article in the list", w.next_article),
        spec("prev_article", "&Previous Article", ("P", "Ctrl+Up"), "Article",
             "open the previous article in the list", w.prev_article),
        spec("toggle_done", "Mark Article &Done", ("D", "Ctrl+Return"), "Article",
             "mark the article done (again: back to in review)", r.toggle_done),
    ]
    doc_labels = [lab for lab in labels if lab["kind"] == "document"]
    for i, lab in enumerate(doc_labels[:9], 1):
        specs.append(spec("toggle_doc_label", f"Label Article “{lab['name']}”", (f"L, {i}",),
                          "Article", f"label the whole article {lab['name']} (again: remove)",
                          r.toggle_doc_label, lab["name"], checkable=True))
    specs.append(spec("cheat_sheet", "&Keyboard Shortcuts", ("?", "F1"), "Help", "this list",
                      w.cheat_sheet, needs_project=False))
    return specs
