"""The built-in reporting-cue lexicon: which cue candidates count as cues without a learned model.

A cue key is `lemma|KIND` where KIND is VERB, NOUN, ADJ or PHRASE ("according to"). The
built-in lexicon is a set of keys from linguistic knowledge (the reporting-verb lists of
grammars), not tuned on any corpus. It is what claim detection uses when no learned claim
model (annotation/claim_model.py) is at hand, and a prior that model starts from. This
module depends on nothing else in the core: claims.py and claim_model.py build on it.
"""
from __future__ import annotations

from dataclasses import dataclass

# General communication, report, belief and evidence verbs.
BUILTIN_VERBS = frozenset(["say", "tell", "report", "add", "deny", "assure", "claim", "announce", "state", "confirm", "explain", "note", "argue", "insist", "warn", "write", "accuse", "acknowledge", "admit", "allege", "assert", "comment", "complain", "concede", "contend", "declare", "disclose", "emphasize", "emphasise", "estimate", "indicate", "maintain", "mention", "predict", "promise", "recall", "remark", "reveal", "reply", "respond", "stress", "tweet", "urge", "vow", "cite", "quote", "testify", "suggest", "believe", "think", "show", "find", "conclude", "demonstrate", "prove", "agree", "disagree", "criticize", "criticise", "blame", "threaten", "pledge", "propose", "recommend", "reckon", "fear", "hope", "worry", "doubt", "expect", "suspect", "speculate", "caution", "complain", "lament", "boast", "brag", "concede", "counter", "retort", "repeat", "reiterate", "affirm", "proclaim", "describe", "characterize", "characterise", "call", "dismiss", "reject", "acknowledge", "question", "ask", "answer", "inform", "notify", "advise", "observe", "point", "signal", "hint", "imply", "insinuate", "shout", "yell", "scream", "whisper"])
BUILTIN_NOUNS = frozenset(["claim", "statement", "report", "allegation", "announcement", "accusation", "assertion", "belief", "view", "opinion", "suggestion", "testimony", "warning", "denial", "comment", "remark", "assurance", "argument", "contention", "insistence", "charge", "admission", "estimate", "prediction", "promise", "pledge", "conclusion", "finding", "evidence", "indication", "sign", "word", "news", "rumor", "rumour", "speculation", "fear", "hope", "concern"])
BUILTIN_PHRASES = frozenset(["according to"])
# Verbs whose direct object is the addressee, not what is said ("told reporters").
ADDRESSEE_VERBS = frozenset(["tell", "inform", "notify", "advise", "assure", "ask", "warn", "urge", "remind", "brief", "email", "text", "call", "thank"])


def builtin_keys() -> frozenset[str]:
    """Every cue key of the built-in lexicon."""
    return frozenset({f"{w}|VERB" for w in BUILTIN_VERBS} | {f"{w}|NOUN" for w in BUILTIN_NOUNS}
                     | {f"{p}|PHRASE" for p in BUILTIN_PHRASES})


@dataclass(frozen=True)
class CueLexicon:
    """A fixed set of cue keys; claim detection takes a candidate whose key is in it."""
    cues: frozenset[str]
    origin: str = "built-in"

    # What claim detection asks of any cue decider (see annotation.claims.CueDecider).
    learned = False

    def accepts(self, key: str) -> bool:
        return key in self.cues

    def accept(self, doc, candidates: list) -> list:
        """The candidates (annotation.claims.CueCandidate) whose key is in the lexicon."""
        return [c for c in candidates if c.key in self.cues]

    def keep(self, doc, decision) -> bool:
        """Open choices while building a claim's parts: the rule's answer."""
        return decision.default

    def choose(self, doc, cand, options: list) -> int:
        """Readings of a cue's content: the rules' first."""
        return 0

    def dobj_is_content(self, key: str) -> bool:
        """Is the direct object of this cue what is claimed ("denied the report"), not an addressee?"""
        return key.split("|")[0] not in ADDRESSEE_VERBS

    @property
    def name(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """One line saying which lexicon this is (shown by commands that use it)."""
        return f"{self.origin} cue lexicon ({len(self.cues)} cues)"


def builtin_lexicon() -> CueLexicon:
    """The general-knowledge lexicon shipped with the app."""
    return CueLexicon(cues=builtin_keys())
