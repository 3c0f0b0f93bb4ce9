"""The article as plain text with its spans drawn over it (layout formats), and the current one outlined."""
from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor, QContextMenuEvent, QFont, QHelpEvent, QMouseEvent, QPainter, QPaintEvent, QPen,
    QResizeEvent, QTextCharFormat, QSyntaxHighlighter, QTextCursor, QTextOption,
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

    def __init__(self, view: "ArticleView"):
        super().__init__(view.document())
        self.view = view

    def highlightBlock(self, text: str) -> None:
        b0 = self.currentBlock().position()
        for s, e, fmt in self.view.block_formats(b0, b0 + len(text) + 1):
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
        self.setWordWrapMode(QTextOption.WrapAtWordBoundaryOrAnywhere)
        font = QFont(self.font())
        font.setPointSizeF(max(11.5, font.pointSizeF() * 1.15))
        self.setFont(font)
        self.document().setDocumentMargin(18)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setObjectName("articleView")
        self._map = OffsetMap("")
        self._text = ""
        self._colours: dict[str, QColor] = {}
        self._spans: dict[int, Span] = {}
        # span id -> (layer, qt start, qt end, format) for each fragment
        self._pieces: dict[int, list[tuple[int, int, int, QTextCharFormat, bool]]] = {}
        self._outlines: list[tuple[int, int, bool]] = []  # qt start, qt end, strong?
        self._band: tuple[int, int] | None = None  # the current claim's content, qt range
        # One format object per (label, status) and per overlap combination: cheap to reuse.
        self._formats: dict[tuple[str, str], QTextCharFormat] = {}
        self._merged: dict[tuple[int, ...], QTextCharFormat] = {}
        self._sorted: list[tuple[int, int, int, QTextCharFormat, bool]] = []
        self._starts: list[int] = []
        self._longest = 0
        self._highlighter = _SpanHighlighter(self)
        self.setPlaceholderText("No article open")
        # What the hover tooltip says about a character (set by the presenter): lines of text.
        self.describe: Callable[[int], list[str]] | None = None
        self._codes: list[tuple[int, int, str]] = []  # qt start, qt end, Admiralty code
        self._gutter = _Gutter(self)
        self.setViewportMargins(GUTTER, 0, 0, 0)
        self.updateRequest.connect(lambda _rect, _dy: self._gutter.update())

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
        self._text = text
        self._map = OffsetMap(text)
        self._outlines = []
        self._band = None
        self._spans = {s.id: s for s in spans}
        self._pieces = {sid: self._make(s) for sid, s in self._spans.items()}
        self._index()
        self._codes = []
        # Qt's plain-text layout aligns every paragraph left; justified text is laid out
        # right-aligned in a right-to-left paragraph, so an article in such a script reads as
        # it should (left-to-right text is then justified too).
        option = self.document().defaultTextOption()
        option.setAlignment(Qt.AlignJustify if _RTL.search(text) else Qt.AlignLeft)
        self.document().setDefaultTextOption(option)
        # The highlighter colours each block as setPlainText lays it out: one pass, no extra.
        self.setPlainText(display_text(text))

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

    def _make(self, span: Span) -> list[tuple[int, int, int, QTextCharFormat, bool]]:
        key = (span.label, span.status)
        fmt = self._formats.get(key)
        if fmt is None:
            fmt = self._formats[key] = span_format(span, self._colours)
        layer = _LAYER.get(span.label, 1)
        # A rejected span gives way: where it overlaps anything not rejected, its grey and its
        # strike-through are not drawn (a rejected claim never greys the entities inside it).
        recessive = span.status == "rejected"
        return [(layer, *self._map.range_to_qt(a, b), fmt, recessive)
                for a, b in (span.fragments or [[span.start, span.end]])]

    def _index(self) -> None:
        """Pieces sorted by start, for finding those that touch a block."""
        self._sorted = sorted((p for ps in self._pieces.values() for p in ps), key=lambda p: p[1])
        self._starts = [p[1] for p in self._sorted]
        self._longest = max((p[2] - p[1] for p in self._sorted), default=0)

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
        self._outlines = outlines
        if focus is not None and reveal:
            self._reveal(*focus)
        self.viewport().update()

    def _reveal(self, start: int, end: int) -> None:
        qa, qb = self._map.range_to_qt(start, end)
        rects = self._rects(qa, qb)
        height = self.viewport().height()
        if rects and rects[0].top() >= 0 and rects[-1].bottom() <= height:
            return  # already in view: moving the caret would cost a relayout for nothing
        cur = QTextCursor(self.document())
        cur.setPosition(self._map.to_qt(end))
        self.setTextCursor(cur)
        self.ensureCursorVisible()
        cur.setPosition(self._map.to_qt(start))
        self.setTextCursor(cur)
        self.ensureCursorVisible()

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
        top_block = self.firstVisibleBlock().position()
        for s in self._spans.values():
            if s.label != "Content":
                continue
            if s.status == "rejected":
                continue
            qa, qb = self._map.range_to_qt(s.start, s.end)
            if qb < top_block:
                continue
            accepted = s.status == "accepted"
            pen = QPen(CONTENT_BAR if accepted else CONTENT_BAR_SUGGESTED, 4 if accepted else 3)
            pen.setCapStyle(Qt.FlatCap)
            painter.setPen(pen)
            for r in self._rects(qa, qb):
                if r.top() > height:
                    break
                painter.drawLine(QPointF(x, r.top() + 1), QPointF(x, r.bottom() - 1))

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

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.view.viewport().palette().base())
        painter.setRenderHint(QPainter.Antialiasing)
        self.view.paint_gutter(painter)
        painter.end()
