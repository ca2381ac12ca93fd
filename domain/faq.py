"""Answering questions from the scheme's knowledge base (常见问题匹配). Pure, no I/O.

Chinese has no spaces, so a question is cut into overlapping character pairs and
triples (n-grams); English is cut into words. Each FAQ entry is indexed on its question
(both languages), its keywords and, more weakly, its answer. A query scores against an
entry by the rarity-weighted share of its n-grams the entry contains, plus a bonus for
each of the entry's keywords found in the query. Below `threshold` it is a miss: the
question goes to a person instead of getting a wrong answer.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

DEFAULT_THRESHOLD = 0.4
"""Scores below this are a miss (tuned on the five presets' FAQs, see tests/test_faq.py)."""

SUGGEST_MIN = 0.35
"""A "did you mean" suggestion must score at least this."""

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about the topic; without them "how do I" matches every entry.
_STOP = frozenset(
    {
        "a", "an", "and", "are", "any", "be", "can", "do", "does", "for", "get", "how", "i",
        "in", "is", "it", "me", "my", "of", "on", "or", "the", "there", "to", "we", "what",
        "when", "which", "who", "why", "will", "with", "you", "your",
    }
)  # fmt: skip
_CN_STOP = frozenset(
    {
        "什么", "怎么", "如何", "哪些", "请问", "可以", "是否", "需要", "我们", "你们", "一下",
        "吗", "呢", "的", "了", "吧", "啊",
    }
)  # fmt: skip


class _Label(Protocol):
    zh: str
    en: str


class FaqLike(Protocol):
    """What the matcher needs of a `domain.scheme.FaqEntry`."""

    @property
    def id(self) -> str: ...
    @property
    def question(self) -> _Label: ...
    @property
    def answer(self) -> _Label: ...
    @property
    def keywords(self) -> tuple[str, ...]: ...


def normalize(text: str) -> str:
    """Full-width to half-width, case folded, so "ＦＡＱ" and "faq" are the same."""
    return unicodedata.normalize("NFKC", text).casefold()


def grams(text: str) -> list[str]:
    """The terms of `text`: Chinese character 2- and 3-grams (single characters for a
    one-character run) and English words without stop words."""
    text = normalize(text)
    out: list[str] = []
    for run in _CJK.findall(text):
        for stop in _CN_STOP:
            run = run.replace(stop, " ")
        for piece in run.split():
            if len(piece) == 1:
                out.append(piece)
                continue
            out += [piece[i : i + 2] for i in range(len(piece) - 1)]
            out += [piece[i : i + 3] for i in range(len(piece) - 2)]
    out += [w for w in _WORD.findall(text) if w not in _STOP and (len(w) > 1 or w.isdigit())]
    return out


@dataclass(frozen=True, slots=True)
class FaqMatch:
    """One entry and how well it matched."""

    entry_id: str
    score: float


@dataclass(frozen=True, slots=True)
class FaqResult:
    """The best answer (None for a miss) and up to two other candidates ("did you mean")."""

    best: FaqMatch | None
    also: tuple[FaqMatch, ...] = ()

    @property
    def hit(self) -> bool:
        return self.best is not None


@dataclass(frozen=True, slots=True)
class _Doc:
    entry_id: str
    strong: frozenset[str]  # question + keyword grams
    weak: frozenset[str]  # answer grams
    keywords: tuple[str, ...]


class FaqIndex:
    """An index over a scheme's FAQ entries, built once and matched many times."""

    def __init__(self, entries: Iterable[FaqLike]) -> None:
        self.docs: list[_Doc] = []
        for entry in entries:
            strong = grams(entry.question.zh) + grams(entry.question.en)
            for keyword in entry.keywords:
                strong += grams(keyword)
            weak = grams(entry.answer.zh) + grams(entry.answer.en)
            self.docs.append(
                _Doc(
                    entry.id,
                    frozenset(strong),
                    frozenset(weak),
                    tuple(normalize(k) for k in entry.keywords if k.strip()),
                )
            )
        frequency: Counter[str] = Counter()
        for doc in self.docs:
            frequency.update(doc.strong | doc.weak)
        count = max(len(self.docs), 1)
        self._idf = {g: math.log(1 + count / f) for g, f in frequency.items()}
        # A term no entry has still counts against a match, but less: in Chinese most unseen
        # n-grams straddle two words and carry little meaning.
        self._unseen = 0.6 * math.log(1 + count)

    def _score(self, doc: _Doc, query: str, terms: Counter[str]) -> float:
        total = sum(self._idf.get(g, self._unseen) * n for g, n in terms.items())
        if total <= 0:
            return 0.0
        strong = sum(self._idf[g] * n for g, n in terms.items() if g in doc.strong)
        weak = sum(
            self._idf[g] * n for g, n in terms.items() if g in doc.weak and g not in doc.strong
        )
        overlap = (strong + 0.3 * weak) / total
        found = [k for k in doc.keywords if _keyword_in(k, query)]
        # Longer keywords are more telling; two or three found settle the topic.
        bonus = min(0.6, sum(0.1 + 0.03 * min(len(k), 6) for k in found))
        return round(min(1.0, overlap) + bonus, 4)

    def match(self, question: str, *, threshold: float = DEFAULT_THRESHOLD) -> FaqResult:
        """Rank the entries for `question`: the best above `threshold` and two more."""
        query = normalize(question)
        terms = Counter(grams(query))
        if not terms or not self.docs:
            return FaqResult(None)
        ranked = sorted(
            (FaqMatch(doc.entry_id, self._score(doc, query, terms)) for doc in self.docs),
            key=lambda m: (-m.score, m.entry_id),
        )
        best = ranked[0] if ranked[0].score >= threshold else None
        rest = ranked[1:] if best is not None else ranked
        also = tuple(m for m in rest if m.score >= SUGGEST_MIN)[:2]
        return FaqResult(best, also)


def _keyword_in(keyword: str, query: str) -> bool:
    if keyword.isascii():
        return re.search(rf"(?<![a-z0-9]){re.escape(keyword)}(?![a-z0-9])", query) is not None
    return keyword in query


def match_faq(
    entries: Sequence[FaqLike], question: str, *, threshold: float = DEFAULT_THRESHOLD
) -> FaqResult:
    """One-off matching of `question` against `entries` (builds the index each call)."""
    return FaqIndex(entries).match(question, threshold=threshold)


__all__ = ["DEFAULT_THRESHOLD", "FaqIndex", "FaqMatch", "FaqResult", "grams", "match_faq"]
