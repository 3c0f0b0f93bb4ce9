"""The article as plain text with its spans drawn over it (ExtraSelections), and the current one outlined."""
from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor, QContextMenuEvent, QFont, QMouseEvent, QPainter, QPaintEvent, QPen, QTextCharFormat,
    QTextCursor, QTextOption,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

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


def safe_colour(value: str | None, fallback: str = _FALLBACK) -> QColor:
    """A colour from the project file, or the fallback: a label's colour is data, not markup."""
    c = QColor(value) if isinstance(value, str) else QColor()
    return c if c.isValid() else QColor(fallback)


def _mix(colour: QColor, amount: float) -> QColor:
    """`amount` of the colour over white (a lighter tint that keeps the hue)."""
    return QColor(round(255 - (255 - colour.red()) * amount),
                  round(255 - (255 - colour.green()) * amount),
                  round(255 - (255 - colour.blue()) * amount))


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


class ArticleView(QPlainTextEdit):
    """Read-only plain text (never HTML); spans are ExtraSelections keyed by span id."""

    clicked = Signal(int)                    # code-point offset under a plain left click
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
        self._sels: dict[int, list[QTextEdit.ExtraSelection]] = {}
        self._order: list[int] = []
        self._outlines: list[tuple[int, int, bool]] = []  # qt start, qt end, strong?
        self._band: list[QTextEdit.ExtraSelection] = []  # the current claim's content
        self.setPlaceholderText("No article open")

    # -- content ----------------------------------------------------------------------------------
    @property
    def offsets(self) -> OffsetMap:
        return self._map

    def set_colours(self, labels: Iterable[dict]) -> None:
        self._colours = {lab["name"]: safe_colour(lab.get("colour")) for lab in labels}

    def show_document(self, text: str, spans: Iterable[Span]) -> None:
        """Show a new article (plain text only) with all its spans."""
        self._text = text
        self._map = OffsetMap(text)
        self._outlines = []
        self._band = []
        self.setPlainText(display_text(text))
        self._spans = {s.id: s for s in spans}
        self._sels = {sid: self._make(s) for sid, s in self._spans.items()}
        self._reorder()
        self._apply()

    def clear_document(self) -> None:
        self.show_document("", [])

    def update_spans(self, spans: Iterable[Span]) -> set[int]:
        """Bring the drawing in line with the article's spans, rebuilding only what changed."""
        new = {s.id: s for s in spans}
        changed = {sid for sid, s in new.items() if self._spans.get(sid) != s}
        removed = set(self._spans) - set(new)
        if not changed and not removed:
            return set()
        reorder = bool(removed) or any(
            sid not in self._spans or (self._spans[sid].start, self._spans[sid].end,
                                       self._spans[sid].label) != (new[sid].start, new[sid].end,
                                                                   new[sid].label)
            for sid in changed)
        for sid in removed:
            self._sels.pop(sid, None)
        for sid in changed:
            self._sels[sid] = self._make(new[sid])
        self._spans = new
        if reorder:
            self._reorder()
        self._apply()
        return changed | removed

    def _make(self, span: Span) -> list[QTextEdit.ExtraSelection]:
        fmt = span_format(span, self._colours)
        out = []
        for a, b in (span.fragments or [[span.start, span.end]]):
            sel = QTextEdit.ExtraSelection()
            cur = QTextCursor(self.document())
            qa, qb = self._map.range_to_qt(a, b)
            cur.setPosition(qa)
            cur.setPosition(qb, QTextCursor.KeepAnchor)
            sel.cursor = cur
            sel.format = fmt
            out.append(sel)
        return out

    def _reorder(self) -> None:
        spans = self._spans
        self._order = sorted(spans, key=lambda sid: (_LAYER.get(spans[sid].label, 1),
                                                     spans[sid].start, -spans[sid].end, sid))

    def _apply(self) -> None:
        sels = self._sels
        self.setExtraSelections(self._band + [s for sid in self._order for s in sels[sid]])

    # -- the current span ---------------------------------------------------------------------------
    def set_current(self, focus: tuple[int, int] | None,
                    others: Iterable[tuple[int, int]] = (), reveal: bool = True,
                    band: tuple[int, int] | None = None) -> None:
        """Outline the current span (strong) and the other parts of its claim (light); `band`
        shades the current claim's content."""
        band_sels = []
        if band is not None:
            sel = QTextEdit.ExtraSelection()
            cur = QTextCursor(self.document())
            qa, qb = self._map.range_to_qt(*band)
            cur.setPosition(qa)
            cur.setPosition(qb, QTextCursor.KeepAnchor)
            sel.cursor = cur
            fmt = QTextCharFormat()
            fmt.setBackground(CONTENT_BAND)
            sel.format = fmt
            band_sels.append(sel)
        if band_sels or self._band:
            self._band = band_sels
            self._apply()
        outlines = []
        if focus is not None:
            outlines.append((*self._map.range_to_qt(*focus), True))
        outlines += [(*self._map.range_to_qt(a, b), False) for a, b in others]
        self._outlines = outlines
        if focus is not None and reveal:
            self._reveal(*focus)
        self.viewport().update()

    def _reveal(self, start: int, end: int) -> None:
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

    def _paint_content_bars(self, painter: QPainter) -> None:
        """A bar in the left margin beside each line of a claim's content (solid: accepted)."""
        x = self.document().documentMargin() / 2 + self.contentOffset().x()
        height = self.viewport().height()
        top_block = self.firstVisibleBlock().position()
        for sid in self._order:
            s = self._spans[sid]
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

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self.context_requested.emit(self._char_at(event.pos()), event.globalPos())
