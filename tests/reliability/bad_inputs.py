"""Bad input, generated: files an analyst may really point the importer at (or an attacker may
hand them). Each fixture is a set of files, the path to import, the options, and what we know
must happen: REFUSED (one clear message, project unchanged), ACCEPTED, or None (either, as long
as it is clean). `lines` lists line numbers the skipped-list must name (partial files)."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

REFUSED, ACCEPTED = "refused", "accepted"
ARTICLE = ("Homs, Syria (Reuters) - Government forces shelled the old city on Tuesday, "
           "the Syrian Observatory for Human Rights said.\n\nA media activist told AFP that "
           "twelve people were killed. The ministry denied the report.\n")


@dataclass
class Fixture:
    id: str
    files: dict[str, bytes]
    target: str  # relative path (file or folder) given to the importer
    options: dict = field(default_factory=dict)
    expect: str | None = None
    lines: list[int] = field(default_factory=list)
    family: str = "generic"


def _jsonl(*objs) -> bytes:
    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs).encode() + b"\n"


def _csv(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def fixtures() -> list[Fixture]:
    rng = random.Random(20240501)
    out: list[Fixture] = []

    def add(id_, files, target=None, expect=None, lines=(), family="generic", **options):
        if not isinstance(files, dict):
            files = {target: files}
        out.append(Fixture(id_, files, target or next(iter(files)), options, expect, list(lines),
                           family))

    # -- the same bad bytes under every extension -------------------------------------------------
    blobs = {
        "empty": (b"", REFUSED),
        "whitespace": (b" \n\t\r\n  \n", REFUSED),
        "random-binary": (rng.randbytes(20_000), REFUSED),
        "png": (b"\x89PNG\r\n\x1a\n" + rng.randbytes(3000), REFUSED),
        "pdf": (b"%PDF-1.7\n" + rng.randbytes(3000), REFUSED),
        "zip": (b"PK\x03\x04" + rng.randbytes(3000), REFUSED),
        "sqlite": (b"SQLite format 3\x00" + bytes(4000), REFUSED),
        "nul-bytes": (ARTICLE.encode().replace(b" ", b"\x00", 5), None),
        "only-nul": (bytes(5000), REFUSED),
        "invalid-utf8": (ARTICLE.encode() + b"\xff\xfe\xc3\x28 caf\xe9 \xa0\xa1\n", None),
        "latin1": (("Caf\u00e9 r\u00e9sum\u00e9 na\u00efve, " + ARTICLE).encode("latin-1"), None),
        "utf16-bom": (("\ufeff" + ARTICLE).encode("utf-16"), None),
        "utf16be-bom": (b"\xfe\xff" + ARTICLE.encode("utf-16-be"), None),
        "utf16-no-bom": (ARTICLE.encode("utf-16-le"), None),
        "utf8-bom": (b"\xef\xbb\xbf" + ARTICLE.encode(), None),
        "utf32": (ARTICLE.encode("utf-32"), None),
        "lone-surrogate": (ARTICLE.encode() + b"\xed\xa0\x80 end\n", None),
        "overlong-utf8": (b"over\xc0\xafslash " + ARTICLE.encode(), None),
        "control-chars": (bytes(range(1, 32)) * 50, None),
        "cr-only": (ARTICLE.replace("\n", "\r").encode(), None),
        "many-short-lines": (b"a\n" * 200_000, None),
        "huge-single-line": (b"word " * (10 * 1024 * 1024 // 5), REFUSED),  # 10 MB, one line
        "emoji-rtl-mix": (("قال المرصد 😀 e\u0301 עברית 🇸🇾\r\n" * 200).encode(), None),
    }
    for name, (data, expect) in blobs.items():
        for ext in (".txt", ".html", ".csv", ".jsonl"):
            if name in ("huge-single-line", "many-short-lines") and ext != ".txt":
                continue  # one extension is enough for the slow ones; the fmt loop covers the rest
            add(f"{name}{ext}", {f"{name}{ext}": data}, f"{name}{ext}",
                expect if expect == REFUSED or ext == ".txt" else None)

    # -- CSV ---------------------------------------------------------------------------------------
    c = "csv"
    add("csv-header-only", _csv("id,title,text"), "h.csv", REFUSED, family=c)
    add("csv-no-text-column", _csv("id,headline,when", "1,a,b"), "n.csv", REFUSED, family=c)
    add("csv-wrong-text-column", _csv("id,title,text", "1,t,body"), "w.csv", REFUSED, family=c,
        text_column="article")
    add("csv-wrong-title-column", _csv("id,title,text", "1,t,body"), "wt.csv", REFUSED, family=c,
        title_column="nope")
    add("csv-missing-meta-column", _csv("id,title,text", "1,t,body"), "mm.csv", REFUSED, family=c,
        meta_columns=["source", "date"])
    add("csv-duplicate-columns", _csv("id,text,text", "1,a,b"), "d.csv", REFUSED, family=c)
    add("csv-blank-header-names", _csv(",text,", "1,An article about Homs.,x"), "b.csv", None, family=c)
    add("csv-ragged-rows", _csv("id,title,text", "1,One,First article.", "2,Two",
                                "3,Three,Third article.,extra,more", "4,Four,Fourth article."),
        "r.csv", ACCEPTED, lines=[3, 4], family=c)
    add("csv-all-rows-ragged", _csv("id,title,text", "1", "2,x", "3,x,y,z"), "ar.csv", REFUSED,
        family=c)
    add("csv-empty-text-cells", _csv("id,title,text", "1,One,", "2,Two,Second article.", "3,Three,  "),
        "e.csv", ACCEPTED, lines=[2, 4], family=c)
    add("csv-unclosed-quote", _csv("id,title,text", '1,One,"An article that', "never ends"),
        "q.csv", None, family=c)
    add("csv-quote-in-middle", _csv("id,title,text", '1,O"ne,An "odd" article.', "2,Two,Fine."),
        "qm.csv", None, family=c)
    add("csv-semicolons", _csv("id;title;text", "1;One;An article; with a semicolon."),
        "s.csv", None, family=c)
    add("csv-tabs", _csv("id\ttitle\ttext", "1\tOne\tAn article."), "t.tsv", ACCEPTED, family=c)
    add("csv-nul-in-cell", b"id,title,text\n1,One,An art\x00icle.\n2,Two,Fine.\n", "nul.csv", None,
        family=c)
    add("csv-huge-field", b"id,title,text\n1,One," + b"x" * (6 * 1024 * 1024) + b"\n2,Two,Fine.\n",
        "hf.csv", None, family=c)
    add("csv-crlf-bom", b"\xef\xbb\xbfid,title,text\r\n1,One,An article.\r\n", "crlf.csv", ACCEPTED,
        family=c)
    add("csv-labels-odd-values", _csv("id,text,labels", "1,An article.,maybe", "2,Another.,1",
                                      "3,Third.,"), "l.csv", ACCEPTED, family=c)
    add("csv-formula-cells", _csv("id,title,text", '1,=HYPERLINK("http://x"),+cmd|calc!A1 text'),
        "f.csv", ACCEPTED, family=c)
    add("csv-single-column", _csv("text", "Only text here.", "And here."), "sc.csv", ACCEPTED,
        family=c)
    add("csv-utf16", "id,title,text\n1,One,An article.\n".encode("utf-16"), "u16.csv", ACCEPTED,
        family=c)
    add("csv-many-columns", _csv(",".join(f"c{i}" for i in range(3000)) + ",text",
                                 ",".join("v" for _ in range(3000)) + ",An article."),
        "wide.csv", ACCEPTED, family=c)

    # -- JSONL -------------------------------------------------------------------------------------
    j = "jsonl"
    good = {"text": ARTICLE, "meta": {"source": "x"}}
    add("jsonl-broken-lines", _jsonl(good, '{"text": "broken', {"text": "Second article."},
                                     "not json at all", {"text": "Third."}),
        "b.jsonl", ACCEPTED, lines=[2, 4], family=j)
    add("jsonl-all-broken", _jsonl("{", "[1,", "nope"), "ab.jsonl", REFUSED, family=j)
    add("jsonl-not-objects", _jsonl("[1, 2]", "42", '"a string"', "null"), "no.jsonl", REFUSED,
        family=j)
    add("jsonl-missing-text", _jsonl({"title": "x"}, {"text": "Kept."}), "mt.jsonl", ACCEPTED,
        lines=[1], family=j)
    add("jsonl-text-not-string", _jsonl({"text": 42}, {"text": None}, {"text": ["a"]},
                                        {"text": {"a": 1}}), "tn.jsonl", REFUSED, family=j)
    text = "Reuters said twelve people died."
    spans_cases = {
        "out-of-range": [{"start": 0, "end": 500, "label": "ORG"}],
        "negative": [{"start": -3, "end": 4, "label": "ORG"}],
        "reversed": [{"start": 10, "end": 2, "label": "ORG"}],
        "empty": [{"start": 5, "end": 5, "label": "ORG"}],
        "overlapping": [{"start": 0, "end": 7, "label": "ORG"}, {"start": 3, "end": 12, "label": "PERSON"},
                        {"start": 0, "end": 7, "label": "ORG"}],
        "floats": [{"start": 0.5, "end": 7, "label": "ORG"}],
        "strings": [{"start": "0", "end": "7", "label": "ORG"}],
        "no-label": [{"start": 0, "end": 7}],
        "label-object": [{"start": 0, "end": 7, "label": {"x": 1}}],
        "not-a-list": {"start": 0, "end": 7},
        "items-not-objects": [1, "two", None],
        "huge-ints": [{"start": 10 ** 30, "end": 10 ** 31, "label": "ORG"}],
        "bool-offsets": [{"start": True, "end": 5, "label": "ORG"}],
    }
    for name, spans in spans_cases.items():
        add(f"jsonl-spans-{name}", _jsonl({"text": text, "spans": spans}), f"sp-{name}.jsonl",
            None if name in ("overlapping", "not-a-list") else ACCEPTED,
            lines=[] if name in ("overlapping", "not-a-list") else [1], family=j)
    add("jsonl-doccano-bad-labels", _jsonl({"text": text, "label": [[0, 99, "ORG"], [3, 1, "X"],
                                                                    [0, 7], "credible", 5]}),
        "dl.jsonl", ACCEPTED, lines=[1], family=j)
    add("jsonl-deep-nesting", ("[" * 100_000 + "]" * 100_000 + "\n").encode(), "deep.jsonl", REFUSED,
        family=j)
    add("jsonl-deep-nesting-in-line", _jsonl(good, '{"text": "x", "meta": ' + "[" * 50_000 + "]" * 50_000
                                             + "}"), "deep2.jsonl", ACCEPTED, lines=[2], family=j)
    add("json-deep-nesting", ("[" * 100_000 + "]" * 100_000).encode(), "deep.json", REFUSED, family=j)
    add("jsonl-nan", b'{"text": "An article.", "score": NaN, "x": Infinity}\n', "nan.jsonl", None,
        family=j)
    add("jsonl-duplicate-keys", b'{"text": "First.", "text": "Second article."}\n', "dk.jsonl",
        ACCEPTED, family=j)
    add("jsonl-meta-not-object", _jsonl({"text": "An article.", "meta": [1, 2]}), "mn.jsonl",
        ACCEPTED, family=j)
    add("jsonl-blank-lines-only", b"\n\n  \n\n", "bl.jsonl", REFUSED, family=j)
    add("json-array-of-junk", b"[1, \"a\", null, {\"no\": \"text\"}]", "junk.json", REFUSED, family=j)
    add("json-broken", b'[{"text": "a"}, {"text": ', "broken.json", REFUSED, family=j)
    add("jsonl-labelstudio-bad", _jsonl({"data": {"text": text}, "annotations": [
        {"result": [{"value": {"start": 0, "end": 999, "labels": ["ORG"]}}, {"value": "x"}, 5]},
        "junk"]}), "ls.jsonl", ACCEPTED, lines=[1], family=j)
    add("jsonl-huge-line", _jsonl({"text": "x " * (3 * 1024 * 1024)}), "hl.jsonl", None, family=j)

    # -- HTML --------------------------------------------------------------------------------------
    h = "html"
    add("html-scripts-only", b"<html><head><script>alert(1)</script><style>p{}</style></head>"
                             b"<body><script>document.write('x')</script></body></html>",
        "s.html", REFUSED, family=h)
    add("html-script-and-text", b"<html><body><script>alert('x')</script><p>" + ARTICLE.encode()
        + b"</p><img src=x onerror=alert(1)></body></html>", "st.html", ACCEPTED, family=h)
    add("html-huge-attribute", b'<html><body><div data-x="' + b"A" * (8 * 1024 * 1024)
        + b'"><p>' + ARTICLE.encode() + b"</p></div></body></html>", "ha.html", None, family=h)
    add("html-deep-nesting", b"<html><body>" + b"<div>" * 100_000 + ARTICLE.encode()
        + b"</div>" * 100_000 + b"</body></html>", "deep.html", None, family=h)
    add("html-deep-unclosed", b"<html><body>" + b"<span><b><i>" * 30_000 + b"text", "du.html",
        None, family=h)
    add("html-unclosed-tags", b"<html><body><p>" + ARTICLE.encode() + b"<div><p><table><tr><td>",
        "u.html", ACCEPTED, family=h)
    add("html-comment-only", b"<!-- nothing here -->", "c.html", REFUSED, family=h)
    add("html-wrong-charset", b'<html><head><meta charset="utf-16"></head><body><p>'
        + ARTICLE.encode() + b"</p></body></html>", "wc.html", None, family=h)
    add("html-bogus-charset", b'<meta charset="x-no-such-codec"><p>' + ARTICLE.encode() + b"</p>",
        "bc.html", None, family=h)
    add("html-entities", b"<p>" + b"&amp;&lt;&#0;&#xD800;&#x110000;&bogus;" * 2000 + b"</p>",
        "ent.html", None, family=h)
    add("html-nul", b"<p>An art\x00icle with a NUL.</p>", "nul.html", None, family=h)
    add("html-frameset", b"<frameset><frame src='a.html'></frameset>", "fs.html", REFUSED, family=h)
    add("html-svg-math", b"<p>Text <svg><script>x</script><text>svg text</text></svg>"
                         b"<math><mi>x</mi></math> end.</p>", "svg.html", ACCEPTED, family=h)
    add("html-many-blocks", b"<html><body>" + b"<p>para</p>" * 50_000 + b"</body></html>",
        "mb.html", None, family=h)

    # -- brat --------------------------------------------------------------------------------------
    b = "brat"
    txt = b"Reuters said twelve people were killed in Homs.\n"
    brat = {
        "bad-offsets": "T1\tSource 0 500\tReuters\nT2\tCue 8 12\tsaid\n",
        "reversed": "T1\tSource 7 0\tReuters\n",
        "negative": "T1\tSource -1 7\tReuters\n",
        "not-numbers": "T1\tSource a b\tReuters\n",
        "garbage-lines": "this is not brat\n\x00\x01\nT1\nT2\tCue\n",
        "bad-fragments": "T1\tSource 0 3;x 7\tReuters\nT2\tCue 0 3;9 5\tsaid\n",
        "event-to-missing": "T1\tCue 8 12\tsaid\nE1\tAttribution:T1 Source:T9 Content:T77\n",
        "text-mismatch": "T1\tSource 0 7\tAFP says\n",
        "duplicate-ids": "T1\tSource 0 7\tReuters\nT1\tCue 8 12\tsaid\n",
        "attributes-notes": "T1\tSource 0 7\tReuters\nA1\tFactuality T1 yes\n#1\tNote T1\tx\nR1\tr Arg1:T1 Arg2:T5\n",
        "utf16": None,
        "binary": None,
    }
    for name, ann in brat.items():
        if name == "utf16":
            data = "T1\tSource 0 7\tReuters\n".encode("utf-16")
        elif name == "binary":
            data = rng.randbytes(2000)
        else:
            data = ann.encode()
        add(f"brat-{name}", {"a.txt": txt, "a.ann": data}, "a.txt", None, family=b, format="brat")
    add("brat-ann-without-txt", {"lonely.ann": b"T1\tSource 0 7\tReuters\n"}, "lonely.ann", REFUSED,
        family=b, format="brat")
    add("brat-empty-ann", {"e.txt": txt, "e.ann": b""}, "e.txt", ACCEPTED, family=b, format="brat")
    add("brat-polnear-unmatched", {"pn/text/art.txt": txt,
                                   "pn/attributions/other_ann1.ann": b"T1\tSource 0 7\tReuters\n",
                                   "pn/attributions/art_ann2.ann": b"T1\tSource 0 999\tx\n"},
        "pn", ACCEPTED, family=b)
    add("brat-folder-mixed", {"bf/a.txt": txt, "bf/a.ann": b"T1\tSource 0 7\tReuters\n",
                              "bf/b.ann": b"T1\tCue 0 3\tx\n", "bf/junk.bin": rng.randbytes(100)},
        "bf", None, family=b)

    # -- names with odd characters -----------------------------------------------------------------
    n = "names"
    for name in ("spaces in name.txt", "ünïcödé-名前.txt", "emoji-😀.txt", "-leading-dash.txt",
                 "quote'\"semicolon;.txt", "name with\nnewline.txt", "..txt", "rtl-מאמר.txt",
                 "x" * 240 + ".txt", "$(touch pwned).txt", "back\\slash.txt", "%s%n%x.txt"):
        add(f"name-{name[:30]!r}", {name: ARTICLE.encode()}, name, ACCEPTED, family=n)
    add("name-empty-odd", {"odd 😀\n.txt": b""}, "odd 😀\n.txt", REFUSED, family=n)
    add("folder-empty", {"emptydir/.hidden": b"x"}, "emptydir", REFUSED, family=n)
    add("folder-of-junk", {"junk/a.bin": rng.randbytes(50), "junk/b.exe": b"MZ" + rng.randbytes(50)},
        "junk", REFUSED, family=n)
    add("folder-one-bad-file", {"mix/a.txt": ARTICLE.encode(), "mix/b.txt": rng.randbytes(4000)},
        "mix", REFUSED, family=n)
    add("unknown-extension", {"article.docx": b"PK\x03\x04" + rng.randbytes(100)}, "article.docx",
        REFUSED, family=n)
    add("no-extension", {"README": ARTICLE.encode()}, "README", REFUSED, family=n)
    return out
