"""The reply model: same numbers as the library it was trained with, reproducible from the data, and only ever
adding what the guide missed, never what the guide's guards turned down."""

from __future__ import annotations

import gzip
import importlib.util
import json

import pytest
from conftest import ROOT

from core.errors import TrainerError
from scoring.normalize import normalize
from scoring.reply_model import CODES, MODEL_PATH, TEXT, ReplyModel, ngrams
from scoring.scorer import Scorer


def _training_module():
    spec = importlib.util.spec_from_file_location("train_reply_model", ROOT / "scripts" / "train_reply_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def retrained() -> tuple[ReplyModel, list[dict]]:
    """The model trained afresh from the data in the tree (scikit-learn, ~10 s)."""
    train = _training_module()
    rows, counts = train.training_rows()
    data = train.train(rows, train.labels_of_the_guide())
    data["trained_on"] = counts
    return ReplyModel(data), rows


@pytest.fixture(scope="module")
def shipped() -> ReplyModel:
    return ReplyModel.load()


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer.default()


def test_the_shipped_model_is_the_one_the_data_gives(shipped: ReplyModel, retrained) -> None:
    fresh, rows = retrained
    assert shipped.trained_on == fresh.trained_on, "tests/data changed: run scripts/train_reply_model.py"
    assert shipped.labels == fresh.labels and shipped.thresholds == fresh.thresholds
    worst = 0.0
    for row in rows:
        norm = normalize(row["text"])
        a, b = shipped.probabilities(norm), fresh.probabilities(norm)
        worst = max(worst, max(abs(a[k] - b[k]) for k in a))
    assert worst < 0.01, (
        f"the shipped model differs from a fresh training by {worst:.3f}: run scripts/train_reply_model.py"
    )


def test_never_trained_on_a_held_out_part(shipped: ReplyModel) -> None:
    assert shipped.trained_on and not any(part.startswith("heldout") for part in shipped.trained_on)


def test_pure_python_inference_matches_scikit_learn() -> None:
    """The exported weights, read without scikit-learn, give scikit-learn's probabilities (up to pruning)."""
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    train = _training_module()
    rows = [
        {"text": "您好,请讲。", "categories": ["greeting"], "forbidden": []},
        {"text": "请您稍等,我帮您查一下。", "categories": ["hold"], "forbidden": []},
        {"text": "您别着急,我理解您的心情。", "categories": ["empathy"], "forbidden": []},
        {"text": "我会把情况转告法官。", "categories": ["commitment"], "forbidden": []},
        {"text": "不知道,你自己去查。", "categories": [], "forbidden": ["dont_know", "check_yourself"]},
        {"text": "你好 请将", "categories": ["greeting"], "forbidden": []},
    ] * 2
    labels = ["greeting", "hold", "empathy", "commitment", "dont_know"]
    exported = ReplyModel({**train.train(rows, labels), "trained_on": {}})
    norms = [normalize(r["text"]) for r in rows]
    views = {
        v: TfidfVectorizer(analyzer=lambda n, v=v: [g for g, _, _ in ngrams(n, v)], sublinear_tf=True, min_df=2)
        for v in (TEXT, CODES)
    }
    matrix = hstack([views[v].fit_transform(norms) for v in views]).tocsr()
    probe = normalize("你好,请您稍等")
    probe_matrix = hstack([views[v].transform([probe]) for v in views]).tocsr()
    got = exported.probabilities(probe)
    for label in labels:
        y = np.array([label in r["categories"] or label in r["forbidden"] for r in rows])
        model = LogisticRegression(C=train.C, class_weight="balanced", max_iter=5000).fit(matrix, y)
        assert got[label] == pytest.approx(model.predict_proba(probe_matrix)[0, 1], abs=0.02), label


def test_features_do_not_depend_on_what_was_normalised_before() -> None:
    """Near-homophone features are syllables, not the per-process code points (案号 = 按号 in any process)."""
    grams = {g for g, _, _ in ngrams(normalize("按号"), CODES)}
    assert grams == {g for g, _, _ in ngrams(normalize("案号"), CODES)}
    assert all(g[1:].replace(" ", "").isascii() and g[1:].replace(" ", "").isalpha() for g in grams), grams
    assert len(grams) == 3  # 按, 号, 按号


def test_the_model_credits_a_paraphrase_the_guide_has_no_phrase_for(scorer: Scorer) -> None:
    text = "您这个事我揽下了，有眉目了第一个告诉您。"
    alone = Scorer(scorer.guide).analyze(text)
    analysis = scorer.analyze(text)
    assert "commitment" not in alone.categories  # the guide alone misses it…
    assert "commitment" in analysis.categories  # …the model does not
    (match,) = [m for m in analysis.matches if m.category == "commitment"]
    assert match.source == "model" and match.guide_phrase == scorer.guide.categories["commitment"].standard
    start, end = match.span
    assert 0 <= start < end <= len(text) and "，" not in text[start:end]  # one clause of the reply
    turn = scorer.score_turn(analysis, ["commitment"])
    assert turn.score == 100.0 and any("模型判断" in r.why for r in turn.reasons)


@pytest.mark.parametrize(
    ("text", "label", "kind"),
    [
        ("我不会把您的情况转告法官。", "commitment", "category"),  # negation
        ("我不是不知道。", "dont_know", "forbidden"),  # double negative
    ],
)
def test_the_model_never_overrides_a_guard(scorer: Scorer, text: str, label: str, kind: str) -> None:
    assert scorer.model.probabilities(normalize(text))[label] >= scorer.model.thresholds[kind]  # the model would…
    analysis = scorer.analyze(text)  # …but the guide found the words and its guard turned them down
    assert label not in analysis.categories and label not in {f.id for f in analysis.forbidden}


def test_what_the_model_adds_is_marked_in_json(scorer: Scorer) -> None:
    data = scorer.analyze("您这个事我揽下了，有眉目了第一个告诉您。").to_json()
    assert {m["source"] for m in data["matches"]} == {"model"}


def test_without_a_model_the_guide_alone_decides() -> None:
    scorer = Scorer.load(model_path=None)
    assert scorer.model is None
    assert scorer.analyze("您好,请讲。").categories == ["greeting"]


def test_a_missing_or_broken_model_file_says_how_to_make_it(tmp_path) -> None:
    with pytest.raises(TrainerError, match="train_reply_model.py"):
        ReplyModel.load(tmp_path / "nope.json.gz")
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(TrainerError, match="train_reply_model.py"):
        ReplyModel.load(broken)
    incomplete = tmp_path / "incomplete.json.gz"
    with gzip.open(incomplete, "wt", encoding="utf-8") as f:
        json.dump({"format": 2, "labels": []}, f)
    with pytest.raises(TrainerError, match="train_reply_model.py"):
        ReplyModel.load(incomplete)


def test_the_shipped_file_is_small_and_in_place() -> None:
    assert MODEL_PATH.exists() and MODEL_PATH.stat().st_size < 2_000_000
