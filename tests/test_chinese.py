"""Chinese text end to end with a model that reads it: a tiny BERT built here from a Chinese character
vocabulary (random weights, no download) in a model folder under the model root; and the default
English model stopped with a sentence that says what to do."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from chinese_kit import ENTITIES, REVIEWS, build_chinese_bert
from cli_kit import trainer_cli

from trainer.data import DataError
from trainer.data.word_rule import join_words
from trainer.prepare import prepare


@pytest.fixture(scope="module")
def model_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    build_chinese_bert(root / "tiny-chinese-bert")
    pickled = root / "pickled-only"  # weights only as a pickle: listed, and said to be unusable
    pickled.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (pickled / name).write_bytes((root / "tiny-chinese-bert" / name).read_bytes())
    (pickled / "pytorch_model.bin").write_bytes(b"not loaded")
    return root


@pytest.fixture
def models_here(model_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INSIGHT_MODELS", str(model_root))
    return model_root


@pytest.fixture(scope="module")
def chinese_tokenizer(model_root: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_root / "tiny-chinese-bert")


def test_a_model_folder_under_the_root_is_listed_with_the_languages_its_vocabulary_reads(models_here):
    from trainer.model.catalog import available_models, models_reading

    default, pickled, tiny = available_models()  # the default first, then by name
    assert (default.value, default.scripts) == ("default", ("Latin",))
    assert tiny.name == "tiny-chinese-bert" and tiny.reads("Han") and tiny.problem is None
    assert "reads Chinese" in tiny.shown
    assert pickled.problem and "safetensors" in pickled.problem and not pickled.reads("Latin")
    assert [m.name for m in models_reading("Han")] == ["tiny-chinese-bert"]


def test_the_default_model_on_chinese_text_stops_check_and_fit_with_what_to_do(models_here, tmp_path):
    done = trainer_cli("check", str(REVIEWS), in_process=True)
    assert done.returncode != 0
    said = done.stdout + done.stderr
    assert "Chinese characters, which the default model (all-MiniLM-L6-v2) does not read" in said
    assert "Choose a model that reads them: tiny-chinese-bert." in said
    assert "NOT OK" in said or "error" in said.lower()
    done = trainer_cli("fit", str(REVIEWS), "--max-steps", "2", runs_dir=tmp_path / "runs", in_process=True)
    assert done.returncode != 0 and "does not read" in done.stdout + done.stderr
    assert not list((tmp_path / "runs").glob("*/model/*.safetensors")), "nothing was trained"


def test_without_a_chinese_model_the_stop_says_how_to_add_one(tmp_path, monkeypatch):
    monkeypatch.setenv("INSIGHT_MODELS", str(tmp_path / "empty"))
    done = trainer_cli("--lang", "zh", "check", str(REVIEWS), in_process=True)
    assert done.returncode != 0
    said = done.stdout + done.stderr
    assert "默认模型" in said and str(tmp_path / "empty") in said and "model.safetensors" in said


def test_chinese_reviews_train_predict_and_explain_word_by_word(models_here, chinese_tokenizer, tmp_path):
    from trainer.attribution import explain
    from trainer.config import TrainConfig
    from trainer.runs import RunFolder, create_run
    from trainer.runs.predictor import RunModel
    from trainer.train.fit import fit

    data = prepare(str(REVIEWS), tokenizer=chinese_tokenizer)
    assert data.report.ok and set(data.labels) == {"正面", "负面"}
    run_dir = create_run(tmp_path / "runs", "zh")
    config = TrainConfig(model=str(models_here / "tiny-chinese-bert"), max_steps=6, batch_size=16,
                         learning_rate=1e-3)  # fmt: skip
    RunFolder(run_dir).write_inputs(config.to_dict(), data)
    fit(config, data, run_dir)
    model = RunModel.load(run_dir)
    texts = ["质量很好，我很满意。", "送餐太慢了，菜也凉了，非常失望。"]
    predictions = model.predict(texts)
    assert set(predictions.labels) <= {"正面", "负面"} and predictions.probabilities.shape == (2, 2)
    for exp in explain(
        model.model, model.tokenizer, model.labels, texts, max_length=model.max_length, n_steps=16
    ):
        assert len(exp.tokens) == sum(len(w) for w in exp.words)  # a token per character
        assert {"质量", "满意"} <= set(exp.words) or {"非常", "失望"} <= set(exp.words)
        assert sum(exp.scores) == pytest.approx(sum(exp.token_scores), abs=1e-6)
        for word, score, (a, b) in zip(exp.words, exp.scores, exp.word_spans, strict=True):
            inside = [s for s, (ta, tb) in zip(exp.token_scores, exp.token_spans, strict=True) if a <= ta < b]
            assert score == pytest.approx(sum(inside), abs=1e-6), word
        faith = exp.faithfulness  # its deletions remove whole words (every character of 满意), not characters
        assert faith.top_words == [exp.words[i] for i in faith.top_indices] and set(faith.top_words) <= set(
            exp.words
        )


def test_alert_words_and_scores_of_new_chinese_text_are_words(models_here, chinese_tokenizer, tmp_path):
    from trainer.apply.run_scoring import alert_words
    from trainer.config import TrainConfig
    from trainer.runs import RunFolder, create_run
    from trainer.runs.predictor import RunModel
    from trainer.train.fit import fit

    data = prepare(str(REVIEWS), tokenizer=chinese_tokenizer)
    run_dir = create_run(tmp_path / "runs", "zh")
    config = TrainConfig(model=str(models_here / "tiny-chinese-bert"), max_steps=4, batch_size=16)
    RunFolder(run_dir).write_inputs(config.to_dict(), data)
    fit(config, data, run_dir)
    model = RunModel.load(run_dir)
    with REVIEWS.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    now = [r["text"] for r in rows if r["label"] == "负面"][:8]
    before = [r["text"] for r in rows if r["label"] == "正面"][:8]
    words = alert_words(model, now, before, "负面", top=20)
    assert words and any(len(w["word"]) > 1 for w in words)
    assert all(w["word"] in "".join(now) for w in words)  # words of the texts, never bytes or [UNK]


def test_chinese_entities_from_a_character_per_line_conll_file(models_here, chinese_tokenizer, tmp_path):
    from trainer.config import TrainConfig
    from trainer.runs import RunFolder, create_run
    from trainer.runs.predictor import RunModel
    from trainer.train.fit import fit

    data = prepare(str(ENTITIES), tokenizer=chinese_tokenizer)
    assert data.task == "token-classification" and data.report.ok
    assert {"B-PER", "I-PER", "B-LOC", "B-ORG"} <= set(data.labels)
    first = list(data.train.tokens[0])
    assert all(len(ch) == 1 for ch in first) and join_words(first) == "".join(first)
    run_dir = create_run(tmp_path / "runs", "zh-ner")
    config = TrainConfig(model=str(models_here / "tiny-chinese-bert"), max_steps=6, batch_size=16,
                         learning_rate=1e-3)  # fmt: skip
    RunFolder(run_dir).write_inputs(config.to_dict(), data)
    fit(config, data, run_dir)
    model = RunModel.load(run_dir)
    sentence = list("张伟在北京的星辰科技工作。")
    tags = model.predict([sentence])
    assert len(tags.tags[0]) == len(sentence)  # a tag per character
    with pytest.raises(DataError, match="does not read"):
        from trainer.model.light_tokenizer import load_light_tokenizer

        prepare(str(ENTITIES), tokenizer=load_light_tokenizer("default"))
