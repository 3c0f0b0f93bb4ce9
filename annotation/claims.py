"""Claim (attribution) detection from the spaCy parse: cue, its source and its content.

Candidates come from the parse alone (verbs, nouns with a clausal complement, "according
to"; with a learned model also every noun, adjective and a colon); a cue decider says which
candidates are cues and how far each cue reaches: the built-in lexicon (annotation/cues.py)
or a learned claim model (annotation/claim_model.py). The source is found through the
dependency tree (subject, passive agent, the noun a relative clause modifies, the subject of
the governing verb for "…, saying"), the content through the complement clause, the object
or — when the cue follows what is claimed ("X did Y, Reuters reported") — the clause
before it. Where a rule has a choice (cut a trailing aside? keep a relative clause in the
source?) it asks the decider (`CueDecider.keep`): the lexicon answers with the rule, a
learned model with what it learned from decided data.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from .cues import builtin_lexicon

if TYPE_CHECKING:
    from spacy.tokens import Token

SURE_CUE = 0.6  # a cue this sure stands even when neither its source nor its content is found
QUOTES = "\"'“”‘’«»„‟`"
_SUBJ = ("nsubj",)
_COMP = ("ccomp", "xcomp")
_UP = ("advcl", "conj", "xcomp", "acl")  # "…, saying", "X stood and said", "wants to say"
_NP_LEFT = ("det", "amod", "compound", "poss", "nummod", "nmod", "case", "punct", "quantmod",
            "advmod", "npadvmod")


@dataclass
class ClaimSuggestion:
    """One detected attribution: character offsets (end-exclusive) into doc.text."""
    cue: tuple[int, int]
    source: tuple[int, int] | None
    content: tuple[int, int] | None
    key: str = ""  # the cue key (lemma|KIND) that triggered it


@dataclass
class CueCandidate:
    """A token that could be a cue, with the tokens of its cue span and its lexicon key."""
    head: Token
    tokens: list[Token]
    key: str
    score: float = 1.0  # how sure the decider is that this is a cue (1.0 for a lexicon)


@dataclass(frozen=True)
class Decision:
    """A choice the rules leave open while building a part: keep `child` (and its subtree)?

    kind: "content-cut" (a dependent at the right edge of the content's clause: keep it?),
    "content-extend" (a later dependent of the cue after its object: does the content run on
    over it?), "source-child" (a dependent of the source's head noun: keep it?),
    "content-resume" (`“…,” he said. “…”`: does the content resume in the quotation that
    starts at `child`, after the one ending at `anchor`?).
    """
    kind: str
    cue: CueCandidate
    anchor: Token  # the head of the part being built
    child: Token   # the dependent in question
    default: bool   # what the rules alone would do
    tokens: tuple[int, int] | None = None  # the tokens in question [first, last]: else child's subtree

    def token_range(self) -> tuple[int, int]:
        if self.tokens is not None:
            return self.tokens
        return self.child.left_edge.i, self.child.right_edge.i


class CueDecider(Protocol):
    """What claim detection asks of a cue lexicon or a learned claim model."""

    @property
    def learned(self) -> bool:
        """A learned decider: quotations whole, candidates of every kind."""
        ...

    def accept(self, doc, candidates: list[CueCandidate]) -> list[CueCandidate]:
        """The candidates that are cues, each with its cue tokens (grown to the cue's extent)."""
        ...

    def dobj_is_content(self, key: str) -> bool:
        """Is the direct object of a cue with this key what is claimed (not an addressee)?"""
        ...

    def keep(self, doc, decision: Decision) -> bool:
        """The answer to one open choice (the lexicon: `decision.default`)."""
        ...

    def choose(self, doc, cand: CueCandidate, options: list[PartOption]) -> int | None:
        """Which reading of a source or content to take, None for none (the lexicon: 0, the
        rules' first)."""
        ...


def cue_candidates(doc, broad: bool = False) -> list[CueCandidate]:
    """Every cue candidate the parse offers, before any decider is asked.

    `broad` also offers every noun and adjective (stance and evidence words: "the claim",
    "were frustrated"), participles, and a colon before what someone says ("Clinton: …");
    a learned model decides among them.
    """
    out: list[CueCandidate] = []
    for t in doc:
        low = t.lower_
        if low == "according" and t.i + 1 < len(doc) and doc[t.i + 1].lower_ == "to":
            out.append(CueCandidate(t, [t, doc[t.i + 1]], "according to|PHRASE"))
        elif t.pos_ == "VERB" and (broad or t.dep_ not in ("amod", "compound")):
            # Particles and negation belong to the cue: "pointed out", "did not deny".
            extra = [c for c in t.children if c.dep_ in ("prt", "neg")]
            out.append(CueCandidate(t, sorted([t, *extra], key=lambda x: x.i),
                                    f"{t.lemma_.lower()}|VERB"))
        elif t.pos_ == "NOUN" and (broad or any(c.dep_ in ("acl", "ccomp") and _is_clause(c)
                                                for c in t.children)):
            out.append(CueCandidate(t, [t], f"{t.lemma_.lower()}|NOUN"))
        elif broad and t.pos_ == "ADJ" and t.dep_ in ("acomp", "ROOT", "amod", "conj"):
            out.append(CueCandidate(t, [t], f"{t.lemma_.lower()}|ADJ"))
        elif broad and t.text == ":" and t.i > t.sent.start and t.i + 1 < t.sent.end:
            out.append(CueCandidate(t, [t], ":|PUNCT"))
    return out


def in_quotes(doc, t) -> bool:
    """Is the token inside a quotation (an odd number of quote marks before it in its sentence)?"""
    n = sum(1 for x in doc[t.sent.start:t.i] if x.text in QUOTES and x.text not in ("'", "’"))
    return n % 2 == 1


def _is_clause(t) -> bool:
    return t.pos_ in ("VERB", "AUX") and any(c.dep_ == "mark" and c.lower_ in ("that", "whether", "if")
                                             for c in t.children) or t.dep_ == "ccomp"


def detect_claims(doc, cues: CueDecider | None = None) -> list[ClaimSuggestion]:
    """Attributions in a parsed spaCy Doc, each with cue, source and content offsets.

    `cues`: the built-in lexicon when None, else any cue decider (a CueLexicon, a ClaimModel).
    """
    decider: CueDecider = cues if cues is not None else builtin_lexicon()
    quotes = QuoteIndex(doc) if decider.learned else None
    frames = []
    taken: set[int] = set()
    # Cues sharing a token keep the surer one ("released a statement saying" is one cue).
    accepted = decider.accept(doc, cue_candidates(doc, broad=decider.learned))
    for cand in sorted(accepted, key=lambda c: -c.score):
        ids = {x.i for x in cand.tokens}
        if ids & taken:
            continue
        frame = build_frame(doc, cand, decider, quotes)
        if frame is not None:
            taken |= ids
            frames.append(frame)
    frames.sort(key=lambda f: f["cue"][0].i)
    _cut_nested(frames)
    text = doc.text  # built on each access in spaCy: read once
    out = []
    for f in frames:
        cue = (f["cue"][0].idx, _end(f["cue"][-1]))
        source = char_span(text, f["source"])
        content = content_chars(text, f["content"], cue, quotes.spans if quotes else None)
        out.append(ClaimSuggestion(cue=cue, source=source, content=content, key=f["key"]))
    return out


class QuoteIndex:
    """The quotations of a Doc (see `quotations`), as character spans and as token ranges."""

    def __init__(self, doc):
        self.text = doc.text  # built on each access in spaCy: read once
        self.spans = quotations(self.text)
        starts = [t.idx for t in doc]
        self.tokens = [(bisect_right(starts, a) - 1, bisect_left(starts, b) - 1) for a, b in self.spans]


def content_chars(text: str, tokens, cue: tuple[int, int], quotes: list | None
                  ) -> tuple[int, int] | None:
    """A content's character span; with `quotes` (quotations(text)), quotations it reaches
    into are taken whole."""
    content = char_span(text, tokens, quotes=True)
    if content is not None and quotes is not None:
        content = _whole_quotes(content, cue, quotes)
    return content


def build_frame(doc, cand: CueCandidate, decider: CueDecider,
                quotes: QuoteIndex | None = None) -> dict | None:
    """One cue's frame: {"cue", "key", "source", "content" (token lists or None), "backward"}.

    None when neither a source nor a content is found. `quotes`: the Doc's QuoteIndex (a
    learned decider resumes a content in the quotations after its cue).
    """
    t = cand.head

    def ask(kind: str, anchor, child, default: bool) -> bool:
        return decider.keep(doc, Decision(kind, cand, anchor, child, default))

    if cand.key.endswith("|PHRASE"):
        return _according_to(doc, cand)
    if cand.key.endswith("|PUNCT"):
        return _colon(doc, cand)
    if cand.key.endswith("|NOUN"):
        comp = next((c for c in t.children if c.dep_ in ("acl", "ccomp") and _is_clause(c)), None)
        src = next((c for c in t.children if c.dep_ == "poss"), None)
        if src is None:
            src = _prep_object(t, ("by", "from") if comp is None else ("by", "from", "of"))
        if comp is not None:
            content = _trim(_prune_right(comp, _subtree_tokens(comp), ask, decider.learned))
        else:
            # "his support for Clinton", "concerns about the deal": the prepositional object.
            obj = _prep_object(t, ("for", "about", "of", "on", "over", "against", "with"))
            content = (_trim(_prune_right(obj, _subtree_tokens(obj), ask, decider.learned))
                       if obj is not None else None)
        if content is None and src is None:
            return None
        return {"cue": cand.tokens, "key": cand.key, "backward": False,
                "source": _np(src, ask=ask) if src is not None else None, "content": content}
    if cand.key.endswith("|ADJ"):
        # "X were frustrated with Y": the subject of the copula, the object of the preposition.
        anchor = t.head if t.dep_ == "acomp" else t
        found = _pick(doc, cand, decider, source_options(doc, cand, decider, anchor))
        source = found.tokens if found is not None else None
        comp = next((c for c in t.children if c.dep_ in _COMP), None)
        obj = _prep_object(t, ("with", "about", "of", "over", "by", "at", "for", "on"))
        part = comp if comp is not None else obj
        content = (_trim(_prune_right(part, _subtree_tokens(part), ask, decider.learned))
                   if part is not None else None)
        if content is None and source is None:
            return None
        return {"cue": cand.tokens, "key": cand.key, "source": source, "content": content,
                "backward": False}
    found = _pick(doc, cand, decider, source_options(doc, cand, decider))
    source = found.tokens if found is not None else None
    reading = _pick(doc, cand, decider, content_options(doc, cand, source, decider, quotes))
    content, backward = (reading.tokens, reading.backward) if reading is not None else (None, False)
    if content is None and source is None and not (decider.learned and cand.score >= SURE_CUE):
        return None
    return {"cue": cand.tokens, "key": cand.key, "source": source, "content": content,
            "backward": backward}


def _colon(doc, cand: CueCandidate) -> dict | None:
    """`Clinton: “…”`, `The result: …`: a short name before a colon, what follows it."""
    colon = cand.head
    sent = colon.sent
    left = [x for x in doc[sent.start:colon.i] if not x.is_space]
    # The speaker is the run of words just before the colon, back to a punctuation mark.
    while left and any(x.is_punct and x.text not in QUOTES for x in left[:-1]):
        left = left[next(k for k, x in enumerate(left) if x.is_punct) + 1:]
    source = _trim(left) if 0 < len(left) <= 6 and any(
        x.pos_ in ("PROPN", "NOUN", "PRON") for x in left) else None
    quoted = _quote_after(doc, colon)
    # What follows, to the end of its line (a headline runs into the next paragraph unstopped).
    rest: list[Token] = []
    for x in doc[colon.i + 1:sent.end]:
        if "\n" in x.text and rest:
            break
        if not x.is_space:
            rest.append(x)
    content = quoted or _trim(rest)
    if source is None or content is None:
        return None
    return {"cue": cand.tokens, "key": cand.key, "source": source, "content": content,
            "backward": False}


def _according_to(doc, cand: CueCandidate) -> dict | None:
    acc, to = cand.tokens
    obj = next((c for c in to.children if c.dep_ == "pobj"), None)
    if obj is None:
        obj = next((c for c in acc.children if c.dep_ == "pobj"), None)
    source = _subtree(obj) if obj is not None else None
    # The claim is the clause "according to X" modifies (climb from a noun to its verb).
    head = acc.head
    while head.pos_ not in ("VERB", "AUX") and head.head.i != head.i:
        head = head.head
    # Only "according to X" itself: the parser sometimes hangs the whole clause under it.
    frame_tokens = {acc.i, to.i} | ({x.i for x in obj.subtree} if obj is not None else set())
    sent = acc.sent
    if acc.i == sent.start or doc[acc.i - 1].is_punct and acc.i - 1 == sent.start:
        # Sentence-initial "According to X, Y": content follows.
        rest = [x for x in sent if x.i > max(frame_tokens) and not x.is_space]
    else:
        rest = [x for x in _subtree_tokens(head)
                if x.i not in frame_tokens and sent.start <= x.i < sent.end]
        if acc.i > head.i:
            rest = [x for x in rest if x.i < acc.i]
    content = _trim(rest)
    return {"cue": cand.tokens, "key": cand.key, "source": source, "content": content,
            "backward": acc.i > (content[0].i if content else acc.i)}


def source_options(doc, cand: CueCandidate, decider: CueDecider, anchor=None) -> list[PartOption]:
    """Every reading of a cue's source, in the rules' order of preference (the rules take the
    first): passive agent, subject, the noun phrase just before the cue, the noun a relative
    clause modifies, the subject of the governing verb; for a learned decider also the noun
    phrase after the cue ("“Amazing,” responded Abedin"). Each kept within the cue's paragraph.
    """
    t = anchor if anchor is not None else cand.head
    options: list[PartOption] = []
    add = _adder(doc, cand, decider, "source", options)
    passive = any(c.dep_ == "auxpass" for c in t.children)
    for c in t.children:
        if c.dep_ == "agent":
            obj = next((g for g in c.children if g.dep_ == "pobj"), None)
            if obj is not None:
                add("agent", lambda ask, obj=obj: _np(obj, ask=ask))
                break
    more = decider.learned and SUBJ_MORE
    if not passive:
        for c in t.children:
            if c.dep_ in _SUBJ and c.lower_ not in ("it", "there"):
                add("subject", lambda ask, c=c: _np(c, ask=ask))
            elif c.dep_ in _SUBJ and more:
                # "It also accused another reporter …": a learned decider weighs "it" too.
                add("subject-it", lambda ask, c=c: _np(c, ask=ask))
    # Parser misses ("…, reliable source told X" parsed as an agent, "…but X's source denied"
    # as a conjunct): the noun phrase just before the cue, read from the POS tags.
    if t.i > t.sent.start and t.dep_ != "relcl":
        prev = doc[t.i - 1]
        if prev.pos_ in ("NOUN", "PROPN", "PRON"):
            add("before-cue", lambda ask: _np(prev, left_only=True))
    if t.dep_ == "relcl" and t.head.pos_ in ("NOUN", "PROPN", "PRON"):
        add("relative-head", lambda ask: _np(t.head, stop=t, ask=ask))
    gov = t.head if t.dep_ in _UP else None
    if more and t.dep_ == "pcomp" and t.head.dep_ == "prep":
        gov = t.head.head  # "by denouncing …", "before adding that …": the verb the phrase hangs from
    if gov is not None and gov.i != t.i and gov.pos_ in ("VERB", "AUX"):
        up = gov
        found, via = 0, t.dep_
        climb = decider.learned and GOVERNOR_UP
        for _ in range(5 if climb else 3):
            subj = next((c for c in up.children if c.dep_ in _SUBJ), None)
            # A clause before its verb ("Conceding that …, he warned"): the subject after it.
            if subj is not None and (subj.i < t.i or more and found == 0 and t.i < subj.i < up.i):
                # A learned decider may climb on past the first subject ("Trump told Newsmax
                # that Romney “had …”, adding …": the parse hangs "adding" inside the content).
                name = "governor-subject" if found == 0 else f"governor-subject-up|{via}"
                add(name, lambda ask, subj=subj: _np(subj, ask=ask))
                found += 1
                if not climb or found >= 2:
                    break
            if up.dep_ not in _UP + (("ccomp", "parataxis") if climb else ()) or up.head.i == up.i:
                break
            via = up.dep_
            up = up.head
    subject = next((o.tokens for o in options if o.name == "subject" and o.tokens), None)
    if decider.learned and (subject is None or _quoted(subject)):
        # Inverted: "“Amazing,” responded Abedin", "said her campaign workers".
        end = max(x.i for x in cand.tokens)
        after = next((x for x in doc[end + 1:min(end + 4, t.sent.end)]
                      if x.pos_ in ("PROPN", "NOUN", "PRON")), None)
        if after is not None:
            add("after-cue", lambda ask: _np(after, ask=ask))
    for opt in options:
        opt.tokens = _in_paragraph(opt.tokens, t)
    return options


GOVERNOR_UP = True
SUBJ_MORE = True


def _in_paragraph(tokens: list[Token] | None, t: Token) -> list[Token] | None:
    """The run of tokens between line breaks that lies closest to t."""
    if not tokens or not any("\n" in x.text for x in tokens):
        return tokens
    runs: list[list[Token]] = [[]]
    for x in tokens:
        if "\n" in x.text:
            runs.append([])
        else:
            runs[-1].append(x)
    return _trim(min((r for r in runs if r), key=lambda r: min(abs(x.i - t.i) for x in r)))


def _quoted(tokens) -> bool:
    """Do the tokens open with, or follow, a quote mark (a quotation, not a speaker)?"""
    first = tokens[0]
    return first.text in QUOTES or first.i > 0 and first.doc[first.i - 1].text in QUOTES


def _adder(doc, cand: CueCandidate, decider: CueDecider, role: str, options: list):
    """add(name, build, backward=False): build an option, recording the choices it asks."""
    def add(name: str, build, backward: bool = False) -> None:
        decisions: list[Decision] = []

        def ask(kind: str, anchor, child, default: bool, span=None) -> bool:
            d = Decision(kind, cand, anchor, child, default, span)
            decisions.append(d)
            return decider.keep(doc, d)
        options.append(PartOption(role, name, build(ask), backward, decisions))
    return add


def _pick(doc, cand: CueCandidate, decider: CueDecider, options: list[PartOption]):
    k = decider.choose(doc, cand, options) if options else None
    return options[k] if k is not None else None


EXT_DEPS = ("oprd", "xcomp", "acomp", "ccomp")
ASIDE_DEPS = ("advcl", "parataxis", "npadvmod")
CONTENT_PREPS = ("about", "against", "at", "on", "for", "of", "to", "with", "over", "in")


@dataclass
class PartOption:
    """One reading of a claim's source or content: its tokens, built by one rule (`name`).

    `backward`: a content before its cue. `decisions`: the open choices asked while building
    it (a learner replaying decided data keeps those of the right reading only).
    """
    role: str  # "source" or "content"
    name: str
    tokens: list | None
    backward: bool = False
    decisions: list[Decision] = field(default_factory=list)


def content_options(doc, cand: CueCandidate, source, decider: CueDecider,
                    quotes: QuoteIndex | None = None) -> list[PartOption]:
    """Every reading of a verb cue's content, in the rules' order of preference.

    The rules take the first (for the lexicon the list stops after the first kind that
    applies); a learned decider may choose another (`CueDecider.choose`); its readings stay
    in the cue's paragraph. With `quotes`, a reading before the cue that ends in a quotation
    may resume after it (`“…,” he said. “…”`).
    """
    t = cand.head
    learned = decider.learned
    sent = t.sent
    options: list[PartOption] = []
    plain = _adder(doc, cand, decider, "content", options)

    def add(name: str, build, backward: bool = False) -> None:
        if learned:
            # A reading stays in the cue's paragraph (quotations resumed after the cue aside).
            def build(ask, whole=build):
                return _in_paragraph(whole(ask), t)
        if backward and quotes is not None:
            plain(name, lambda ask: _resume_quotes(doc, cand, build(ask), ask, quotes), backward)
        else:
            plain(name, build, backward)
    comps = [c for c in t.children if c.dep_ in _COMP]
    right = [c for c in comps if c.i > t.i]
    left = [c for c in comps if c.i < t.i]
    # "“…,” Farage said, the warning was …": a learned decider weighs both complements.
    if right and (not left or learned):
        add("complement", lambda ask: _trim(
            _prune_right(right[0], _subtree_tokens(right[0]), ask, learned)))
    if left:
        add("complement-before", lambda ask: _trim(
            _extend_left_to_quote(doc, _subtree_tokens(left[0]))), backward=True)
    quoted = _quote_after(doc, t)
    if quoted:
        add("quotation", lambda ask: quoted)
    obj = next((c for c in t.children if c.dep_ == "dobj" and c.i > t.i), None)
    if obj is not None and decider.dobj_is_content(cand.key):
        # "slammed the shift as a conversion", "accusing her of lying": the object's
        # predicate belongs to what is claimed.
        add("object", lambda ask: _trim(
            _cut_asides(obj, _extend_right(t, obj, _subtree_tokens(obj), ask), ask)
            if learned else _subtree_tokens(obj)))
    if learned:
        subj = next((c for c in t.children if c.dep_ == "nsubjpass"), None)
        if (subj is not None and subj.lower_ not in ("it", "there")
                and any(c.dep_ == "auxpass" for c in t.children)):
            add("passive-subject", lambda ask: _np(subj), backward=True)
        prep = next((c for c in t.children if c.dep_ == "prep" and c.i > t.i
                     and c.lower_ in CONTENT_PREPS), None)
        pobj = next((g for g in prep.children if g.dep_ in ("pobj", "pcomp")), None) if prep else None
        if pobj is not None:
            add("prep-object", lambda ask: _trim(
                _cut_asides(pobj, _extend_right(t, prep, _subtree_tokens(pobj), ask), ask)))
    if options and not learned:
        return options
    # Inverted: "X did Y, Reuters reported" with the cue hanging off the claimed clause.
    start = min([t.i] + ([source[0].i] if source else []))
    comma_before = start > 0 and doc[start - 1].is_punct
    # "The plan, an inside source said, is to …": the claim resumes after the attribution.
    aside = learned and t.i + 1 < sent.end and doc[t.i + 1].text == ","
    if t.dep_ in ("parataxis", "ccomp", "advcl", "conj") and t.head.i < t.i and comma_before:
        own = set(_subtree_tokens(t))
        tokens = [x for x in _subtree_tokens(t.head)
                  if (x.i < start or aside and x.i > t.i + 1) and x.i not in own]
        if tokens:
            add("host-clause", lambda ask: _trim(tokens), backward=True)
    before = [x for x in sent if x.i < start]
    if len([x for x in before if not x.is_punct]) >= 3 and comma_before:
        if aside:
            before += [x for x in sent if x.i > t.i + 1 and not x.is_space]
        add("before", lambda ask: _trim(before), backward=True)
    # Quote in the previous sentence ("“…,” he said." split by the sentencizer).
    if start == sent.start and sent.start > 0:
        prev = doc[sent.start - 1].sent
        if any(x.text in QUOTES for x in prev):
            add("previous-quote", lambda ask: _trim(list(prev)), backward=True)
    if learned:
        quoted = _quote_before(doc, min(x.i for x in cand.tokens))
        if quoted:
            # "“Amazing,” responded Abedin": the quotation just before the cue.
            add("quotation-before", lambda ask: quoted, backward=True)
        # "Clinton appeared to gain", "he was described as serious": the whole clause.
        add("clause", lambda ask: _trim([x for x in _subtree_tokens(t)
                                         if sent.start <= x.i < sent.end]))
    return options


def _quote_before(doc, i: int):
    """A quotation closing just before token i ("“…,” said X"), marks included."""
    j = i - 1
    while j >= 0 and (doc[j].is_space or doc[j].text in (",", "—")):
        j -= 1
    if j < 1 or doc[j].text not in ("”", '"', "''"):
        return None
    for k in range(j - 1, max(-1, j - 400), -1):
        x = doc[k]
        if "\n" in x.text:
            return None
        if x.text in ("“", '"', "``"):
            return list(doc[k:j + 1])
        if x.text in ("”", "''"):
            return None
    return None


def _is_aside(c) -> bool:
    """A trailing aside set off by a comma or dash (", notably …", "— asserting")."""
    if c.dep_ not in ASIDE_DEPS:
        return False
    first = c.left_edge.i
    return first > 0 and c.doc[first - 1].text in (",", "—", "--", "–", ";")


def _prune_right(anchor, tokens, ask=None, learned: bool = True):
    """The content ends before the first right dependent of its head that does not belong to it.

    The rule cuts a trailing aside (when `learned`); a decider may answer otherwise, and may
    end the content at an aside further down its right edge (`_cut_asides`).
    """
    cut = None
    for c in anchor.rights:
        if c.is_punct or c.is_space:
            continue
        default = not (learned and _is_aside(c))
        keep = ask("content-cut", anchor, c, default) if ask is not None else default
        if not keep:
            cut = c.left_edge.i
            break
    if cut is None and learned and ask is not None:
        return _cut_asides(anchor, tokens, ask)
    return tokens if cut is None else [x for x in tokens if x.i < cut]


_DEEP_ASIDES = ("relcl", "appos", "acl", "advcl", "conj", "parataxis", "npadvmod")


def _cut_asides(anchor, tokens, ask):
    """Below the content's head, down its right edge: a dependent set off by a comma or dash
    (", which allows …", ", a longstanding provision …") may end the content; a decider says."""
    if not tokens:
        return tokens
    ids = {x.i for x in tokens}
    x = anchor
    for _ in range(20):
        rights = [c for c in x.rights if not (c.is_punct or c.is_space) and c.i in ids]
        if not rights:
            break
        if x is not anchor:
            for c in rights:
                first = c.left_edge.i
                if (c.dep_ in _DEEP_ASIDES and first > 0
                        and c.doc[first - 1].text in (",", "—", "--", "–", ";", "(")):
                    if not ask("content-cut-deep", x, c, True):
                        return [y for y in tokens if y.i < first]
        x = rights[-1]
    return tokens


def _extend_right(t, anchor, tokens, ask=None):
    """The content runs on over later dependents of the cue that complete what is claimed.

    The rule takes predicates of the object (oprd, xcomp, acomp, ccomp, "as …"); a decider
    may take others ("accusing her of lying", "put his worth at $45 billion").
    """
    ids = {x.i for x in tokens}
    end = max(ids)
    for c in t.rights:
        if c.i <= anchor.i or c.is_punct or c.is_space:
            continue
        default = c.dep_ in EXT_DEPS or c.dep_ == "prep" and c.lower_ == "as"
        keep = ask("content-extend", anchor, c, default) if ask is not None else default
        if not keep:
            break
        sub = _subtree_tokens(c)
        if min(x.i for x in sub) > end + 2:  # something else lies between: not a continuation
            break
        tokens = tokens + sub
        end = max(end, max(x.i for x in sub))
    return _contiguous(sorted(set(tokens), key=lambda x: x.i), anchor if anchor.i in {
        x.i for x in tokens} else tokens[0])


_OPEN, _CLOSE, _BOTH = ("“", "``"), ("”",), ('"', "''")
_QUOTE_MARK = re.compile(r"``|''|[“”\"]")
MAX_QUOTE = 2000  # characters: longer "quotations" are unpaired marks


def quotations(text: str) -> list[tuple[int, int]]:
    """Character spans of quotations (marks included), paired within each paragraph."""
    out = []
    pos = 0
    for para in text.split("\n"):
        start = None
        for m in _QUOTE_MARK.finditer(para):
            mark = m.group()
            if start is None:
                if mark not in _CLOSE:
                    start = pos + m.start()
            elif mark not in _OPEN:
                if pos + m.end() - start <= MAX_QUOTE:
                    out.append((start, pos + m.end()))
                start = None
            else:
                start = pos + m.start()  # two openings: the first was unpaired
        pos += len(para) + 1
    return out


def _whole_quotes(content: tuple[int, int], cue: tuple[int, int], quotes) -> tuple[int, int]:
    """A content that reaches into a quotation takes all of it (many quotes run over sentences)."""
    s, e = content
    for qs, qe in quotes:
        if qe <= s or qs >= e or qs <= cue[0] < qe:
            continue
        s, e = min(s, qs), max(e, qe)
    return s, e


_CLOSING = ("”", '"', "''")
MAX_RESUMED = 4  # quotations a content may resume in


def _resume_quotes(doc, cand: CueCandidate, tokens, ask, quotes: QuoteIndex):
    """`“…,” he said. “…”`: a content ending in a quotation before its cue may go on in the
    quotations after the cue. The rule resumes in the next one when only a short stretch
    ending in "." "," or ":" lies between; a decider may resume further (next paragraph, …)."""
    if not tokens:
        return tokens
    last = tokens[-1].i
    first_cue, last_cue = min(x.i for x in cand.tokens), max(x.i for x in cand.tokens)
    close = next((k for k in range(last, min(last + 3, len(doc))) if doc[k].text in _CLOSING), None)
    if close is None or close >= first_cue:
        return tokens
    text = quotes.text
    anchor = doc[close]
    resumed = 0
    for a, b in quotes.tokens:
        if a <= last_cue or resumed >= MAX_RESUMED:
            continue
        between = text[_end(anchor):doc[a].idx]
        default = (resumed == 0 and len(text[_end(anchor):cand.tokens[0].idx]) <= 60
                   and len(text[_end(cand.tokens[-1]):doc[a].idx]) <= 120 and "\n" not in between
                   and between.rstrip()[-1:] in (".", ",", ":"))
        if not ask("content-resume", anchor, doc[a], default, (a, b)):
            break
        tokens = tokens + list(doc[a:b + 1])
        anchor = doc[b]
        resumed += 1
    return tokens


def _quote_after(doc, t):
    """`said: “…”` / `telling them, “…”`: a quotation opening within a few tokens after the cue."""
    sent_end = t.sent.end
    for j in range(t.i + 1, min(t.i + 5, sent_end)):
        x = doc[j]
        if x.text in "“\"" or x.text == "''" or x.text == "``":
            if j > t.i + 1 and doc[j - 1].text in (":", ","):
                close = next((k for k in range(j + 1, min(j + 400, len(doc)))
                              if doc[k].text in "”\"" or doc[k].text == "''"), None)
                if close is not None:
                    return list(doc[j:close + 1])
            return None
        if x.text == "." or x.pos_ == "VERB":
            return None
    return None


def _extend_left_to_quote(doc, tokens):
    # An opening quote just before the clause belongs to the quotation.
    if tokens and tokens[0].i > 0 and doc[tokens[0].i - 1].text in QUOTES:
        return [doc[tokens[0].i - 1], *tokens]
    return tokens


def _cut_nested(frames: list[dict]) -> None:
    """A forward content that runs into a later backward frame ends before that frame."""
    for f in frames:
        if not f["content"] or f["backward"]:
            continue
        ids = [x.i for x in f["content"]]
        lo, hi = min(ids), max(ids)
        for g in frames:
            if g is f or not g["backward"]:
                continue
            gstart = min([x.i for x in g["cue"]] + ([x.i for x in g["source"]] if g["source"] else []))
            if lo < gstart <= hi:
                f["content"] = _trim([x for x in f["content"] if x.i < gstart])
                if not f["content"]:
                    break
                hi = max(x.i for x in f["content"])


def _prep_object(t, preps):
    for c in t.children:
        if c.dep_ == "prep" and c.lower_ in preps:
            obj = next((g for g in c.children if g.dep_ == "pobj"), None)
            if obj is not None:
                return obj
    return None


def _np(t, stop=None, left_only: bool = False, ask=None):
    """The noun phrase headed by t: its subtree (or its left modifiers), minus relative clauses.

    With a decider (`ask`), each right dependent of t is kept or dropped as it says.
    """
    if left_only:
        tokens = [t]
        for c in reversed(list(t.lefts)):
            if c.dep_ in _NP_LEFT:
                tokens.extend(c.subtree)
        tokens = sorted(set(tokens), key=lambda x: x.i)
        # A comma ends a noun phrase read leftwards ("the offensive, reliable source").
        commas = [x.i for x in tokens if x.i < t.i and x.text in (",", ";", ":")]
        if commas:
            tokens = [x for x in tokens if x.i > max(commas)]
    else:
        skip: set[int] = set()
        for c in t.children:
            if stop is not None and c.i == stop.i:
                skip.update(x.i for x in c.subtree)
                continue
            default = not (c.dep_ in ("relcl", "acl") and c.i > t.i)
            keep = default
            if ask is not None and c.i > t.i and not (c.is_punct or c.is_space):
                keep = ask("source-child", t, c, default)
            if not keep:
                skip.update(x.i for x in c.subtree)
        tokens = [x for x in t.subtree if x.i not in skip]
    return _trim(_contiguous(tokens, t)) or None


def _contiguous(tokens, anchor):
    """The longest run of consecutive token indices that contains the anchor."""
    ids = {x.i for x in tokens}
    lo = hi = anchor.i
    while lo - 1 in ids:
        lo -= 1
    while hi + 1 in ids:
        hi += 1
    return [x for x in tokens if lo <= x.i <= hi]


def _subtree(t):
    return _trim(_subtree_tokens(t))


def _subtree_tokens(t):
    return list(t.subtree)


def _trim(tokens):
    """Drop leading/trailing punctuation and spaces, except quote marks, which belong to quotes."""
    tokens = sorted(tokens, key=lambda x: x.i)
    while tokens and (tokens[0].is_space or tokens[0].is_punct and tokens[0].text not in QUOTES
                      or tokens[0].pos_ in ("CCONJ",)):
        tokens = tokens[1:]
    while tokens and (tokens[-1].is_space or tokens[-1].is_punct and tokens[-1].text not in QUOTES):
        tokens = tokens[:-1]
    return tokens or None


def _end(t) -> int:
    return t.idx + len(t.text)


def char_span(text: str, tokens, quotes: bool = False) -> tuple[int, int] | None:
    if not tokens:
        return None
    start, end = tokens[0].idx, _end(tokens[-1])
    # Never end inside a hyphenated word ("Seitz-Wald", "re-elect"): spaCy splits them.
    while end + 1 < len(text) and text[end] == "-" and text[end + 1].isalnum() and text[end - 1].isalnum():
        end += 1
        while end < len(text) and text[end].isalnum():
            end += 1
    while start > 1 and text[start - 1] == "-" and text[start - 2].isalnum() and text[start].isalnum():
        start -= 1
        while start > 0 and text[start - 1].isalnum():
            start -= 1
    if quotes:
        # Keep a quotation whole: an unmatched quote mark at one edge pulls in its partner.
        inner = text[start:end]
        if inner and inner[-1] in QUOTES and inner.count(inner[-1]) % 2 == 1 \
                and start > 0 and text[start - 1] in QUOTES:
            start -= 1
    return (start, end) if end > start else None
