"""Claim (attribution) detection from the spaCy parse: cue, its source and its content.

Candidates come from the parse alone (verbs, nouns with a clausal complement, "according
to"); a cue lexicon decides which candidate lemmas count. The source is found through the
dependency tree (subject, passive agent, the noun a relative clause modifies, the subject
of the governing verb for "…, saying"), the content through the complement clause or —
when the cue follows what is claimed ("X did Y, Reuters reported") — the clause before it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .cues import CueLexicon, default_lexicon

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
    head: object  # spacy Token
    tokens: list
    key: str


def cue_candidates(doc, broad: bool = False) -> list[CueCandidate]:
    """Every cue candidate the parse offers, before any lexicon is applied.

    `broad` also offers every noun and adjective (stance and evidence words: "the claim",
    "were frustrated"); a learned cue model decides among them.
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
    return out


def extent_keys(doc, t, j: int, anchor_ids: set[int]) -> list[str] | None:
    """Keys (most specific first) for "does token j, next to a cue span, belong to the cue?".

    None when j is no dependent of the cue's tokens (the span never grows past such a token).
    """
    x = doc[j]
    if x.head.i not in anchor_ids or x.i == x.head.i or x.is_space:
        return None
    side = "L" if j < t.i else "R"
    word = x.lower_ if x.dep_ in ("prep", "prt", "advmod", "aux", "auxpass", "neg", "punct",
                                  "agent", "dative", "npadvmod", "dobj", "acomp") else "*"
    return [f"{side}|{x.dep_}|{word}|{t.lemma_.lower()}", f"{side}|{x.dep_}|{word}",
            f"{side}|{x.dep_}"]


def cue_span(doc, cand: CueCandidate, extent: dict[str, float]) -> list:
    """The cue's tokens: the head grown over adjacent dependents the learned extent includes."""
    t = cand.head
    if cand.key.endswith("|PHRASE"):
        return cand.tokens
    tokens = [t]
    ids = {t.i}
    sent = t.sent
    for step in (-1, 1):
        j = t.i + step
        while sent.start <= j < sent.end:
            keys = extent_keys(doc, t, j, ids)
            rate = next((extent[k] for k in keys if k in extent), 0.0) if keys else 0.0
            if rate < 0.5:
                break
            tokens.append(doc[j])
            ids.add(j)
            j += step
    return sorted(tokens, key=lambda x: x.i)


def _in_quotes(doc, t) -> bool:
    """Is the token inside a quotation (an odd number of quote marks before it in its sentence)?"""
    n = sum(1 for x in doc[t.sent.start:t.i] if x.text in QUOTES and x.text not in ("'", "’"))
    return n % 2 == 1


def cue_features(doc, cand: CueCandidate) -> list[str]:
    """Sparse features of one cue candidate for the learned cue model (lemma, parse context)."""
    t = cand.head
    lem, kind = cand.key.rsplit("|", 1)
    deps = sorted({c.dep_ for c in t.children})
    f = [f"k={cand.key}", f"pos={kind}", f"dep={t.dep_}", f"tag={t.tag_}",
         f"k={cand.key}|dep={t.dep_}", f"pos={kind}|dep={t.dep_}",
         f"hpos={t.head.pos_}|dep={t.dep_}"]
    if t.dep_ in ("xcomp", "acl", "amod", "compound", "pobj", "dobj", "acomp", "conj", "advcl"):
        f.append(f"hlem={t.head.lemma_.lower()}|dep={t.dep_}")
    for d in deps:
        f.append(f"c={d}")
        if d in ("ccomp", "xcomp", "dobj", "nsubj", "nsubjpass", "prep", "agent", "mark",
                 "poss", "acl", "relcl", "dative", "advcl", "aux", "neg", "prt"):
            f.append(f"k={cand.key}|c={d}")
    for c in t.children:
        if c.dep_ == "prep":
            f.append(f"k={cand.key}|prep={c.lower_}")
            f.append(f"prep={c.lower_}")
        elif c.dep_ in ("ccomp", "acl") and any(m.dep_ == "mark" for m in c.children):
            mark = next(m for m in c.children if m.dep_ == "mark").lower_
            f.append(f"cmark={mark}")
            f.append(f"k={cand.key}|cmark={mark}")
        elif c.dep_ in ("nsubj", "nsubjpass", "poss"):
            # No entity types: the parse that trains the model may run without NER.
            f.append(f"subj={c.dep_}|{c.pos_}|{c.lemma_.lower() if c.pos_ != 'PROPN' else '-'}")
            f.append(f"k={cand.key}|subj={c.pos_}")
    nxt = doc[t.i + 1] if t.i + 1 < len(doc) else None
    prv = doc[t.i - 1] if t.i > 0 else None
    if nxt is not None and nxt.is_punct:
        f.append(f"next={nxt.text if nxt.text in ',:.' else 'Q' if nxt.text in QUOTES else 'P'}")
    if prv is not None and prv.is_punct:
        f.append(f"prev={prv.text if prv.text in ',:.' else 'Q' if prv.text in QUOTES else 'P'}")
    if nxt is not None:
        f.append(f"k={cand.key}|next={nxt.lower_}")
    if prv is not None:
        f.append(f"prevw={prv.lower_}|k={cand.key}")
    for c in t.children:
        if c.dep_ in ("dobj", "attr", "oprd") and c.i > t.i:
            f.append(f"k={cand.key}|obj={c.lemma_.lower()}")
    if _in_quotes(doc, t):
        f.append("inquote")
        f.append(f"k={cand.key}|inquote")
    if any(x.text in QUOTES for x in t.sent):
        f.append("sent_has_quote")
    f.append(f"first={t.i == t.sent.start}")
    return f


def _is_clause(t) -> bool:
    return t.pos_ in ("VERB", "AUX") and any(c.dep_ == "mark" and c.lower_ in ("that", "whether", "if")
                                             for c in t.children) or t.dep_ == "ccomp"


def detect_claims(doc, cues: CueLexicon | None = None) -> list[ClaimSuggestion]:
    """Attributions in a parsed spaCy Doc, each with cue, source and content offsets."""
    return _detect(doc, cues if cues is not None else default_lexicon())


def _detect(doc, lex: CueLexicon, probs: list[float] | None = None) -> list[ClaimSuggestion]:
    # probs: the cue model's probabilities of cue_candidates(doc, broad=True), when known.
    frames = []
    for n, cand in enumerate(cue_candidates(doc, broad=lex.model is not None)):
        if lex.model is not None:
            p = probs[n] if probs is not None else lex.cue_probability(cue_features(doc, cand))
            if p < lex.threshold:
                continue
        elif not lex.accepts(cand.key):
            continue
        if lex.extent:
            cand = CueCandidate(cand.head, cue_span(doc, cand, lex.extent), cand.key)
        frame = _frame(doc, cand, lex)
        if frame is not None:
            frames.append(frame)
    _cut_nested(frames)
    text = doc.text  # built on each access in spaCy: read once
    quote_whole = lex.model is not None
    quotes = quotations(text) if quote_whole else []
    out = []
    for f in frames:
        cue = (f["cue"][0].idx, _end(f["cue"][-1]))
        source = _char_span(text, f["source"])
        content = _char_span(text, f["content"], quotes=True)
        if content is not None and quote_whole:
            content = _whole_quotes(content, cue, quotes)
            content = _quote_resumed(text, content, cue, quotes)
        out.append(ClaimSuggestion(cue=cue, source=source, content=content, key=f["key"]))
    return out


def _frame(doc, cand: CueCandidate, lex: CueLexicon) -> dict | None:
    t = cand.head
    if cand.key.endswith("|PHRASE"):
        return _according_to(doc, cand)
    if cand.key.endswith("|NOUN"):
        comp = next((c for c in t.children if c.dep_ in ("acl", "ccomp") and _is_clause(c)), None)
        src = next((c for c in t.children if c.dep_ == "poss"), None)
        if src is None:
            src = _prep_object(t, ("by", "from") if comp is None else ("by", "from", "of"))
        if comp is not None:
            content = _subtree(comp)
        else:
            # "his support for Clinton", "concerns about the deal": the prepositional object.
            obj = _prep_object(t, ("for", "about", "of", "on", "over", "against", "with"))
            content = _subtree(obj) if obj is not None else None
        if content is None and src is None:
            return None
        return {"cue": cand.tokens, "key": cand.key, "backward": False,
                "source": _np(src) if src is not None else None, "content": content}
    if cand.key.endswith("|ADJ"):
        # "X were frustrated with Y": the subject of the copula, the object of the preposition.
        anchor = t.head if t.dep_ == "acomp" else t
        source = _source(doc, anchor)
        comp = next((c for c in t.children if c.dep_ in _COMP), None)
        obj = _prep_object(t, ("with", "about", "of", "over", "by", "at", "for", "on"))
        content = _subtree(comp) if comp is not None else _subtree(obj) if obj is not None else None
        if content is None and source is None:
            return None
        return {"cue": cand.tokens, "key": cand.key, "source": source, "content": content,
                "backward": False}
    source = _source(doc, t)
    content, backward = _content(doc, t, source, lex.dobj_is_content(cand.key),
                                 learned=lex.model is not None)
    if content is None and source is None:
        return None
    return {"cue": cand.tokens, "key": cand.key, "source": source, "content": content,
            "backward": backward}


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


def _source(doc, t):
    passive = any(c.dep_ == "auxpass" for c in t.children)
    for c in t.children:
        if c.dep_ == "agent":
            obj = next((g for g in c.children if g.dep_ == "pobj"), None)
            if obj is not None:
                return _np(obj)
    if not passive:
        for c in t.children:
            if c.dep_ in _SUBJ and c.lower_ not in ("it", "there"):
                return _np(c)
    # Parser misses ("…, reliable source told X" parsed as an agent, "…but X's source denied"
    # as a conjunct): the noun phrase just before the cue, read from the POS tags.
    if t.i > t.sent.start and t.dep_ != "relcl":
        prev = doc[t.i - 1]
        if prev.pos_ in ("NOUN", "PROPN", "PRON"):
            return _np(prev, left_only=True)
    if t.dep_ == "relcl" and t.head.pos_ in ("NOUN", "PROPN", "PRON"):
        return _np(t.head, stop=t)
    if t.dep_ in _UP and t.head.i != t.i and t.head.pos_ in ("VERB", "AUX"):
        up = t.head
        for _ in range(3):
            subj = next((c for c in up.children if c.dep_ in _SUBJ), None)
            if subj is not None and subj.i < t.i:
                return _np(subj)
            if up.dep_ not in _UP or up.head.i == up.i:
                break
            up = up.head
    return None


EXT_DEPS = ("oprd", "xcomp", "acomp", "ccomp")
ASIDE_DEPS = ("advcl", "parataxis", "npadvmod")
CONTENT_PREPS = ("about", "against", "at", "on", "for", "of", "to", "with", "over", "in")


def _content(doc, t, source, dobj_ok: bool = True, learned: bool = False):
    """The claimed clause: a complement after the cue, else the clause before it."""
    sent = t.sent
    comps = [c for c in t.children if c.dep_ in _COMP]
    right = [c for c in comps if c.i > t.i]
    left = [c for c in comps if c.i < t.i]
    if right and not left:
        tokens = _subtree_tokens(right[0])
        if learned:
            tokens = _cut_asides(doc, right[0], tokens)
        return _trim(tokens), False
    if left:
        tokens = _subtree_tokens(left[0])
        return _trim(_extend_left_to_quote(doc, tokens)), True
    quoted = _quote_after(doc, t)
    if quoted:
        return quoted, False
    obj = next((c for c in t.children if c.dep_ == "dobj" and c.i > t.i), None) if dobj_ok else None
    if obj is not None:
        tokens = _subtree_tokens(obj)
        if learned:
            # "slammed the shift as a conversion", "called the lines unacceptable": the
            # object's predicate belongs to what is claimed.
            for c in t.children:
                if c.i > obj.i and (c.dep_ in EXT_DEPS or c.dep_ == "prep" and c.lower_ == "as"):
                    tokens += _subtree_tokens(c)
            tokens = _contiguous(tokens, obj)
        return _trim(tokens), False
    if learned:
        if any(c.dep_ == "auxpass" for c in t.children):
            subj = next((c for c in t.children if c.dep_ == "nsubjpass"), None)
            if subj is not None and subj.lower_ not in ("it", "there"):
                return _np(subj), True
        prep = next((c for c in t.children if c.dep_ == "prep" and c.i > t.i
                     and c.lower_ in CONTENT_PREPS), None)
        pobj = next((g for g in prep.children if g.dep_ in ("pobj", "pcomp")), None) if prep else None
        if pobj is not None:
            return _trim(_subtree_tokens(pobj)), False
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
            return _trim(tokens), True
    before = [x for x in sent if x.i < start]
    if len([x for x in before if not x.is_punct]) >= 3 and comma_before:
        if aside:
            before += [x for x in sent if x.i > t.i + 1 and not x.is_space]
        return _trim(before), True
    # Quote in the previous sentence ("“…,” he said." split by the sentencizer).
    if start == sent.start and sent.start > 0:
        prev = doc[sent.start - 1].sent
        if any(x.text in QUOTES for x in prev):
            return _trim(list(prev)), True
    return None, False


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


def _cut_asides(doc, head, tokens):
    """A clause ends before a trailing aside set off by a comma or dash (", notably …", "— asserting")."""
    cut = None
    for c in head.rights:
        if c.dep_ in ASIDE_DEPS and c.i > head.i:
            first = min(x.i for x in c.subtree)
            if first > 0 and doc[first - 1].text in (",", "—", "--", "–", ";"):
                cut = first - 1 if cut is None else min(cut, first - 1)
    return tokens if cut is None else [x for x in tokens if x.i < cut]


def _quote_resumed(text: str, content: tuple[int, int], cue: tuple[int, int], quotes
                   ) -> tuple[int, int]:
    """`“…,” he said. “…”`: a quotation the attribution interrupts resumes after it."""
    s, e = content
    if e > cue[0] or text[e - 1] not in "”\"'" or len(text[e:cue[0]]) > 60:
        return content
    for qs, qe in quotes:
        if qs < cue[1]:
            continue
        between = text[cue[1]:qs]
        if len(between) <= 120 and "\n" not in between and between.rstrip()[-1:] in (".", ",", ":"):
            return s, qe
        break
    return content


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


def _np(t, stop=None, left_only: bool = False):
    """The noun phrase headed by t: its subtree (or its left modifiers), minus relative clauses."""
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
        skip = set()
        for c in t.children:
            if (stop is not None and c.i == stop.i) or c.dep_ in ("relcl", "acl") and c.i > t.i:
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


def _char_span(text: str, tokens, quotes: bool = False) -> tuple[int, int] | None:
    if not tokens:
        return None
    start, end = tokens[0].idx, _end(tokens[-1])
    if quotes:
        # Keep a quotation whole: an unmatched quote mark at one edge pulls in its partner.
        inner = text[start:end]
        if inner and inner[-1] in QUOTES and inner.count(inner[-1]) % 2 == 1 \
                and start > 0 and text[start - 1] in QUOTES:
            start -= 1
    return (start, end) if end > start else None
