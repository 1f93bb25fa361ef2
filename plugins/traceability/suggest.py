"""Link recovery: rank candidate requirements for tests that no confirmed link covers.

Real trading teams do not mark tests with ``@pytest.mark.requirement``, so golive would link
none of them. This module suggests, for every test not already covered by a confirmed link,
which requirements it probably covers -- with a score, a confidence band and the matched terms
("why") so a reviewer can confirm or reject each suggestion quickly (``golive link``).

How it ranks (CONTRACT: :class:`Suggestion` and :func:`suggest_links` are shared by the
runner, the reports and ``golive link``):

* **Documents** are the requirements: id (``PRE-FEED-01`` -> ``feed``), title (weight 3),
  tags, check name and section title (2), statement, category and threshold metric names (1).
  A field's weight repeats its tokens, so the term frequency carries it.
* **Queries** are the tests, from the words :mod:`.features` reads in the scanner's single AST
  pass: function name (weight 3), its docstring and class names (2), file name, module and
  class docstrings, folder names, parametrize strings, imports and called names (1). A token's
  query weight is the sum over the distinct fields it occurs in, capped at 5. Standalone
  result files (``result-json``) use their file name, ``test`` name, ``description`` and
  metric names.
* Both sides go through the same tokenizer (identifiers split, Snowball stemming, generic words
  dropped) and the same domain synonyms (``synonyms.yaml``: each entry a group of spellings of
  one concept with a reason), which rewrite every spelling to one canonical token.
* **Scoring** is BM25 (library ``bm25s``, Lucene variant, k1=1.2, b=0.75) over the requirement
  corpus, so IDF is computed over requirements: words in many requirements weigh little. The
  per-term BM25 scores are read once from bm25s's index into a dense vocabulary x requirement
  matrix, and a test's scores are its weighted token rows summed (numpy): ~10 us a test.
  ``bm25s`` was chosen over ``rank-bm25`` by measurement (``benchmarks/bench_link_recovery.py``):
  equal or better quality on the reference fixture and far faster per query.

**Phase prior**: candidates outside the plan's first phase (pre-live deployment testing) have
their scores scaled by 0.8 (``LATER_PHASE_PRIOR``): a repository's tests verify what must hold
before go-live, while the later phases are verified in live operation by golive's checks over
records and logs. A clearly better live match still wins.

**Repository background** (:func:`background_damping`): words most of a repository's tests
share -- ``order``, ``price``, ``trade`` in a trading engine, ``api`` in a REST-heavy one,
``cache`` where every test touches an object cache, or stem collisions like ``adapters`` ~
``adaptation`` -- say little about which requirement one test covers. A token in more than 5 %
of the tests (``BACKGROUND_FREE``; the share is over at least 500 tests, so small suites are
never damped) has its query weight scaled by ``log(N / df) / log(1 / 0.05)``: 0.77 at 10 %,
0.54 at 20 %, 0 when every test has it. Tokens of the test's own name, docstring or
description (``OWN_FIELDS``) take the square root of that factor (``NAME_DAMPING`` 0.5): a
common word the test is named after still says more than one it merely calls. This is IDF over
the tests, the counterpart of the requirement-side IDF of BM25.

**Numbers** count only from the test's name or a result file's description/metrics
(``NUMBER_FIELDS``): ``test_75_percent`` names a topic, ``0.15`` in a docstring or ``15m`` in a
called name is a value (freqtrade's ``test_borrowed`` matched ``min_ev=15`` on one).

**Support**: a counted (medium/high) suggestion needs at least 2 matched terms (``SUPPORT_TERMS``)
outside the test's path that each add at least 10 % of its score (``SUPPORT_SHARE``); a match
resting on one word (``cache``, ``streaming``, ``accounts``) stays ``low``. Synonym phrases
(``edge case``, ``a/b testing``, ``load balancing``, ``command line option``) consume their
words, so ``edge``, ``ab``, ``balanced`` or ``option`` alone no longer match those requirements.

Bands (``score`` = the BM25 sum of the best candidate after damping, ``margin`` = score /
second score):

* ``high``   -- score >= 20 and margin >= 1.25, and supported;
* ``medium`` -- score >= 12 and margin >= 1.15, or score >= 20 (a strong but contested match),
  and supported;
* ``low``    -- anything else with at least one matched term (never counted).

Measured (``benchmarks/real_link_sample.py``, hand-judged samples of 30 counted suggestions,
``docs/real-repositories.md``): freqtrade precision 0.23 -> 0.47 (0.47 -> 0.77 counting
plausible), nautilus_trader 0.03 -> 0.20 (0.37 -> 0.67); the reference fixture is unchanged.

The thresholds were set on the reference fixture (markers removed) and kept round; a
medium suggestion needs several distinctive shared words, a high one a clear winner.

Within one file the tests are ranked jointly (:func:`_diversified`): a test whose best
requirement is already a stronger sibling's best, and whose runner-up scores at least 75 % of
its best, is offered the runner-up first -- the tests of a file usually verify different
aspects, and the words they share (file name, module docstring) pull them all one way.

Rank 2 and 3 candidates get the band their own score earns with the margin set to 1 (so at
most ``medium``). ``why`` lists up to 6 matched terms, biggest contribution first; a synonym
match shows as ``requirement-spelling~test-spelling`` (``mbo~order book``), a term found only
in the test's path as ``path: term``.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import yaml

from golive.model import Requirement, TestRecord

from .features import GENERIC, _GENERIC_STEMS, _stem, split_words

BANDS = ("high", "medium", "low")  # confidence bands, best first
COUNTED_BANDS = ("high", "medium")  # bands that count in the "if confirmed" figure

HIGH_SCORE, HIGH_MARGIN = 20.0, 1.25
MEDIUM_SCORE, MEDIUM_MARGIN = 12.0, 1.15
DIVERSIFY_RATIO = 0.75
# A repository's tests run before go-live: they are what verifies the plan's first phase
# (pre-live deployment testing), while later phases are verified in live operation by checks
# over records, logs and the ledger. Candidates from later phases are scaled by this factor, so
# a test matching a pre-live and a live requirement about equally goes to the pre-live one; a
# clearly better live match still wins.
TESTED_PHASE, LATER_PHASE_PRIOR = 1, 0.8
BACKGROUND_FREE, BACKGROUND_MIN_TESTS, BACKGROUND_POWER = 0.05, 500, 1.0
SUGGESTED_KINDS = frozenset({"pytest", "result-json", "result-case"})
TEST_WEIGHTS = {"name": 3, "docstring": 2, "classes": 2, "file": 1, "class_docstring": 1,
                "module_docstring": 1, "folder": 1, "params": 1, "calls": 1, "imports": 1,
                "description": 2, "metrics": 1}
PATH_FIELDS = frozenset({"file", "folder"})
NUMBER_FIELDS = frozenset({"name", "description", "metrics"})  # where a number names a topic (test_75_percent)
# a counted (medium/high) suggestion rests on at least SUPPORT_TERMS matched terms that are not
# only in the test's path, each adding at least SUPPORT_SHARE of its score
SUPPORT_TERMS, SUPPORT_SHARE = 2, 0.1
OWN_FIELDS = frozenset({"name", "docstring", "description"})  # the test's own words, not its file's
NAME_DAMPING = 0.5
MAX_QUERY_WEIGHT = 5
REQUIREMENT_WEIGHTS = {"title": 3, "id": 2, "tags": 2, "check": 2, "section": 2,
                       "statement": 1, "category": 1, "metrics": 1}
SYNONYMS_FILE = Path(__file__).with_name("synonyms.yaml")
MAX_RESULT_BYTES = 1_000_000
_LONG_NUMBER = re.compile(r"^\d{4,}$")  # timestamps and ids, not words


@dataclass(frozen=True)
class Suggestion:
    """One suggested link: ``test_id`` probably covers ``requirement_id``."""

    requirement_id: str
    test_id: str  # TestRecord.id: a pytest node id, or a result file's path
    path: str  # the file the test is in (POSIX, relative to the target root)
    score: float  # ranking score, comparable within one run
    band: str  # one of BANDS
    why: tuple[str, ...]  # matched terms, e.g. ("mbo~order book", "pressure", "path: ifd")
    rank: int = 1  # 1 = the best candidate for this test

    def as_dict(self) -> dict:
        return {"requirement_id": self.requirement_id, "test": self.test_id, "path": self.path,
                "score": round(self.score, 4), "band": self.band, "why": list(self.why), "rank": self.rank}


# -- text analysis ---------------------------------------------------------------------------


class Analyzer:
    """Tokens of a text with synonym spellings rewritten to one canonical token ``=name``.

    Remembers a readable spelling for every token (the first seen) and, per text, which
    spelling each synonym token came from, for the ``why`` of a suggestion."""

    def __init__(self, groups: Sequence[Sequence[str]]):
        self.phrases: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
        for terms in groups:
            canon = "=" + terms[0]
            for term in terms:
                stems = tuple(_stem(w) for w in split_words(term))
                if stems:
                    self.phrases.setdefault(stems[0], []).append((stems, canon, term))
        for options in self.phrases.values():
            options.sort(key=lambda o: -len(o[0]))
        self.surface: dict[str, str] = {}
        self.analyse = lru_cache(maxsize=200_000)(self._analyse)

    def _analyse(self, text: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        words = split_words(text)
        stems = [_stem(w) for w in words]
        out: list[str] = []
        used: list[tuple[str, str]] = []
        i = 0
        while i < len(stems):
            for phrase, canon, term in self.phrases.get(stems[i], ()):
                if tuple(stems[i:i + len(phrase)]) == phrase:
                    out.append(canon)
                    used.append((canon, term))
                    self.surface.setdefault(canon, term)
                    i += len(phrase)
                    break
            else:
                word, stem = words[i], stems[i]
                if len(word) >= 2 and word not in GENERIC and stem not in _GENERIC_STEMS and not _LONG_NUMBER.match(word):
                    out.append(stem)
                    self.surface.setdefault(stem, word)
                i += 1
        return tuple(out), tuple(dict.fromkeys(used))


def load_synonyms(path: Path = SYNONYMS_FILE) -> list[list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [[str(t) for t in g["terms"]] for g in data.get("groups", []) if g.get("terms")]


# -- documents and queries ---------------------------------------------------------------------


def requirement_fields(req: Requirement, section_title: str = "") -> dict[str, str]:
    parts = req.id.split("-")
    metrics = " ".join(t.metric for t in req.thresholds)
    return {"id": " ".join(p for p in parts if not p.isdigit() and p.lower() not in ("pre",)),
            "title": req.title, "statement": req.statement, "category": req.category,
            "tags": " ".join(req.tags), "check": req.check.name if req.check else "",
            "section": section_title, "metrics": metrics}


def record_fields(record: TestRecord, root: Path) -> dict[str, str]:
    """The text of one test record per field (see the module docstring)."""
    features = getattr(record, "features", None)
    if features is not None:
        return features.fields(record.path)
    if record.kind == "result-json":
        folder, _, file = record.path.rpartition("/")
        fields = {"file": file.rsplit(".", 1)[0], "folder": folder.replace("/", " "), "name": record.name,
                  "metrics": " ".join(getattr(record, "metrics", {}) or {})}
        fields["description"] = _result_description(root / record.path)
        return fields
    node_path, _, rest = record.id.partition("::")  # pytest record read without features, or a result-case
    folder, _, file = node_path.rpartition("/")
    stem = file.rsplit(".", 1)[0]
    return {"name": record.name or rest.rsplit("::", 1)[-1], "classes": rest.replace("::", " ") if rest else "",
            "file": stem, "folder": folder.replace("/", " ")}


def _result_description(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_RESULT_BYTES:
            return ""
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return ""
    if not isinstance(data, dict):
        return ""
    return " ".join(str(data[k])[:2000] for k in ("description", "test", "name") if isinstance(data.get(k), str))


class Ranker:
    """BM25 (bm25s) over the requirements; scores tests given as weighted token maps."""

    def __init__(self, requirements: Sequence[Requirement], analyzer: Analyzer,
                 section_titles: Mapping[str, str] | None = None, k1: float = 1.2, b: float = 0.75):
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # its index build logs at DEBUG under -vv

        self.requirements = list(requirements)
        self.analyzer = analyzer
        self.doc_synonyms: list[dict[str, str]] = []
        corpus: list[list[str]] = []  # kept: the benchmark re-scores it with other libraries
        for req in self.requirements:
            tokens: list[str] = []
            used: dict[str, str] = {}
            for name, text in requirement_fields(req, (section_titles or {}).get(req.section, "")).items():
                toks, syn = analyzer.analyse(text)
                tokens += list(toks) * REQUIREMENT_WEIGHTS[name]
                for canon, term in syn:
                    used.setdefault(canon, term)
            corpus.append(tokens or ["<empty>"])
            self.doc_synonyms.append(used)
        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        self.corpus = corpus
        retriever.index(corpus, show_progress=False)
        self.vocab: dict[str, int] = {t: i for t, i in retriever.vocab_dict.items() if t}
        scores = retriever.scores
        matrix = np.zeros((len(retriever.vocab_dict), len(corpus)), dtype=np.float64)
        indptr, indices, data = scores["indptr"], scores["indices"], scores["data"]
        for token_id in range(len(indptr) - 1):
            lo, hi = indptr[token_id], indptr[token_id + 1]
            matrix[token_id, indices[lo:hi]] = data[lo:hi]
        # the phase prior scales each requirement's column once, so every score carries it
        prior = np.array([1.0 if getattr(r, "phase", TESTED_PHASE) in (TESTED_PHASE, 0) else LATER_PHASE_PRIOR
                          for r in self.requirements])
        self.matrix = matrix * prior
        self._known = lru_cache(maxsize=100_000)(self._known_tokens)

    def _known_tokens(self, text: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """Distinct tokens of ``text`` that some requirement uses (cached: module docstrings and
        imports are shared by every test of a file)."""
        toks, syn = self.analyzer.analyse(text)
        return tuple(t for t in dict.fromkeys(toks) if t in self.vocab), syn

    def query(self, fields: Mapping[str, str]) -> tuple[dict[str, float], dict[str, set[str]], dict[str, str]]:
        """Weighted tokens of a test, the fields each came from, and its synonym spellings."""
        weights: dict[str, float] = {}
        where: dict[str, set[str]] = {}
        spellings: dict[str, str] = {}
        for name, text in fields.items():
            if not text:
                continue
            toks, syn = self._known(text)
            for tok in toks:
                where.setdefault(tok, set()).add(name)
            for canon, term in syn:
                spellings.setdefault(canon, term)
        for tok, names in where.items():
            if tok.isdigit() and not names & NUMBER_FIELDS:
                continue  # a number in a docstring, call or import is a value, not a topic
            weights[tok] = min(MAX_QUERY_WEIGHT, sum(TEST_WEIGHTS.get(n, 1) for n in names))
        return weights, where, spellings

    def scores(self, weights: Mapping[str, float]) -> np.ndarray:
        return self.contributions(weights).sum(axis=0)

    def contributions(self, weights: Mapping[str, float]) -> np.ndarray:
        """tokens x requirements: what each of the test's tokens adds to each requirement's
        score (rows in the order of ``weights``); their column sums are the scores."""
        if not weights:
            return np.zeros((0, len(self.requirements)))
        ids = np.fromiter((self.vocab[t] for t in weights), dtype=np.intp, count=len(weights))
        w = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
        return self.matrix[ids] * w[:, None]

    def why(self, doc: int, weights: Mapping[str, float], where: Mapping[str, set[str]],
            spellings: Mapping[str, str], limit: int = 6, contributions: np.ndarray | None = None) -> tuple[str, ...]:
        tokens = list(weights)
        column = (self.contributions(weights) if contributions is None else contributions)[:, doc]
        top = [i for i in np.argsort(-column, kind="stable")[:limit * 2] if column[i] > 0]
        # biggest contribution first, ties by token (the order the text names them is arbitrary)
        contributions = sorted(((float(column[i]), tokens[i]) for i in top), key=lambda x: (-x[0], x[1]))
        out = []
        for _, tok in contributions[:limit]:
            if tok.startswith("="):
                req_term = self.doc_synonyms[doc].get(tok, tok[1:])
                test_term = spellings.get(tok, req_term)
                label = req_term if req_term == test_term else f"{req_term}~{test_term}"
            else:
                label = self.analyzer.surface.get(tok, tok)
            if where.get(tok, set()) <= PATH_FIELDS:
                label = f"path: {label}"
            out.append(label)
        return tuple(out)


def band_for(score: float, margin: float) -> str:
    """The confidence band of a candidate (rule in the module docstring)."""
    if score >= HIGH_SCORE and margin >= HIGH_MARGIN:
        return "high"
    if (score >= MEDIUM_SCORE and margin >= MEDIUM_MARGIN) or score >= HIGH_SCORE:
        return "medium"
    return "low"


def supporting_terms(column: np.ndarray, score: float, weights: Mapping[str, float],
                     where: Mapping[str, set[str]]) -> int:
    """How many of a test's matched terms each add at least ``SUPPORT_SHARE`` of ``score``
    and occur outside the test's path (``column``: the test's per-token contributions to one
    requirement, in the order of ``weights``)."""
    strong = np.flatnonzero(column >= SUPPORT_SHARE * score)
    if len(strong) < SUPPORT_TERMS:
        return len(strong)
    tokens = list(weights)
    return sum(1 for i in strong if not where.get(tokens[i], set()) <= PATH_FIELDS)


def background_damping(queries: Sequence[tuple[Mapping[str, float], Mapping[str, set[str]], Mapping[str, str]]]
                       ) -> dict[str, float]:
    """Query-weight factor of each token by how many of the repository's tests use it (rule in
    the module docstring): 1 up to ``BACKGROUND_FREE`` of the tests, then falling with the log
    of the share, to 0 when every test has it."""
    n = max(len(queries), BACKGROUND_MIN_TESTS)
    df: dict[str, int] = {}
    for weights, _, _ in queries:
        for tok in weights:
            df[tok] = df.get(tok, 0) + 1
    free = n * BACKGROUND_FREE
    scale = np.log(1.0 / BACKGROUND_FREE)
    return {tok: float(max(0.0, np.log(n / c) / scale)) ** BACKGROUND_POWER for tok, c in df.items() if c > free}


def _confirmed_ids(confirmed: Mapping[str, Sequence[TestRecord]] | None) -> set[str]:
    return {r.id for records in (confirmed or {}).values() for r in records}


def suggest_links(requirements: Sequence[Requirement], records: Iterable[TestRecord], root: Path,
                  confirmed: Mapping[str, Sequence[TestRecord]] | None = None,
                  top_k: int = 3, *, section_titles: Mapping[str, str] | None = None,
                  synonyms: Sequence[Sequence[str]] | None = None) -> list[Suggestion]:
    """Suggestions for every test record not covered by a confirmed link (``confirmed``:
    requirement id -> records, as :func:`golive.plugins.traceability.link` returns), at most
    ``top_k`` per test, best first. Result containers (JUnit, pytest-json-report) get none.

    ``section_titles`` (section id -> title) adds the section titles to the requirement
    documents; ``synonyms`` replaces the groups of ``synonyms.yaml``. Output order: by test id,
    then rank; ties between requirements go to the plan's order."""
    requirements = [r for r in requirements if not getattr(r, "manual", False)]
    if not requirements or top_k < 1:
        return []
    skip = _confirmed_ids(confirmed)
    todo = sorted((r for r in records if r.kind in SUGGESTED_KINDS and r.id not in skip), key=lambda r: r.id)
    if not todo:
        return []
    ranker = Ranker(requirements, Analyzer(load_synonyms() if synonyms is None else synonyms), section_titles)
    queries = [ranker.query(record_fields(record, Path(root))) for record in todo]
    damping = background_damping(queries)
    by_file: dict[str, list[tuple[TestRecord, np.ndarray, tuple]]] = {}
    for record, query in zip(todo, queries):
        where = query[1]
        weights = {t: w * (damping.get(t, 1.0) ** (NAME_DAMPING if where[t] & OWN_FIELDS else 1.0))
                   for t, w in query[0].items()}
        query = (weights,) + query[1:]
        parts = ranker.contributions(weights)
        scores = parts.sum(axis=0)
        if scores.size and scores.max() > 0:
            by_file.setdefault(record.path, []).append((record, scores, query + (parts,)))
    out: list[Suggestion] = []
    for tests in by_file.values():
        for record, scores, (weights, where, spellings, parts), order, margin in _diversified(tests, top_k):
            for rank, doc in enumerate(order, start=1):
                score = float(scores[doc])
                if score <= 0:
                    break
                band = band_for(score, margin if rank == 1 else 1.0)
                if band != "low" and supporting_terms(parts[:, doc], score, weights, where) < SUPPORT_TERMS:
                    band = "low"
                out.append(Suggestion(requirement_id=requirements[doc].id, test_id=record.id, path=record.path,
                                      score=score, band=band,
                                      why=ranker.why(int(doc), weights, where, spellings, contributions=parts),
                                      rank=rank))
    out.sort(key=lambda s: (s.test_id, s.rank))
    return out


def _diversified(tests: list[tuple[TestRecord, np.ndarray, tuple]], top_k: int):
    """Candidate order and first-candidate margin of each test of one file.

    The tests of a file usually verify different aspects, and their shared words (file name,
    module docstring, imports) pull them all toward one requirement. So, strongest test first:
    a test whose best requirement is already the best of a stronger test in the file, and
    whose runner-up scores at least ``DIVERSIFY_RATIO`` of its best and is nobody's best yet,
    is offered the runner-up first (margin 1: at most ``medium``)."""
    taken: set[int] = set()
    ranked = sorted(tests, key=lambda t: (-float(t[1].max()), t[0].id))
    for record, scores, query in ranked:
        order = [int(i) for i in np.argsort(-scores, kind="stable")[:max(top_k, 2)]]
        best, second = float(scores[order[0]]), float(scores[order[1]]) if len(order) > 1 else 0.0
        margin = best / second if second > 0 else float("inf")
        if (order[0] in taken and len(order) > 1 and order[1] not in taken
                and second >= DIVERSIFY_RATIO * best):
            order[0], order[1] = order[1], order[0]
            margin = 1.0
        taken.add(order[0])
        yield record, scores, query, order[:top_k], margin
