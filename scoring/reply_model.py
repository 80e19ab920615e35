"""A learned second opinion on a reply: which labels it is likely to carry, from the replies people labeled.

The guide's phrases are precise and explainable but miss what nobody wrote down (每个新的说法都要写进指南).
This model reads a reply the way the guide does, after ``normalize`` (Traditional, 你/侬, dialect words,
fillers and digits already evened out), as character 1-3-grams of the text and 1-3-grams of its
near-homophone codes (so 按号 and 案号 share features), TF-IDF weighted, with one logistic regression per
label (category or forbidden id). It is trained by ``scripts/train_reply_model.py`` on the tuning parts of the
evaluation set and the authors' lines (never on a held-out part) and shipped as ``reply_model.json.gz``.

The scorer only lets it *add* a label the guide missed, above a threshold chosen on replies neither had seen,
and never one the guide's own guards rejected (negation, exclusions, someone else's act, quotation). What it adds
is marked ``source="model"`` and points at the stretch of the reply that weighed most for it.

Inference is pure Python: a reply has a few hundred n-grams, each one dictionary look-up.
"""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from pathlib import Path

from core.errors import TrainerError
from scoring.normalize import Normalized, coarse_key

MODEL_PATH = Path(__file__).with_name("reply_model.json.gz")
NGRAM_SIZES = (1, 2, 3)
FORMAT_VERSION = 2
# One feature space per view of the reply; the prefix keeps their n-grams apart.
TEXT, CODES = "t", "c"


def ngrams(norm: Normalized, view: str) -> list[tuple[str, int, int]]:
    """(feature, start, end) for every n-gram of one view, inside clauses only (punctuation cuts).

    The codes view names each character by its near-homophone syllable (案号/按号 -> "an hao")."""
    units = list(norm.text) if view == TEXT else [coarse_key(ch) for ch in norm.text]
    joiner = "" if view == TEXT else " "
    clauses = norm.clauses
    grams = []
    for n in NGRAM_SIZES:
        for start in range(len(units) - n + 1):
            end = start + n
            if clauses and clauses[start] != clauses[end - 1]:
                continue
            grams.append((view + joiner.join(units[start:end]), start, end))
    return grams


class ReplyModel:
    """The exported model. Per view, each feature is one string ``"idf|label:weight,label:weight"``, read only
    when a reply contains it: parsing 17,000 small lists at load would take longer than all the replies of a
    practice session together."""

    def __init__(self, data: dict, source: str = "<memory>"):
        try:
            if data["format"] != FORMAT_VERSION:
                raise TrainerError(
                    f"{source}: 模型格式版本 {data['format']} 不认识 - 重新运行 scripts/train_reply_model.py"
                )
            self.labels: tuple[str, ...] = tuple(data["labels"])
            self.intercepts: tuple[float, ...] = tuple(data["intercepts"])
            self.thresholds: dict[str, float] = dict(data["thresholds"])
            self.features: dict[str, dict[str, str]] = data["features"]
            self.trained_on: dict[str, int] = dict(data.get("trained_on", {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise TrainerError(f"{source}: 模型文件不完整({exc}) - 重新运行 scripts/train_reply_model.py") from exc
        self._index = {label: i for i, label in enumerate(self.labels)}
        self._parsed: dict[str, tuple[float, tuple[tuple[int, float], ...]] | None] = {}
        # the scorer asks for probabilities, then for the evidence of what it adds: one vector serves both
        self._last: tuple[Normalized, dict[str, float]] | None = None

    def _feature(self, view: str, gram: str) -> tuple[float, tuple[tuple[int, float], ...]] | None:
        """(idf, ((label index, weight), ...)) of one feature, or None when the model does not know it."""
        if gram in self._parsed:
            return self._parsed[gram]
        raw = self.features.get(view, {}).get(gram)
        parsed = None
        if raw is not None:
            idf, _, pairs = raw.partition("|")
            weights = tuple((int(i), float(w)) for i, w in (pair.split(":") for pair in pairs.split(",") if pair))
            parsed = (float(idf), weights)
        self._parsed[gram] = parsed
        return parsed

    @classmethod
    def load(cls, path: str | Path = MODEL_PATH) -> ReplyModel:
        path = Path(path)
        try:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError as exc:
            raise TrainerError(f"{path}: 找不到回复模型 - 运行 scripts/train_reply_model.py 生成") from exc
        except (OSError, json.JSONDecodeError) as exc:
            raise TrainerError(f"{path}: 回复模型读不出来({exc}) - 重新运行 scripts/train_reply_model.py") from exc
        return cls(data, str(path))

    def _vector(self, norm: Normalized) -> dict[str, float]:
        """TF-IDF per view (sublinear tf, L2 per view), as in training; unknown n-grams count for nothing."""
        if self._last is not None and self._last[0] is norm:
            return self._last[1]
        vector: dict[str, float] = {}
        for view in self.features:
            counts = Counter(g for g, _, _ in ngrams(norm, view))
            values = {}
            for g, c in counts.items():
                known = self._feature(view, g)
                if known is not None:
                    values[g] = (1.0 + math.log(c)) * known[0]
            length = math.sqrt(sum(v * v for v in values.values()))
            if length:
                vector.update((g, v / length) for g, v in values.items())
        self._last = (norm, vector)
        return vector

    def probabilities(self, norm: Normalized) -> dict[str, float]:
        """The probability of every label for this reply."""
        scores = list(self.intercepts)
        for feature, value in self._vector(norm).items():
            for i, w in self._parsed[feature][1]:
                scores[i] += value * w
        return {label: _sigmoid(s) for label, s in zip(self.labels, scores, strict=True)}

    def evidence(self, norm: Normalized, label: str) -> tuple[int, int]:
        """The stretch of one clause whose n-grams weigh most for ``label`` ([start, end) in ``norm``)."""
        i = self._index[label]
        vector = self._vector(norm)
        weight = {f: w for f in vector for j, w in self._parsed[f][1] if j == i}
        per_char = [0.0] * len(norm)
        for view in self.features:
            grams = ngrams(norm, view)
            counts = Counter(g for g, _, _ in grams)
            for g, start, end in grams:
                if g in weight:
                    share = vector[g] * weight[g] / counts[g] / (end - start)
                    for k in range(start, end):
                        per_char[k] += share
        return _best_stretch(per_char, norm.clauses)


def _best_stretch(values: list[float], clauses: tuple[int, ...]) -> tuple[int, int]:
    """The contiguous run with the largest sum, within one clause (Kadane per clause)."""
    best, best_span = -math.inf, (0, min(1, len(values)))
    start, total = 0, 0.0
    for k, v in enumerate(values):
        if k == 0 or total <= 0 or (clauses and clauses[k] != clauses[k - 1]):
            start, total = k, 0.0
        total += v
        if total > best:
            best, best_span = total, (start, k + 1)
    return best_span


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
