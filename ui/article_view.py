"""The article as plain text with its spans drawn over it (layout formats), and the current one outlined."""
from __future__ import annotations

import html
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QRegion,
    QResizeEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextOption,
)
from PySide6.QtWidgets import QPlainTextEdit, QToolTip, QWidget

from annotation.model import Span
from ui.offsets import OffsetMap, display_text

# Drawing order (later wins where formats overlap): claim content bands under entities, the
# red cue and green source on top so a claim's parts stay readable over entity colours.
_LAYER = {"Content": 0, "Attribution": 0, "Source": 2, "Cue": 3}
_FALLBACK = "#dddddd"
CONTENT_BAND = QColor("#e8f1fa")      # behind the current claim's content only
CONTENT_BAR = QColor("#3d85c6")       # margin bar beside every claim's content
CONTENT_BAR_SUGGESTED = QColor("#9fc3e6")
REJECTED_GREY = QColor("#8c8c8c")
OUTLINE = QColor("#1a237e")
GUTTER = 30                           # left of the text: each graded claim's Admiralty code
CODE_INK = QColor("#1a237e")
CODE_PAPER = QColor("#e8eaf6")
# Letters of right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, N'Ko…, and their forms).
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
# A long article is shown this many characters at a time (show_document_steps): ~10 ms a step.
PIECE_CHARS = 40_000


def _order(piece: tuple) -> tuple[int, int]:
    """Where a span's piece stands in the view's index: by start, then by span id."""
    return piece[1], piece[5]


def safe_colour(value: str | None, fallback: str = _FALLBACK) -> QColor:
    """A colour from the project file, or the fallback: a label's colour is data, not markup."""
    c = QColor(value) if isinstance(value, str) else QColor()
    return c if c.isValid() else QColor(fallback)


def _mix(colour: QColor, amount: float) -> QColor:
    """`amount` of the colour over white (a lighter tint that keeps the hue)."""
    return QColor(round(255 - (255 - colour.red()) * amount),
                  round(255 - (255 - colour.green()) * amount),
                  round(255 - (255 - colour.blue()) * amount))


_BAND: list[QTextCharFormat] = []


def _band_format() -> QTextCharFormat:
    if not _BAND:
        f = QTextCharFormat()
        f.setBackground(CONTENT_BAND)
        _BAND.append(f)
    return _BAND[0]


def span_format(span: Span, colours: dict[str, QColor]) -> QTextCharFormat:
    """How a span looks: entities by label colour (suggested light + dashed, accepted solid,
    rejected struck through grey); claim content a band, cue bold red, source bold green underline."""
    f = QTextCharFormat()
    status = span.status
    if span.label == "Content" or span.label == "Attribution":
        # Drawn as a bar in the left margin (paintEvent): a background here would drown the
        # entity colours inside most sentences. Only a rejected claim's text changes colour.
        if status == "rejected":
            f.setForeground(REJECTED_GREY)
        return f
    if span.label in ("Cue", "Source"):
        colour = colours.get(span.label) or QColor("#cc0000" if span.label == "Cue" else "#38761d")
        if status == "rejected":
            f.setForeground(REJECTED_GREY)
            f.setFontStrikeOut(True)
            return f
        f.setFontWeight(QFont.Bold)
        if span.label == "Cue":
            f.setForeground(colour.darker(110))
        else:
            f.setForeground(QColor("#274e13"))
        f.setUnderlineColor(colour)
        f.setUnderlineStyle(QTextCharFormat.SingleUnderline if status == "accepted"
                            else QTextCharFormat.DashUnderline)
        return f
    colour = colours.get(span.label) or QColor(_FALLBACK)
    if status == "rejected":
        f.setForeground(REJECTED_GREY)
        f.setFontStrikeOut(True)
        f.setBackground(QColor("#f3f3f3"))
    elif status == "accepted":
        f.setBackground(colour)
        f.setUnderlineStyle(QTextCharFormat.SingleUnderline)
        f.setUnderlineColor(colour.darker(170))
    else:
        f.setBackground(_mix(colour, 0.45))
        f.setUnderlineStyle(QTextCharFormat.DashUnderline)
        f.setUnderlineColor(colour.darker(150))
    return f


class _SpanHighlighter(QSyntaxHighlighter):
    """Colours each block from the view's spans (layout formats: drawn in the same pass as the text)."""

    def __init__(self, view: ArticleView):
        super().__init__(view.document())
        self.view = view

    def highlightBlock(self, text: str) -> None:
        block = self.currentBlock()
        b0 = block.position()
        # The block's length in Qt (UTF-16) units: len(text) counts code points, and would cut
        # off the spans at the end of a paragraph holding emoji or other non-BMP characters.
        for s, e, fmt in self.view.block_formats(b0, b0 + block.length()):
            self.setFormat(s - b0, e - s, fmt)


class ArticleView(QPlainTextEdit):
    """Read-only plain text (never HTML); spans are formats applied per block, keyed by span id."""

    clicked = Signal(int)                    # code-point offset under a plain left click
    painted = Signal()                       # after each paint (benchmarks count them)
    context_requested = Signal(int, QPoint)  # offset under the mouse, global position

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        # Mouse selection only: keys belong to the review shortcuts, not to caret movement.
        self.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.setLineWrapMode(QPlainTextEdit.WidgetWidth)
        # Always there: a scroll bar appearing when a long article follows a short one would
        # narrow the text and lay it out a second time.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOn)
        self.setWordWrapMode(QTextOption.WrapAtWordBoundaryOrAnywhere)
        font = QFont(self.font())
        font.setPointSizeF(max(11.5, font.pointSizeF() * 1.15))
        self.setFont(font)
        self.document().setDocumentMargin(18)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setObjectName("articleView")
        self._map = OffsetMap("")
        self._same_offsets = True
        self._text = ""
        self._colours: dict[str, QColor] = {}
        self._spans: dict[int, Span] = {}
        # span id -> (layer, qt start, qt end, format, recessive, span id) for each fragment;
        # indexed in (start, span id) order, which also decides between spans of one layer
        self._pieces: dict[int, list[tuple[int, int, int, QTextCharFormat, bool]]] = {}
        self._outlines: list[tuple[int, int, bool]] = []  # qt start, qt end, strong?
        self._band: tuple[int, int] | None = None  # the current claim's content, qt range
        # One format object per (label, status) and per overlap combination: cheap to reuse.
        self._formats: dict[tuple[str, str], QTextCharFormat] = {}
        self._merged: dict[tuple[int, ...], QTextCharFormat] = {}
        self._sorted: list[tuple[int, int, int, QTextCharFormat, bool, int]] = []
        self._starts: list[int] = []
        self._longest = 0
        self._bars: list[tuple[int, int, bool]] = []  # claim contents: qt start, end, accepted?
        self._bar_starts: list[int] = []
        self._bar_longest = 0
        self._highlighter = _SpanHighlighter(self)
        self.setPlaceholderText("No article open")
        # What the hover tooltip says about a character (set by the presenter): lines of text.
        self.describe: Callable[[int], list[str]] | None = None
        self._codes: list[tuple[int, int, str]] = []  # qt start, qt end, Admiralty code
        self._gutter = _Gutter(self)
        self.setViewportMargins(GUTTER, 0, 0, 0)
        self.updateRequest.connect(self._on_update_request)

    # -- content ----------------------------------------------------------------------------------
    @property
    def offsets(self) -> OffsetMap:
        return self._map

    def set_colours(self, labels: Iterable[dict]) -> None:
        self._colours = {lab["name"]: safe_colour(lab.get("colour")) for lab in labels}
        self._formats.clear()
        self._merged.clear()

    def show_document(self, text: str, spans: Iterable[Span]) -> None:
        """Show a new article (plain text only) with all its spans."""
        self._begin(text, spans)
        self._pieces = {sid: self._make(s) for sid, s in self._spans.items()}
        self._index()
        # The highlighter colours each block as setPlainText lays it out: one pass, no extra.
        self.setPlainText(display_text(text))

    def show_document_steps(self, text: str, spans: Iterable[Span], piece_chars: int | None = None,
                            *, in_order: bool = False) -> Iterator[int]:
        """show_document for a long article, in steps run between events: the text a piece at a
        time (cut after a line break), each piece with the spans that start in it, so no step
        holds the window long. Yields how many characters are shown so far; the drawing at the
        end is show_document's. `in_order`: the spans come sorted by start already."""
        piece_chars = piece_chars or PIECE_CHARS
        self.setPlainText("")
        self._begin_text(text)
        self._spans, self._pieces = {}, {}
        self._sorted, self._starts, self._longest = [], [], 0
        self._bars, self._bar_starts, self._bar_longest = [], [], 0
        yield 0  # scanning the text is a step of its own, and so is taking in the spans
        self._begin_spans(spans)
        yield 0
        shown = display_text(text)
        ordered = list(self._spans.values())
        if not in_order:
            ordered.sort(key=lambda s: s.start)
        j, n = 0, len(ordered)
        start = 0
        cursor = QTextCursor(self.document())
        while True:
            end = len(text) if len(text) - start <= piece_chars else \
                (text.rfind("\n", start + piece_chars // 2, start + piece_chars) + 1 or start + piece_chars)
            first = j
            made = []
            while j < n and ordered[j].start < end:
                made += self._pieces.setdefault(ordered[j].id, self._make(ordered[j]))
                j += 1
            self._add_pieces(made, ordered[first:j])
            if start == 0:
                self.setPlainText(shown[:end])
            else:
                cursor.movePosition(QTextCursor.End)
                cursor.insertText(shown[start:end])
            start = end
            yield end
            if start >= len(text):
                break
        if j < n:  # spans past the text's end (none in a sound project)
            for span in ordered[j:]:
                self._pieces[span.id] = self._make(span)
            self._index()

    def _begin(self, text: str, spans: Iterable[Span]) -> None:
        self._begin_text(text)
        self._begin_spans(spans)

    def _begin_text(self, text: str) -> None:
        self._text = text
        self._map = OffsetMap(text)
        # No character outside the BMP: Qt positions are the code-point offsets themselves.
        self._same_offsets = self._map.qt_length == self._map.length
        self._outlines = []
        self._band = None
        self._codes = []
        # Qt's plain-text layout aligns every paragraph left; justified text is laid out
        # right-aligned in a right-to-left paragraph, so an article in such a script reads as
        # it should (left-to-right text is then justified too).
        option = self.document().defaultTextOption()
        option.setAlignment(Qt.AlignJustify if _RTL.search(text) else Qt.AlignLeft)
        self.document().setDefaultTextOption(option)

    def _begin_spans(self, spans: Iterable[Span]) -> None:
        self._spans = {s.id: s for s in spans}

    def _add_pieces(self, pieces: list, spans: list[Span]) -> None:
        """Index the pieces of spans that start after every span indexed so far (one step of a
        long article); anything else makes the index whole again."""
        bars = [(*self._map.range_to_qt(s.start, s.end), s.status == "accepted") for s in spans
                if s.label == "Content" and s.status != "rejected"]
        pieces.sort(key=_order)
        bars.sort()
        if (pieces and self._sorted and _order(pieces[0]) < _order(self._sorted[-1])) or \
                (bars and self._bar_starts and bars[0][0] < self._bar_starts[-1]):
            self._index()
            return
        self._sorted += pieces
        self._starts += [p[1] for p in pieces]
        self._longest = max([self._longest] + [p[2] - p[1] for p in pieces])
        self._bars += bars
        self._bar_starts += [b[0] for b in bars]
        self._bar_longest = max([self._bar_longest] + [b[1] - b[0] for b in bars])

    def clear_document(self) -> None:
        self.show_document("", [])

    def update_spans(self, spans: Iterable[Span]) -> set[int]:
        """Bring the drawing in line with the article's spans, re-colouring only changed blocks."""
        new = {s.id: s for s in spans}
        changed = {sid for sid, s in new.items() if self._spans.get(sid) != s}
        removed = set(self._spans) - set(new)
        if not changed and not removed:
            return set()
        dirty = [(p[1], p[2]) for sid in changed | removed for p in self._pieces.get(sid, ())]
        for sid in removed:
            self._pieces.pop(sid, None)
        for sid in changed:
            self._pieces[sid] = self._make(new[sid])
            dirty += [(p[1], p[2]) for p in self._pieces[sid]]
        self._spans = new
        self._index()
        self._rehighlight(dirty)
        return changed | removed

    def change_spans(self, changed: Iterable[Span], removed: Iterable[int] = ()) -> set[int]:
        """update_spans for the spans a decision wrote: only they are re-indexed and only their
        blocks re-coloured, however many spans the article holds (the reference is update_spans)."""
        dirty: list[tuple[int, int]] = []
        done: set[int] = set()
        bars = False
        for sid in removed:
            if sid in self._spans:
                bars |= self._spans[sid].label == "Content"
                dirty += self._unindex(sid)
                del self._spans[sid]
                done.add(sid)
        for span in changed:
            if self._spans.get(span.id) == span:
                continue
            old = self._spans.get(span.id)
            bars |= span.label == "Content" or (old is not None and old.label == "Content")
            dirty += self._unindex(span.id)
            self._spans[span.id] = span
            pieces = self._pieces[span.id] = self._make(span)
            for p in pieces:
                i = bisect_left(self._starts, p[1])
                while i < len(self._sorted) and _order(self._sorted[i]) < _order(p):
                    i += 1
                self._sorted.insert(i, p)
                self._starts.insert(i, p[1])
                self._longest = max(self._longest, p[2] - p[1])
                dirty.append((p[1], p[2]))
            done.add(span.id)
        if bars:
            self._index_bars()
        self._rehighlight(dirty)
        return done

    def _unindex(self, sid: int) -> list[tuple[int, int]]:
        """Take a span's pieces out of the index; their ranges (to re-colour)."""
        out = []
        for p in self._pieces.pop(sid, ()):
            i = bisect_left(self._starts, p[1])
            while i < len(self._sorted) and self._sorted[i] is not p:
                i += 1
            if i < len(self._sorted):
                del self._sorted[i]
                del self._starts[i]
            out.append((p[1], p[2]))
        return out

    def _make(self, span: Span) -> list[tuple[int, int, int, QTextCharFormat, bool, int]]:
        key = (span.label, span.status)
        fmt = self._formats.get(key)
        if fmt is None:
            fmt = self._formats[key] = span_format(span, self._colours)
        layer = _LAYER.get(span.label, 1)
        # A rejected span gives way: where it overlaps anything not rejected, its grey and its
        # strike-through are not drawn (a rejected claim never greys the entities inside it).
        recessive = span.status == "rejected"
        if self._same_offsets and not span.fragments:  # the usual case, for every span of a switch
            return [(layer, span.start, span.end, fmt, recessive, span.id)]
        return [(layer, *self._map.range_to_qt(a, b), fmt, recessive, span.id)
                for a, b in (span.fragments or [[span.start, span.end]])]

    def _index(self) -> None:
        """Pieces sorted by start, for finding those that touch a block."""
        self._sorted = sorted((p for ps in self._pieces.values() for p in ps), key=_order)
        self._starts = [p[1] for p in self._sorted]
        self._longest = max((p[2] - p[1] for p in self._sorted), default=0)
        self._index_bars()

    def _index_bars(self) -> None:
        """Claim contents not rejected, by start: the margin bars, found by position."""
        bars = sorted((*self._map.range_to_qt(s.start, s.end), s.status == "accepted")
                      for s in self._spans.values()
                      if s.label == "Content" and s.status != "rejected" and s.id in self._pieces)
        self._bars = bars
        self._bar_starts = [b[0] for b in bars]
        self._bar_longest = max((b[1] - b[0] for b in bars), default=0)

    def _rehighlight(self, ranges: Iterable[tuple[int, int]]) -> None:
        doc = self.document()
        seen: set[int] = set()
        for qa, qb in ranges:
            block = doc.findBlock(qa)
            while block.isValid() and block.position() <= qb:
                if block.blockNumber() not in seen:
                    seen.add(block.blockNumber())
                    self._highlighter.rehighlightBlock(block)
                block = block.next()

    def block_formats(self, b0: int, b1: int) -> list[tuple[int, int, QTextCharFormat]]:
        """Merged formats for Qt range [b0, b1): later layers win where spans overlap."""
        lo = bisect_left(self._starts, b0 - self._longest)
        hi = bisect_left(self._starts, b1)
        pieces = [p for p in self._sorted[lo:hi] if p[2] > b0]
        if self._band is not None and self._band[1] > b0 and self._band[0] < b1:
            pieces.append((-1, *self._band, _band_format(), False))
            pieces.sort(key=lambda p: p[1])
        if not pieces:
            return []
        cuts = sorted({max(b0, min(b1, x)) for p in pieces for x in (p[1], p[2])})
        out = []
        active: list[tuple[int, int, int, QTextCharFormat, bool]] = []
        i, n = 0, len(pieces)
        # Sweep: the pieces covering each stretch between two consecutive span boundaries.
        for s, e in zip(cuts, cuts[1:]):
            while i < n and pieces[i][1] <= s:
                active.append(pieces[i])
                i += 1
            active = [p for p in active if p[2] > s]
            if not active:
                continue
            if len(active) == 1:
                out.append((s, e, active[0][3]))
                continue
            shown = [p for p in active if not p[4]] or active
            if len(shown) == 1:
                out.append((s, e, shown[0][3]))
                continue
            key = tuple(id(p[3]) for p in sorted(shown, key=lambda p: p[0]))
            fmt = self._merged.get(key)
            if fmt is None:
                fmt = QTextCharFormat()
                for p in sorted(shown, key=lambda p: p[0]):
                    fmt.merge(p[3])
                self._merged[key] = fmt
            out.append((s, e, fmt))
        return out

    # -- the current span ---------------------------------------------------------------------------
    def set_current(self, focus: tuple[int, int] | None,
                    others: Iterable[tuple[int, int]] = (), reveal: bool = True,
                    band: tuple[int, int] | None = None) -> None:
        """Outline the current span (strong) and the other parts of its claim (light); `band`
        shades the current claim's content."""
        qband = self._map.range_to_qt(*band) if band is not None else None
        if qband != self._band:
            dirty = [r for r in (self._band, qband) if r is not None]
            self._band = qband
            self._rehighlight(dirty)
        outlines = []
        if focus is not None:
            outlines.append((*self._map.range_to_qt(*focus), True))
        outlines += [(*self._map.range_to_qt(a, b), False) for a, b in others]
        old, self._outlines = self._outlines, outlines
        if focus is not None and reveal and self._reveal(*focus):
            self.viewport().update()  # scrolled: everything moved
            return
        # Only where an outline was or is now: repainting the whole page costs a few ms more.
        region = QRegion()
        for qa, qb, _strong in old + outlines:
            for r in self._rects(qa, qb):
                region += r.adjusted(-4, -2, 4, 2).toAlignedRect()
        if not region.isEmpty():
            self.viewport().update(region)

    def _reveal(self, start: int, end: int) -> bool:
        """Scroll the range into view; False when it was in view already."""
        qa, qb = self._map.range_to_qt(start, end)
        rects = self._rects(qa, qb)
        height = self.viewport().height()
        if rects and rects[0].top() >= 0 and rects[-1].bottom() <= height:
            return False  # already in view: moving the caret would cost a relayout for nothing
        cur = QTextCursor(self.document())
        cur.setPosition(self._map.to_qt(end))
        self.setTextCursor(cur)
        self.ensureCursorVisible()
        cur.setPosition(self._map.to_qt(start))
        self.setTextCursor(cur)
        self.ensureCursorVisible()
        return True

    def selection_range(self) -> tuple[int, int] | None:
        """The selected text as a code-point range, or None."""
        cur = self.textCursor()
        if not cur.hasSelection():
            return None
        return self._map.range_from_qt(cur.selectionStart(), cur.selectionEnd())

    def clear_selection(self) -> None:
        cur = self.textCursor()
        if cur.hasSelection():
            cur.clearSelection()
            self.setTextCursor(cur)

    def select_range(self, start: int, end: int) -> None:
        """Select text by code points (what a mouse drag does; tests use it too)."""
        cur = QTextCursor(self.document())
        qa, qb = self._map.range_to_qt(start, end)
        cur.setPosition(qa)
        cur.setPosition(qb, QTextCursor.KeepAnchor)
        self.setTextCursor(cur)

    def point_of(self, offset: int) -> QPoint:
        """Viewport point in the middle of the character at `offset` (for clicks in tests)."""
        qa = self._map.to_qt(offset)
        rects = self._rects(qa, qa + 1)
        if not rects:
            return QPoint(0, 0)
        return rects[0].center().toPoint()

    def set_claim_codes(self, codes: Iterable[tuple[int, int, str]]) -> None:
        """The Admiralty code ("C2") of each graded claim, written in the gutter beside the line
        where the claim's text begins: (start, end) of that part, and the code."""
        self._codes = [(*self._map.range_to_qt(a, b), code) for a, b, code in codes]
        self._gutter.update()

    def codes_shown(self) -> list[tuple[int, str]]:
        """(code-point offset, code) of each code the gutter holds (tests read them)."""
        return [(self._map.from_qt(qa), code) for qa, _qb, code in self._codes]

    # -- painting -----------------------------------------------------------------------------------
    def _rects(self, a: int, b: int) -> list[QRectF]:
        """One rectangle per laid-out line piece of Qt range [a, b), in viewport coordinates."""
        doc = self.document()
        block = doc.findBlock(a)
        offset = self.contentOffset()
        out: list[QRectF] = []
        while block.isValid() and block.position() < b:
            if block.isVisible():
                geo = self.blockBoundingGeometry(block).translated(offset)
                if geo.top() > self.viewport().height():
                    break
                layout = block.layout()
                base = block.position()
                lp = layout.position()
                for i in range(layout.lineCount()):
                    line = layout.lineAt(i)
                    ls = base + line.textStart()
                    le = ls + line.textLength()
                    s, e = max(a, ls), min(b, le)
                    if s >= e:
                        continue
                    x1 = line.cursorToX(s - base)[0]
                    x2 = line.cursorToX(e - base)[0]
                    out.append(QRectF(min(x1, x2) + lp.x() + offset.x(),
                                      geo.top() + line.y(), abs(x2 - x1), line.height()))
            block = block.next()
        return out

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.Antialiasing)
        self._paint_content_bars(painter)
        for qa, qb, strong in self._outlines:
            pen = QPen(OUTLINE, 2.2 if strong else 1.2)
            if not strong:
                pen.setStyle(Qt.DashLine)
            painter.setPen(pen)
            for r in self._rects(qa, qb):
                painter.drawRoundedRect(r.adjusted(-1.5, 0.5, 1.5, -0.5), 3, 3)
        painter.end()
        self.painted.emit()

    def _paint_content_bars(self, painter: QPainter) -> None:
        """A bar in the left margin beside each line of a claim's content (solid: accepted)."""
        x = self.document().documentMargin() / 2 + self.contentOffset().x()
        height = self.viewport().height()
        top = self.firstVisibleBlock().position()
        bottom = self.cursorForPosition(QPoint(0, height)).block()
        bottom_pos = bottom.position() + bottom.length()
        lo = bisect_left(self._bar_starts, top - self._bar_longest)
        hi = bisect_right(self._bar_starts, bottom_pos)
        for qa, qb, accepted in self._bars[lo:hi]:
            if qb < top:
                continue
            pen = QPen(CONTENT_BAR if accepted else CONTENT_BAR_SUGGESTED, 4 if accepted else 3)
            pen.setCapStyle(Qt.FlatCap)
            painter.setPen(pen)
            for r in self._rects(qa, qb):
                if r.top() > height:
                    break
                painter.drawLine(QPointF(x, r.top() + 1), QPointF(x, r.bottom() - 1))

    def _on_update_request(self, rect: QRect, dy: int) -> None:
        """Keep the gutter in step with the text: scrolled with it, or repainted where it was."""
        if dy:
            self._gutter.update()
        else:
            self._gutter.update(0, rect.y(), GUTTER, rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        r = self.contentsRect()
        self._gutter.setGeometry(QRect(r.left(), r.top(), GUTTER, r.height()))

    def paint_gutter(self, painter: QPainter) -> None:
        """Each graded claim's code beside the first line of its text."""
        if not self._codes:
            return
        height = self.viewport().height()
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.68))
        font.setBold(True)
        painter.setFont(font)
        top_block = self.firstVisibleBlock().position()
        for qa, qb, code in self._codes:
            if qb < top_block:
                continue
            rects = self._rects(qa, qb)
            if not rects:
                continue
            if rects[0].top() > height:
                break
            r = QRectF(2, rects[0].top() + 1, GUTTER - 4, min(rects[0].height() - 2, 18))
            painter.setPen(Qt.NoPen)
            painter.setBrush(CODE_PAPER)
            painter.drawRoundedRect(r, 3, 3)
            painter.setPen(CODE_INK)
            painter.drawText(r, Qt.AlignCenter, code)

    # -- mouse ----------------------------------------------------------------------------------------
    def _offset_at(self, pos: QPoint) -> int:
        return self._map.from_qt(self.cursorForPosition(pos).position())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if event.button() == Qt.LeftButton and not self.textCursor().hasSelection():
            self.clicked.emit(self._char_at(event.position().toPoint()))

    def _char_at(self, pos: QPoint) -> int:
        """The character under the mouse (not the nearest caret position)."""
        qpos = self.cursorForPosition(pos).position()
        for q in (qpos, qpos - 1):
            if q < 0:
                continue
            for r in self._rects(q, q + 1):
                if r.adjusted(-0.5, 0, 0.5, 0).contains(QPointF(pos)):
                    return self._map.from_qt(q)
        return self._map.from_qt(qpos)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.ToolTip and self.describe is not None:
            help_event: QHelpEvent = event  # type: ignore[assignment]
            lines = self.describe(self._char_at(help_event.pos())) if self._text else []
            if lines:
                # Plain text into markup: labels and model names are data.
                QToolTip.showText(help_event.globalPos(), "<p style='white-space:pre'>"
                                  + "<br>".join(html.escape(line) for line in lines) + "</p>",
                                  self.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self.context_requested.emit(self._char_at(event.pos()), event.globalPos())


class _Gutter(QWidget):
    """The strip left of the text where claims' Admiralty codes are written."""

    def __init__(self, view: ArticleView):
        super().__init__(view)
        self.view = view
        self.setAttribute(Qt.WA_OpaquePaintEvent)  # it fills what it paints: nothing beneath

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.view.viewport().palette().base())
        painter.setRenderHint(QPainter.Antialiasing)
        self.view.paint_gutter(painter)
        painter.end()
