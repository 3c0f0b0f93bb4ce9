"""The article under review, without Qt: its items and the current one, navigation, token
snapping, the claim-parts view, and decisions on the current item that say what they changed.

The app's presenter (`ui/review_controller.py`) only shows what this holds; a script or a test
drives a review with it alone.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, replace

from annotation.model import CLAIM_LABELS, CLAIM_ROLES, LINK_KINDS, STANCES, Claim, Source, Span
from annotation.tokens import TokenEdges, Tokenizer
from storage.changes import Changes
from storage.corroboration import (
    Evidence,
    GradeSuggestion,
    LinkedClaim,
    evidence,
    linked_claims,
    suggest_grade,
)
from storage.project import DocumentRow, Project, StatusCounts
from storage.related import RelatedClaim, related_claims
from storage.review import Review
from storage.sources import candidate_name, find_source

NONE_LEFT = "No undecided suggestion left in this article: D marks it done, N opens the next"
ALL_DECIDED = "Every suggestion in this article is decided: D marks it done, N opens the next"
BOUNDARY_MOVES = ("grow_end", "shrink_end", "grow_start", "shrink_start")
RELATED_K = 10  # related claims the side panel lists


class NothingToDo(ValueError):
    """The action does not apply to what is current (the message says what would)."""


@dataclass(frozen=True)
class Item:
    """One thing to decide, in reading order: an entity span, or a claim with all its parts."""
    kind: str  # "span" | "claim"
    id: int
    start: int
    end: int
    status: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.id)


@dataclass(frozen=True)
class Target:
    """What a click can make current: an entity, or a claim with one of its parts in focus."""
    kind: str
    id: int
    focus: int | None = None


@dataclass(frozen=True)
class Outline:
    """How the view marks the current item: the focused range, the claim's other parts, and the
    claim's content (shaded)."""
    focus: tuple[int, int] | None = None
    others: tuple[tuple[int, int], ...] = ()
    band: tuple[int, int] | None = None


@dataclass
class ClaimView:
    """A claim as the side panel shows it: its parts' texts, the focused part, its source."""
    claim: Claim
    parts: dict[str, str | None]
    focus: Span | None
    focus_text: str
    source: Source | None
    grade: str  # the combined Admiralty code, e.g. "C2" ("" when neither axis is graded)
    # Not linked to the registry yet: the source name its source span proposes (registered when
    # the claim is accepted or its source graded), and the entry of that name if there is one.
    candidate: str | None = None
    candidate_entry: Source | None = None


@dataclass
class Corroboration:
    """The current claim's links both ways, the independent sources behind them and the grade
    they suggest (shown; stored only when the analyst takes it)."""
    claim_id: int
    links: list[LinkedClaim]
    evidence: Evidence
    suggestion: GradeSuggestion

    def link_of(self, claim_id: int) -> LinkedClaim | None:
        return next((link for link in self.links if link.claim_id == claim_id), None)


@dataclass
class OpenedArticle:
    """An article as the review model holds it: its text, spans and claims, and the items made
    of them. `read_article` makes one; a background thread may, for a long article."""
    doc_id: int | None = None
    text: str = ""
    spans: dict[int, Span] = field(default_factory=dict)
    claims: dict[int, Claim] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    index: dict[tuple[str, int], int] = field(default_factory=dict)
    part_of: dict[int, int] = field(default_factory=dict)  # span id -> claim id
    tokens: TokenEdges | None = None  # made with it for a long article (seconds of spaCy)


_State = OpenedArticle

# An article this long (characters) or with this many spans is opened off the UI thread and
# shown in steps: reading and drawing it at once would hold the window for a second or more.
LONG_CHARS = 300_000
LONG_SPANS = 6_000


def read_article(project: Project, doc_id: int, *, tokens: Tokenizer | None = None) -> OpenedArticle:
    """Read an article whole and make its items (no state of a ReviewModel involved); its
    spans come in order of start. With `tokens`, its token edges too."""
    article = OpenedArticle(doc_id, project.document_text(doc_id),
                            {s.id: s for s in project.spans(doc_id)},
                            {c.id: c for c in project.claims(doc_id)})
    article.items, article.index, article.part_of = build_items(article.spans, article.claims)
    if tokens is not None:
        article.tokens = TokenEdges(article.text, tokens)
    return article


def build_items(spans: dict[int, Span], claims: dict[int, Claim]
                ) -> tuple[list[Item], dict[tuple[str, int], int], dict[int, int]]:
    """The items to decide in reading order (claims with their parts, then loose entities),
    their positions, and which claim each part belongs to."""
    part_of, items = {}, []
    for c in claims.values():
        parts = [spans[p] for p in c.part_ids() if p in spans]
        for p in parts:
            part_of[p.id] = c.id
        if parts:
            items.append(Item("claim", c.id, min(p.start for p in parts),
                              max(p.end for p in parts), c.status))
    for s in spans.values():
        if s.id not in part_of:
            items.append(Item("span", s.id, s.start, s.end, s.status))
    items.sort(key=lambda it: (it.start, it.end, it.kind, it.id))
    return items, {it.key: i for i, it in enumerate(items)}, part_of


class ReviewModel:
    """One open project's review: the open article and the decisions made on it."""

    def __init__(self, project: Project, review: Review | None = None, *,
                 tokenize: Tokenizer | None = None):
        self.project = project
        self.review = review or Review(project)
        self._tokenize = tokenize
        self._state = _State()
        self.part_of: dict[int, int] = {}  # span id -> claim id
        self.items: list[Item] = []
        self._index: dict[tuple[str, int], int] = {}
        self.current: Item | None = None
        self.focus_span: int | None = None  # the span boundary keys move (an entity or a claim part)
        self.reveal = True  # whether the view should scroll to the current item
        self._edges: TokenEdges | None = None
        self._registry: list[Source] | None = None
        self._labels: dict[str, str] | None = None  # label -> guideline
        self._advance_message = ""
        # Corroboration of the current claim: kept until a decision changes what it reads.
        self._corroboration: dict[int, Corroboration] = {}
        self._related: dict[int, list[RelatedClaim]] = {}
        self.picked: int | None = None     # a claim of the links or related list, for the link keys
        self._picked_for: int | None = None  # the current claim the pick belongs to

    # -- what the open article holds ----------------------------------------------------------------
    @property
    def doc_id(self) -> int | None:
        return self._state.doc_id

    @property
    def text(self) -> str:
        return self._state.text

    @property
    def spans(self) -> dict[int, Span]:
        return self._state.spans

    @property
    def claims(self) -> dict[int, Claim]:
        return self._state.claims

    def span_text(self, span: Span) -> str:
        """The span's text; a span in pieces, its pieces joined by " … " (not the text between)."""
        if span.fragments and len(span.fragments) > 1:
            return " … ".join(self.text[a:b] for a, b in span.fragments)
        return self.text[span.start:span.end]

    # -- reads about the project (what the window shows beside the article) -------------------------
    def status_counts(self) -> StatusCounts:
        return self.project.status_counts()

    def document_rows(self, ids: list[int]) -> list[DocumentRow | None]:
        return self.project.document_rows_by_id(ids)

    def document_status(self) -> str | None:
        return self.project.document_status(self.doc_id) if self.doc_id is not None else None

    def doc_labels(self) -> list[str]:
        return self.project.doc_labels(self.doc_id) if self.doc_id is not None else []

    def registry(self) -> list[Source]:
        """The source registry by name (kept until a decision changes it)."""
        if self._registry is None:
            self._registry = self.project.sources()
        return self._registry

    def source_claim_counts(self) -> dict[int, int]:
        return self.project.source_claim_counts()

    # -- opening and keeping in step ------------------------------------------------------------------
    def open(self, doc_id: int | None) -> None:
        """Open an article and make its first undecided item current."""
        self.adopt(read_article(self.project, doc_id) if doc_id is not None else OpenedArticle())

    def is_long(self, doc_id: int) -> bool:
        """Whether an article is long enough to be opened in the background (LONG_CHARS)."""
        row = self.project.conn.execute(
            "SELECT length(text), n_spans + n_claims FROM documents WHERE id = ?", (doc_id,)
        ).fetchone()
        return row is not None and (row[0] > LONG_CHARS or row[1] > LONG_SPANS)

    def set_tokens(self, doc_id: int, tokens: TokenEdges) -> None:
        """Token edges made elsewhere (a background thread, for a long article) for `doc_id`."""
        if doc_id == self.doc_id and self._edges is None:
            self._edges = tokens

    def adopt(self, article: OpenedArticle) -> None:
        """Make an article read by `read_article` the open one, its first undecided item current."""
        self._edges = article.tokens
        self.current = None
        self.focus_span = None
        self._state = article
        self.items, self._index, self.part_of = article.items, article.index, article.part_of
        if article.doc_id is None:
            return
        first = next((it for it in self.items if it.status == "suggested"), None)
        self._set_current(first or (self.items[0] if self.items else None))

    def apply(self, changes: Changes, *, advance: bool = False,
              keep: tuple[str, int] | None = None) -> None:
        """Bring the open article in line with changes stored elsewhere or just now: re-read only
        the spans and claims they name, then keep (or advance from) the current item."""
        if changes.registry:
            self._registry = None
        if changes.labels:
            self._labels = None
        if changes.claim_links or changes.claims or changes.registry:
            self._corroboration.clear()
        if changes.claims or changes.spans:
            self._related.clear()
        if self.doc_id is None:
            return
        if not (changes.spans or changes.claims):
            self._reposition(keep=keep, advance=advance, rebuild=False)
            return
        state = self._state
        # Whether items come or go or move: else only statuses changed, updated in place (a
        # long article's tens of thousands of items are not sorted again for one decision).
        moved = False
        spans = {s.id: s for s in self.project.spans_by_id(changes.spans)}
        for sid in changes.spans:
            s = spans.get(sid)
            old = state.spans.get(sid)
            if s is not None and s.document_id == state.doc_id:
                moved |= old is None or (old.start, old.end) != (s.start, s.end)
                state.spans[sid] = s
            else:
                moved |= old is not None
                state.spans.pop(sid, None)  # deleted (or never in this article)
        claims = {c.id: c for c in self.project.claims_by_id(changes.claims)}
        for cid in changes.claims:
            c = claims.get(cid)
            old_claim = state.claims.get(cid)
            if c is not None and c.document_id == state.doc_id:
                moved |= old_claim is None or old_claim.part_ids() != c.part_ids()
                state.claims[cid] = c
            else:
                moved |= old_claim is not None
                state.claims.pop(cid, None)
        if not moved:
            self._refresh_statuses(changes.spans, changes.claims)
        self._reposition(keep=keep, advance=advance, rebuild=moved)

    def project_changed(self) -> None:
        """Work outside decisions (an import, pre-annotation) changed the project: forget what is
        kept from it (the registry, labels); the article is read again when it is opened."""
        self._registry = None
        self._labels = None
        self._corroboration.clear()
        self._related.clear()

    def reload(self) -> None:
        """Re-read the open article's spans and claims whole (after work that changed many)."""
        state = self._state
        if state.doc_id is None:
            return
        state.spans = {s.id: s for s in self.project.spans(state.doc_id)}
        state.claims = {c.id: c for c in self.project.claims(state.doc_id)}
        self._registry = None
        self._corroboration.clear()
        self._related.clear()
        self._reposition()

    def _reposition(self, keep: tuple[str, int] | None = None, advance: bool = False,
                    rebuild: bool = True) -> None:
        old, old_focus = self.current, self.focus_span
        if rebuild:
            self._rebuild_items()
        if advance and old is not None and old.key in self._index:
            self.current = self.items[self._index[old.key]]
            self._advance()
            return
        key = keep or (old.key if old else None)
        item = self.items[self._index[key]] if key in self._index else None
        if item is None and old is not None:
            item = self._next_from(old.start, old.end)
        focus = old_focus if (item is not None and old is not None and item.key == old.key
                              and old_focus in self.spans) else None
        self._set_current(item, focus=focus, reveal=False)

    def _rebuild_items(self) -> None:
        self.items, self._index, self.part_of = build_items(self.spans, self.claims)
        state = self._state
        state.items, state.index, state.part_of = self.items, self._index, self.part_of

    def _refresh_statuses(self, span_ids, claim_ids) -> None:
        """Items whose span or claim changed status, updated where they stand."""
        for kind, ids, rows in (("span", span_ids, self.spans), ("claim", claim_ids, self.claims)):
            for row_id in ids:
                i = self._index.get((kind, row_id))
                if i is not None and row_id in rows:
                    self.items[i] = replace(self.items[i], status=rows[row_id].status)

    # -- the current item -----------------------------------------------------------------------------
    def current_span(self) -> Span | None:
        """The span boundary keys and relabelling act on."""
        if self.current is None:
            return None
        if self.current.kind == "span":
            return self.spans.get(self.current.id)
        return self.spans.get(self.focus_span) if self.focus_span else None

    def current_claim(self) -> Claim | None:
        if self.current is not None and self.current.kind == "claim":
            return self.claims.get(self.current.id)
        return None

    def current_target(self) -> Target | None:
        if self.current is None:
            return None
        return Target(self.current.kind, self.current.id,
                      self.focus_span if self.current.kind == "claim" else None)

    def _set_current(self, item: Item | None, focus: int | None = None, reveal: bool = True) -> None:
        self.current = item
        self.reveal = reveal
        if item is None:
            self.focus_span = None
        elif item.kind == "span":
            self.focus_span = item.id
        else:
            c = self.claims[item.id]
            if focus is None or focus not in {p.id for p in self._parts(c)}:
                focus = self._default_focus(c)
            self.focus_span = focus

    def _parts(self, claim: Claim) -> list[Span]:
        return [self.spans[p] for p in claim.part_ids() if p in self.spans]

    def outline(self) -> Outline:
        """The current item as the view marks it."""
        f = self.spans.get(self.focus_span) if self.focus_span else None
        c = self.current_claim()
        others: tuple[tuple[int, int], ...] = ()
        band = None
        if c is not None:
            others = tuple((p.start, p.end) for p in self._parts(c) if p.id != self.focus_span)
            content = self.spans.get(c.content_span_id) if c.content_span_id else None
            band = (content.start, content.end) if content is not None else None
        return Outline((f.start, f.end) if f else None, others, band)

    def claim_view(self) -> ClaimView | None:
        """The current claim's parts, focused part, registry source and grades."""
        c = self.current_claim()
        if c is None:
            return None
        parts: dict[str, str | None] = {}
        for role in CLAIM_ROLES:
            sid = c.part_id(role)
            span = self.spans.get(sid) if sid else None
            parts[role] = self.span_text(span) if span else None
        focus = self.spans.get(self.focus_span) if self.focus_span else None
        source = self.project.source(c.source_id) if c.source_id is not None else None
        candidate = entry = None
        if source is None:
            candidate = candidate_name(parts.get("Source"))
            found = find_source(self.project, candidate) if candidate else None
            entry = self.project.source(found) if found is not None else None
        return ClaimView(c, parts, focus, self.span_text(focus) if focus else "", source,
                         admiralty_code(source.reliability if source else None, c.credibility),
                         candidate, entry)

    # -- navigation ------------------------------------------------------------------------------------
    def select(self, kind: str, item_id: int, focus: int | None = None) -> bool:
        i = self._index.get((kind, item_id))
        if i is None:
            return False
        self._set_current(self.items[i], focus=focus)
        return True

    def select_span(self, span_id: int) -> bool:
        """Make current the item a span belongs to (its claim, focused on it, for a claim part)."""
        if span_id in self.part_of:
            return self.select("claim", self.part_of[span_id], focus=span_id)
        return self.select("span", span_id)

    def _next_from(self, start: int, end: int, *, suggested_only: bool = False,
                   backwards: bool = False) -> Item | None:
        """The first item after (or before) the position, wrapping round the article."""
        items = self.items
        if not items:
            return None
        keys = [(it.start, it.end) for it in items]
        if backwards:
            i = bisect_left(keys, (start, end)) - 1
            order = list(range(i, -1, -1)) + list(range(len(items) - 1, i, -1))
        else:
            i = bisect_right(keys, (start, end))
            order = list(range(i, len(items))) + list(range(0, i))
        for j in order:
            it = items[j]
            if not suggested_only or it.status == "suggested":
                return it
        return None

    def next_undecided(self, backwards: bool = False) -> bool:
        """Make the next (or previous) undecided item current, wrapping; False when none is left."""
        cur = self.current
        if cur is not None and cur.key in self._index:
            # Items that start at the same place sort by end: step by index, not position.
            i, n = self._index[cur.key], len(self.items)
            for d in range(1, n):
                step = self.items[(i - d) % n if backwards else (i + d) % n]
                if step.status == "suggested":
                    self._set_current(step)
                    return True
            return cur.status == "suggested"
        it = self._next_from(*((cur.start, cur.end) if cur else (-1, -1)), suggested_only=True,
                             backwards=backwards)
        if it is None:
            return False
        self._set_current(it)
        return True

    def _advance(self) -> None:
        """After a decision: the next undecided item becomes current."""
        cur = self.current
        if cur is None:
            return
        n = len(self.items)
        for d in range(1, n):
            it = self.items[(self._index.get(cur.key, 0) + d) % n]
            if it.status == "suggested":
                self._set_current(it)
                return
        self._set_current(cur, focus=self.focus_span, reveal=False)
        self._advance_message = ALL_DECIDED

    def targets_at(self, offset: int) -> list[Target]:
        """What lies under a character, in the order clicks cycle through it: entities (shortest
        first), then claims' cues and sources, then the claims themselves (shortest first)."""
        under = [s for s in self.spans.values() if s.start <= offset < s.end]
        entities = sorted((s for s in under if s.id not in self.part_of),
                          key=lambda s: (s.end - s.start, s.id))
        parts = sorted((s for s in under if s.id in self.part_of),
                       key=lambda s: (s.end - s.start, s.id))
        out = [Target("span", s.id) for s in entities]
        out += [Target("claim", self.part_of[s.id], s.id) for s in parts
                if s.id != self.claims[self.part_of[s.id]].content_span_id]
        claims = {self.part_of[s.id] for s in parts}
        for cid in sorted(claims, key=lambda i: (self._extent(i), i)):
            t = Target("claim", cid, self._default_focus(self.claims[cid]))
            if t not in out:
                out.append(t)
        return out

    def _extent(self, claim_id: int) -> int:
        it = self.items[self._index[("claim", claim_id)]]
        return it.end - it.start

    def _default_focus(self, claim: Claim) -> int:
        """A claim's part that is focused when the claim becomes current: its content."""
        if claim.content_span_id in self.spans:
            return claim.content_span_id
        return self._parts(claim)[0].id

    def click(self, offset: int, *, cycle: bool = True) -> Target | None:
        """A click on a character: its first item, or (clicking again) the next one there."""
        targets = self.targets_at(offset)
        if not targets:
            return None
        cur = self.current_target()
        if cur in targets:
            if not cycle:
                return cur
            target = targets[(targets.index(cur) + 1) % len(targets)]
        else:
            target = targets[0]
        self.select(target.kind, target.id, focus=target.focus)
        return target

    # -- what the view says about what is under the mouse ----------------------------------------------
    def describe_at(self, offset: int) -> list[str]:
        """One line per item under a character, in the order clicks cycle through them: label,
        status, origin and claim role (for the hover tooltip)."""
        guidelines = self._guidelines()
        lines = []
        for t in self.targets_at(offset):
            if t.kind == "span":
                s = self.spans[t.id]
                line = f"{s.label} · {s.status} · {origin_text(s)}"
                if guidelines.get(s.label):
                    line += f"\n    {guidelines[s.label]}"
                lines.append(line)
                continue
            c = self.claims[t.id]
            part = self.spans[t.focus] if t.focus is not None else None
            if part is None:
                continue
            code = self.claim_code(c)
            lines.append(f"{part.label} of a claim · {c.status}{' · ' + code if code else ''}"
                         f" · {origin_text(part)}")
        return lines

    def _guidelines(self) -> dict[str, str]:
        if self._labels is None:
            self._labels = {lab["name"]: lab.get("description") or "" for lab in self.project.labels()}
        return self._labels

    def claim_code(self, claim: Claim) -> str:
        """The claim's combined Admiralty grade ("C2"), from its source's reliability."""
        reliability = None
        if claim.source_id is not None:
            reliability = self._reliabilities().get(claim.source_id)
        return admiralty_code(reliability, claim.credibility)

    def _reliabilities(self) -> dict[int, str | None]:
        return {s.id: s.reliability for s in self.registry()}

    def claim_codes(self) -> list[tuple[int, int, str]]:
        """(start, end, code) of each graded claim of the article, where its text begins (the
        view writes the code beside it)."""
        reliabilities = self._reliabilities()
        out = []
        for c in self.claims.values():
            reliability = reliabilities.get(c.source_id) if c.source_id else None
            if c.status == "rejected" or (c.credibility is None and reliability is None):
                continue  # nothing graded (most suggested claims): passed over before its parts
            code = admiralty_code(reliability, c.credibility)
            parts = self._parts(c)
            if code and parts:
                first = min(parts, key=lambda p: p.start)
                out.append((first.start, first.end, code))
        return sorted(out)

    # -- tokens ------------------------------------------------------------------------------------------
    def tokens(self) -> TokenEdges:
        """spaCy's tokens of the open article (made on first use, kept while it is open)."""
        if self._edges is None:
            self._edges = TokenEdges(self.text, self._tokenize)
        return self._edges

    def snap(self, rng: tuple[int, int] | None) -> tuple[int, int] | None:
        """A selection outwards to whole tokens, without white space at its edges."""
        return self.tokens().snap(*rng) if rng is not None else None

    # -- selecting with the keys: a token caret ---------------------------------------------------------
    def step_selection(self, selection: tuple[int, int] | None,
                       backwards: bool = False) -> tuple[int, int] | None:
        """Right / Left: select one token, the one after (before) the selection, or after
        (before) the current item when nothing is selected; None at the text's edge."""
        tokens = self.tokens()
        if not len(tokens):
            return None
        rng = self.snap(selection)
        if rng is None:
            cur = self.outline().focus
            if cur is None:
                return tokens.step(-1) if not backwards else tokens.step(len(self.text) + 1, True)
            rng = cur
        return tokens.step(rng[0] if backwards else rng[1], backwards=backwards)

    def resize_selection(self, selection: tuple[int, int], which: str) -> tuple[int, int] | None:
        """Shift(+Ctrl)+arrows on selected text: move its end (start) by one token, as the same
        keys move a span's boundary; None when it cannot move that way."""
        rng = self.snap(selection)
        if rng is None:
            return None
        moved = self.tokens().move(rng[0], rng[1], which)
        return moved if moved != rng else None

    # -- decisions on the current item -------------------------------------------------------------------
    # Each stores one undoable step through Review, brings the article in step, and returns
    # the changes; NothingToDo (a ValueError) says why an action does not apply.
    def _open_doc(self) -> int:
        if self.doc_id is None:
            raise NothingToDo("Open an article first")
        return self.doc_id

    def _after(self, changes: Changes, *, advance: bool = False,
               keep: tuple[str, int] | None = None) -> Changes:
        self._advance_message = ""
        self.apply(changes, advance=advance, keep=keep)
        if self._advance_message and not changes.message:
            changes.message = self._advance_message
        return changes

    def accept(self) -> Changes:
        return self._status_decision("accept")

    def reject(self) -> Changes:
        return self._status_decision("reject")

    def reset(self) -> Changes:
        return self._status_decision("reset")

    def _status_decision(self, what: str) -> Changes:
        self._open_doc()
        cur = self.current
        if cur is None:
            raise NothingToDo("Nothing to decide here: J goes to the next suggestion")
        if cur.kind == "claim":
            if what == "reset":
                raise NothingToDo("A claim's decision is taken back with Undo (Ctrl+Z)")
            decide = self.review.accept_claim if what == "accept" else self.review.reject_claim
            return self._after(decide(cur.id), advance=True)
        spans = {"accept": self.review.accept, "reject": self.review.reject,
                 "reset": self.review.reset}[what]
        return self._after(spans([cur.id]), advance=what != "reset")

    def label(self, label: str, selection: tuple[int, int] | None = None) -> Changes:
        """A label key: with text selected, a new span; otherwise relabel the current span."""
        self._open_doc()
        if selection is not None:
            return self.create_span(label, selection)
        s = self.current_span()
        if s is None or s.label in CLAIM_LABELS:
            raise NothingToDo("Select an entity span (J/K or a click) or some text first")
        return self._after(self.review.relabel(s.id, label))

    def create_span(self, label: str, selection: tuple[int, int] | None) -> Changes:
        doc_id = self._open_doc()
        rng = self.snap(selection)
        if rng is None:
            raise NothingToDo("Select some text first")
        changes = self._after(self.review.create_span(doc_id, rng[0], rng[1], label))
        if changes.id is not None:
            self.select("span", changes.id)
        return changes

    def delete_span(self) -> Changes:
        self._open_doc()
        s = self.current_span()
        if s is None:
            raise NothingToDo("No current span to delete")
        return self._after(self.review.delete_span(s.id))

    def move_boundary(self, which: str) -> Changes:
        """grow_end / shrink_end / grow_start / shrink_start by one spaCy token."""
        self._open_doc()
        s = self.current_span()
        if s is None:
            raise NothingToDo("No current span to resize")
        start, end = self.tokens().move(s.start, s.end, which)
        if (start, end) == (s.start, s.end):
            raise NothingToDo("The span cannot move further that way")
        keep = self.current.key if self.current else None
        changes = self._after(self.review.set_bounds(s.id, start, end), keep=keep)
        self.reveal = False
        return changes

    def apply_to_all(self, scope: str, *, reject: bool = False) -> Changes:
        """Give every mention of the current span's text its label (accepting it), or reject
        every suggested mention, in one step; scope is 'document' or 'project'."""
        self._open_doc()
        s = self.current_span()
        if s is None or s.label in CLAIM_LABELS:
            raise NothingToDo("Apply-to-all works on an entity span: select one first")
        # The label (not "accept") so a relabelled span carries its new label to every mention.
        return self._after(self.review.apply_to_all(s.id, "reject" if reject else s.label,
                                                    scope=scope), advance=True)

    # -- claims ---------------------------------------------------------------------------------------
    def mark_claim(self, selection: tuple[int, int] | None) -> Changes:
        doc_id = self._open_doc()
        rng = self.snap(selection)
        if rng is None:
            raise NothingToDo("Select the claim's text first, then press M")
        changes = self._after(self.review.create_claim(doc_id, rng))
        if changes.id is not None:
            self.select("claim", changes.id)
        changes.message = ("Claim marked: select its cue and press C then U, its source and "
                           "press C then S; C then 1–6 grades it")
        return changes

    def _claim_or(self, message: str) -> Claim:
        self._open_doc()
        c = self.current_claim()
        if c is None:
            raise NothingToDo(message)
        return c

    def set_claim_part(self, role: str, selection: tuple[int, int] | None) -> Changes:
        c = self._claim_or("Make a claim current first (J/K, or click one of its parts)")
        rng = self.snap(selection)
        if rng is None:
            raise NothingToDo(f"Select the {role.lower()} text first")
        changes = self._after(self.review.set_claim_part(c.id, role, rng), keep=("claim", c.id))
        updated = self.claims.get(c.id)
        if updated is not None:
            self.select("claim", c.id, focus=updated.part_id(role))
        return changes

    def add_claim_piece(self, role: str, selection: tuple[int, int] | None) -> Changes:
        """Add the selection to the current claim's part as one more piece: a part in pieces
        (“…,” he said, “…” is one content; "quoted … as saying" one cue). Without the part yet,
        the selection becomes it."""
        c = self._claim_or("Make a claim current first (J/K, or click one of its parts)")
        rng = self.snap(selection)
        if rng is None:
            raise NothingToDo(f"Select the next piece of the {role.lower()} first")
        old = self.spans.get(c.part_id(role) or -1)
        pieces: list[tuple[int, int]] = []
        if old is not None:
            pieces = [(a, b) for a, b in old.fragments] if old.fragments else [(old.start, old.end)]
        changes = self._after(self.review.set_claim_part(c.id, role, [*pieces, rng]),
                              keep=("claim", c.id))
        updated = self.claims.get(c.id)
        if updated is not None:
            self.select("claim", c.id, focus=updated.part_id(role))
        part = self.spans.get(updated.part_id(role) or -1) if updated is not None else None
        n = len(part.fragments) if part is not None and part.fragments else 1
        changes.message = (f"The claim's {role.lower()} is now in {n} pieces" if n > 1 else
                           f"The claim's {role.lower()} is one piece: the selection joins it")
        return changes

    def grade_claim(self, grade: int | None) -> Changes:
        c = self._claim_or("Grading needs a current claim (J/K to one, or click its cue)")
        return self._after(self.review.grade_claim(c.id, grade or None), keep=("claim", c.id))

    def grade_source(self, grade: str | None) -> Changes:
        """Grade the current claim's source; a name the model proposed joins the registry."""
        self._open_doc()
        c = self.current_claim()
        if c is None or (c.source_id is None and c.source_span_id is None):
            raise NothingToDo("Reliability is graded on a claim's source: pick a claim with a source")
        grade = None if grade in (None, "0", "") else grade
        return self._after(self.review.grade_claim_source(c.id, grade), keep=("claim", c.id))

    def set_claim_source(self, source_id: int | None) -> Changes:
        c = self._claim_or("Make a claim current first")
        return self._after(self.review.set_claim_source(c.id, source_id), keep=("claim", c.id))

    def set_claim_note(self, note: str) -> Changes:
        c = self._claim_or("Make a claim current first")
        return self._after(self.review.set_claim_note(c.id, note), keep=("claim", c.id))

    # -- corroboration: links, related claims, the suggested grade -------------------------------------
    def corroboration(self) -> Corroboration | None:
        """The current claim's links, evidence and suggested grade (None: no current claim)."""
        c = self.current_claim()
        if c is None:
            return None
        if c.id not in self._corroboration:
            links = linked_claims(self.project, c.id)
            ev = evidence(self.project, c.id, links)
            self._corroboration[c.id] = Corroboration(c.id, links, ev, suggest_grade(ev))
        return self._corroboration[c.id]

    def related(self, *, compute: bool = True) -> list[RelatedClaim] | None:
        """The claims of other articles most related to the current claim, best first; with
        `compute=False` only what is already known (None until then)."""
        c = self.current_claim()
        if c is None:
            return None
        if c.id not in self._related:
            if not compute:
                return None
            self._related[c.id] = related_claims(self.project, c.id, k=RELATED_K)
        return self._related[c.id]

    def pick_list(self) -> list[int]:
        """What the pick keys go through: the linked claims, then the related ones not linked."""
        cor = self.corroboration()
        if cor is None:
            return []
        linked = [link.claim_id for link in cor.links]
        related = self.related(compute=False) or []
        return linked + [r.claim_id for r in related if r.claim_id not in linked]

    def current_pick(self) -> int | None:
        """The picked claim, if it belongs to the current claim's lists."""
        c = self.current_claim()
        if c is None or self._picked_for != c.id or self.picked not in self.pick_list():
            return None
        return self.picked

    def pick(self, backwards: bool = False) -> int:
        """] / [: pick the next (previous) linked or related claim, wrapping round."""
        c = self._claim_or("Make a claim current first: its linked and related claims are picked")
        order = self.pick_list()
        if not order:
            raise NothingToDo("No linked or related claim to pick"
                              + ("" if self.related(compute=False) is not None
                                 else " yet: related claims are still being found"))
        cur = self.current_pick()
        if cur is None:
            i = len(order) - 1 if backwards else 0
        else:
            i = (order.index(cur) + (-1 if backwards else 1)) % len(order)
        self.picked, self._picked_for = order[i], c.id
        return self.picked

    def pick_claim(self, claim_id: int) -> None:
        """Pick a claim of the lists (a click on its row)."""
        c = self._claim_or("Make a claim current first")
        if claim_id not in self.pick_list():
            raise NothingToDo("That claim is not in this claim's lists any more")
        self.picked, self._picked_for = claim_id, c.id

    def _picked_or(self, message: str) -> tuple[Claim, int]:
        c = self._claim_or("Make a claim current first (J/K, or click one of its parts)")
        picked = self.current_pick()
        if picked is None:
            raise NothingToDo(message)
        return c, picked

    def link_picked(self, kind: str) -> Changes:
        """Link the current claim to the picked one: supports, contradicts, same claim or cites
        (linked already: the link's kind changes)."""
        if kind not in LINK_KINDS:
            raise ValueError(f"unknown link {kind!r}")
        c, picked = self._picked_or("Pick a related claim first (] and [ go through them)")
        return self._after(self.review.link_claims(c.id, picked, kind), keep=("claim", c.id))

    def unlink_picked(self) -> Changes:
        c, picked = self._picked_or("Pick a linked claim first (] and [ go through them)")
        cor = self.corroboration()
        link = cor.link_of(picked) if cor is not None else None
        if link is None:
            raise NothingToDo("The picked claim is not linked to this one")
        return self._after(self.review.unlink_claims(link.link_id), keep=("claim", c.id))

    def picked_target(self) -> tuple[int, int]:
        """(article, claim) of the picked claim: where G goes."""
        _c, picked = self._picked_or("Pick a linked or related claim first (] and [)")
        return self.project.claim(picked).document_id, picked

    def set_stance(self, stance: str | None) -> Changes:
        """How the claim's source commits to it: asserts, denies, hedges (None clears it)."""
        if stance is not None and stance not in STANCES:
            raise ValueError(f"unknown stance {stance!r}")
        c = self._claim_or("Stance is set on a claim: make one current first")
        return self._after(self.review.set_claim_stance(c.id, stance), keep=("claim", c.id))

    def accept_grade_suggestion(self) -> Changes:
        """Y: grade the claim as its evidence suggests (the analyst's decision, logged)."""
        c = self._claim_or("Grading needs a current claim (J/K to one, or click its cue)")
        cor = self.corroboration()
        grade = cor.suggestion.grade if cor is not None else None
        if cor is None or grade is None:
            raise NothingToDo("No grade to suggest: " + (cor.suggestion.reason if cor else ""))
        if c.credibility == grade:
            raise NothingToDo(f"The claim is already graded {grade}")
        changes = self.grade_claim(grade)
        changes.message = f"Graded {grade} as the evidence suggests: {cor.suggestion.reason}"
        return changes

    def open_claim(self, doc_id: int, claim_id: int) -> bool:
        """Open an article at one of its claims (a jump from a link or the claims view)."""
        if self.doc_id != doc_id:
            self.open(doc_id)
        return self.select("claim", claim_id)

    # -- the article ------------------------------------------------------------------------------------
    def undecided_left(self) -> int:
        """Suggestions in the open article no analyst has decided (claims count once)."""
        return self.project.undecided_count(self.doc_id) if self.doc_id is not None else 0

    def toggle_done(self, resolve: str | None = None) -> Changes:
        """Mark the article done (again: back to in review). With undecided suggestions left,
        Review refuses (UndecidedSuggestions) unless `resolve="reject"` rejects them."""
        doc_id = self._open_doc()
        new = "in review" if self.project.document_status(doc_id) == "done" else "done"
        return self._after(self.review.set_document_status(doc_id, new, resolve=resolve))

    def toggle_doc_label(self, label: str) -> Changes:
        return self._after(self.review.toggle_document_label(self._open_doc(), label))

    # -- undo -------------------------------------------------------------------------------------------
    def undo(self) -> Changes:
        return self._replayed(self.review.undo())

    def redo(self) -> Changes:
        return self._replayed(self.review.redo())

    def _replayed(self, changes: Changes) -> Changes:
        """After undo or redo: the article in step, and the item the step was about current."""
        self.apply(changes)
        if changes.documents and self.doc_id not in changes.documents:
            changes.message += " (in another article)"
        elif changes.focus is not None:
            kind, row_id = changes.focus
            if kind == "span" and row_id in self.spans:
                self.select_span(row_id)
            elif kind == "claim":
                self.select("claim", row_id)
        return changes


def origin_text(span: Span) -> str:
    """Who made a span and who decided it, in words."""
    if span.origin == "model":
        made = f"from the model {span.model}" if span.model else "from the model"
        return made + (f", decided by {span.annotator}" if span.annotator and
                       span.status != "suggested" else "")
    if span.origin == "analyst":
        return f"made by {span.annotator}" if span.annotator else "made by an analyst"
    return f"imported from {span.annotator}" if span.annotator else "imported"


def admiralty_code(reliability: str | None, credibility: int | None) -> str:
    """The combined Admiralty grade, e.g. "C2"; "" when neither is graded, "?" for an axis not
    graded yet (which is not F or 6: those say it cannot be judged)."""
    if reliability is None and credibility is None:
        return ""
    return f"{reliability or '?'}{credibility if credibility is not None else '?'}"
