"""Compressed variants of a run (`python -m trainer compress`): each verdict comes from the run's own paired
test on its test split; a faithful variant is kept and a broken one refused with its numbers; a kept variant
answers through `score` and `serve` as it does in-process, and `/info` names it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from cli_kit import trainer_cli
from test_serve import Server

from trainer.train.compress import judge

KEYS = {"name", "accepted", "reason", "score", "original_score", "metric", "agreement", "p_value", "speedup",
        "size_mb", "original_size_mb"}  # fmt: skip
TEXTS = ["great product, works well", "terrible, it broke at once", "it is fine I guess", "love it", "awful"]


def frames(gold: list[str], original: list[str], variant: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (
        pd.DataFrame({"gold": gold, "predicted": original}),
        pd.DataFrame({"gold": gold, "predicted": variant}),
    )


def test_the_verdict_is_the_paired_tests_and_a_broken_variant_is_refused_with_its_numbers():
    gold = ["a", "b"] * 20
    same = judge("text", ["a", "b"], *frames(gold, gold, gold))
    assert same["accepted"] and same["p_value"] == 1.0 and same["agreement"] == 1.0
    assert same["metric"] == "accuracy" and same["score"] == same["original_score"] == 1.0
    # ten answers the original got right turned wrong: McNemar finds the loss real
    worse = ["b" if g == "a" and i < 20 else g for i, g in enumerate(gold)]
    refused = judge("text", ["a", "b"], *frames(gold, gold, worse))
    assert not refused["accepted"] and refused["p_value"] < 0.05 and refused["agreement"] == 0.75
    assert (
        "real loss" in refused["reason"] and "McNemar" in refused["reason"] and "0.750" in refused["reason"]
    )
    # one answer in twenty: too few to call real, but five points are beyond the margin
    small = gold[:20]
    one = judge("text", ["a", "b"], *frames(small, small, ["b"] + small[1:]))
    assert not one["accepted"] and one["p_value"] == 1.0 and "margin" in one["reason"]
    # one answer in two hundred: half a point, inside the margin, and not a real loss
    many = ["a", "b"] * 100
    kept = judge("text", ["a", "b"], *frames(many, many, ["b"] + many[1:]))
    assert kept["accepted"] and kept["agreement"] == pytest.approx(0.995)


def test_an_entity_variant_is_judged_on_entity_f1_by_the_paired_bootstrap():
    gold = ["B-PER O O", "O B-LOC I-LOC"] * 15
    kept = judge("token", [], *frames(gold, gold, gold))
    assert kept["accepted"] and kept["metric"] == "f1" and "paired bootstrap" in kept["reason"]
    lost = judge("token", [], *frames(gold, gold, ["O O O"] * 30))
    assert not lost["accepted"] and lost["score"] == 0.0 and lost["agreement"] == pytest.approx(0.5)


@pytest.fixture(scope="module")
def compressed(tmp_path_factory, tiny_text_run):
    runs = tmp_path_factory.mktemp("compress-runs")
    run = Path(shutil.copytree(tiny_text_run, runs / tiny_text_run.name))
    done = trainer_cli("compress", run, "--to", "onnx", "int8", "--json", runs_dir=runs, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return runs, run, json.loads(done.stdout)


def test_compress_json_has_a_verdict_per_variant_and_keeps_only_the_accepted(compressed):
    runs, run, found = compressed
    assert found["run"] == run.name and [v["name"] for v in found["variants"]] == ["onnx", "int8"]
    for entry in found["variants"]:
        assert set(entry) >= KEYS
        assert entry["accepted"] == entry["reason"].startswith("accepted")
        assert (run / "variants" / entry["name"] / "model.onnx").is_file() == entry["accepted"]
        assert entry["speedup"] > 0 and entry["size_mb"] > 0 and entry["original_size_mb"] > 0
    onnx = found["variants"][0]
    # the same float32 arithmetic in another engine: the same label for every test example
    assert onnx["accepted"] and onnx["agreement"] == 1.0 and onnx["score"] == onnx["original_score"]


def test_a_kept_variant_answers_through_score_and_serve_as_it_does_in_process(compressed, tmp_path):
    from trainer.runs.predictor import RunModel

    runs, run, _ = compressed
    model = RunModel.load(run, variant="onnx")
    assert model.variant == "onnx" and model.engine == "ONNX Runtime"
    own = model.score(TEXTS)
    data = tmp_path / "new.csv"
    pd.DataFrame({"text": TEXTS}).to_csv(data, index=False)
    out = tmp_path / "scored.csv"
    done = trainer_cli("score", run, data, "--variant", "onnx", "--out", out, "--quiet", runs_dir=runs)
    assert done.returncode == 0, done.stderr[-2000:]
    scored = pd.read_csv(out)
    assert scored["predicted"].tolist() == own.labels
    columns = [f"p_{label}" for label in model.labels]
    np.testing.assert_allclose(scored[columns].to_numpy(), own.probabilities, atol=1e-4)  # written rounded
    server = Server(runs, str(run), "--variant", "onnx", "--no-tokens")
    try:
        info = httpx.get(server.url + "/info", timeout=30).json()
        assert info["variant"] == "onnx" and info["engine"] == "ONNX Runtime"
        answer = httpx.post(server.url + "/predict", json={"inputs": TEXTS}, timeout=60).json()
        for i, predictions in enumerate(answer["predictions"]):
            assert predictions[0]["label"] == own.labels[i]
            for item in predictions:
                assert item["score"] == pytest.approx(
                    own.probabilities[i][model.labels.index(item["label"])], abs=1e-5
                )
        explained = httpx.post(server.url + "/explain", json={"inputs": TEXTS[0]}, timeout=120)
        assert explained.status_code == 200 and explained.json()["explanations"][0]["words"]
    finally:
        server.stop()


def test_a_deliberately_broken_variant_is_refused_with_its_numbers_and_cannot_be_used(
    compressed, tmp_path, monkeypatch
):
    import torch

    from trainer.train import compress, shrink

    runs, run, _ = compressed
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.6, "the tiny run must have learned its easy sentiment data"
    broken = Path(shutil.copytree(run, tmp_path / run.name))
    shutil.rmtree(broken / "variants")
    make = shrink.make_onnx

    def reversed_head(model, work):  # the head's scores negated: every answer becomes the least likely label
        with torch.no_grad():
            model.model.classifier.weight.neg_()
            model.model.classifier.bias.neg_()
        return make(model, work)

    monkeypatch.setattr(shrink, "make_onnx", reversed_head)
    found = compress.compress(broken, ["onnx"])
    entry = found["variants"][0]
    assert not entry["accepted"] and entry["agreement"] == 0.0 and entry["p_value"] < 0.05
    assert entry["reason"].startswith("refused") and "McNemar p =" in entry["reason"]
    assert not (broken / "variants" / "onnx").exists()
    data = tmp_path / "new.csv"
    pd.DataFrame({"text": TEXTS}).to_csv(data, index=False)
    done = trainer_cli("score", broken, data, "--variant", "onnx", "--quiet", runs_dir=runs)
    assert done.returncode == 2 and "was refused" in done.stderr and "Traceback" not in done.stderr


def test_an_entity_run_exports_to_onnx_with_the_same_tags(tmp_path, tiny_entity_run):
    from trainer.runs.predictor import RunModel

    run = Path(shutil.copytree(tiny_entity_run, tmp_path / "runs" / tiny_entity_run.name))
    done = trainer_cli("compress", run, "--to", "onnx", "--json", runs_dir=tmp_path / "runs", timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    entry = json.loads(done.stdout)["variants"][0]
    assert entry["metric"] == "f1" and entry["agreement"] == 1.0 and entry["accepted"]
    sentences = [["Maria", "lives", "in", "Berlin"], ["Acme", "hired", "John", "Smith", "today"]]
    plain, variant = RunModel.load(run), RunModel.load(run, variant="onnx")
    assert variant.predict(sentences).tags == plain.predict(sentences).tags


def test_a_monitor_scores_with_the_variant_it_was_created_with(compressed, tmp_path):
    from trainer.monitor import monitor as monitors
    from trainer.runs.predictor import RunModel

    runs, run, _ = compressed
    refused = trainer_cli("monitor", "create", "small", "--run", run, "--text-column", "text", "--time-column",
                          "day", "--variant", "smaller", runs_dir=runs)  # fmt: skip
    assert refused.returncode == 2 and "no smaller variant" in refused.stderr and "compress" in refused.stderr
    assert "small" not in monitors.names(runs)
    texts = TEXTS * 4
    data = tmp_path / "dated.csv"
    pd.DataFrame({"day": [f"2026-11-{1 + i:02d}" for i in range(len(texts))], "text": texts}).to_csv(
        data, index=False
    )
    for command in (("create", "fast", "--run", run, "--text-column", "text", "--time-column", "day", "--variant",
                     "int8" if (run / "variants" / "int8").is_dir() else "onnx"), ("add", "fast", data)):  # fmt: skip
        done = trainer_cli("monitor", *command, runs_dir=runs)
        assert done.returncode == 0, done.stderr[-2000:]
    watched = monitors.Monitor(runs, "fast")
    expected = pd.Series(
        RunModel.load(run, variant=watched.settings.variant).score(texts).labels
    ).value_counts()
    counts = watched.counts()
    every = counts[counts["group"] == counts["group"].iloc[0]].groupby("label")["n"].sum()
    assert every.to_dict() == expected.to_dict()


def test_the_export_page_says_each_verdict_and_the_zip_loads_with_its_own_lines(
    compressed, tmp_path, monkeypatch
):
    import io
    import subprocess
    import sys
    import zipfile

    from app_kit import open_app

    from insight_ui import state
    from insight_ui.reports import run_report

    runs, run, found = compressed
    at = open_app(runs, monkeypatch)
    at.session_state[state.CURRENT_RUN] = str(run)
    at.switch_page("insight_ui/pages/export.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Faster versions of the model" in [s.value for s in at.main.subheader]
    shown = " ".join(str(m.value) for m in at.markdown)
    assert "**Kept**: the same answer on 100.0% of the test texts; one text" in shown
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download the model with its onnx version (.zip)" in labels
    assert [b.label for b in at.button if b.key == "compress_start"] == ["Make them again"]
    (developers,) = [e for e in at.expander if "developers" in e.label]
    assert any("variants/onnx/model.onnx" in c.value for c in developers.code)

    archive = zipfile.ZipFile(io.BytesIO(run_report.model_zip(run, variant="onnx")))
    names = archive.namelist()
    assert "variants/onnx/model.onnx" in names and "model/config.json" in names and "USE.md" in names
    assert not [n for n in names if "vectors" in n or "trust" in n], names
    archive.extractall(tmp_path / "unzipped")
    lines = archive.read("USE.md").decode().split("```python\n")[1].split("```")[0]
    done = subprocess.run([sys.executable, "-c", lines], cwd=tmp_path / "unzipped", capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    from trainer.runs.predictor import RunModel

    assert done.stdout.strip() == RunModel.load(run, variant="onnx").score(["Your text here"]).labels[0]


def test_an_apply_scoring_made_with_a_variant_is_scored_by_it_and_kept_apart(compressed, tmp_path):
    from dataclasses import asdict

    from trainer.jobs import worker
    from trainer.runs import RunFolder
    from trainer.runs.predictor import RunModel
    from trainer.runs.scoring import Scoring, Spec, scoring_name

    _, run, _ = compressed
    data = tmp_path / "apply.csv"
    pd.DataFrame({"text": TEXTS}).to_csv(data, index=False)
    names = []
    for variant in (None, "onnx"):
        spec = Spec(str(data), "text", variant=variant)
        names.append(scoring_name(data, asdict(spec)))
        Scoring(run, names[-1]).write_spec(spec)
        worker._score(RunFolder(run), {"name": names[-1]}, lambda *_: None, lambda: False)
    assert names[0] != names[1], "a variant's scoring never stands in for the model's"
    scored = pd.read_csv(Scoring(run, names[1]).scored_file)
    assert scored["predicted"].tolist() == RunModel.load(run, variant="onnx").score(TEXTS).labels


def test_the_smaller_variant_keeps_every_other_layer_and_the_pooling_layer_above_them(
    tmp_path, tiny_text_run
):
    from trainer.runs import RunFolder
    from trainer.runs.predictor import RunModel
    from trainer.train import compress, shrink

    run = Path(shutil.copytree(tiny_text_run, tmp_path / "runs" / tiny_text_run.name))
    assert RunFolder(run).config()["resolved_pooling"] == "mean", "a mean-pooled run: its last layer pools"
    made: list[int] = []
    make = shrink.make_smaller

    def counted(model, run_dir, work, **kw):
        folder = make(model, run_dir, work, **kw)
        made.append(json.loads((folder / "config.json").read_text())["num_hidden_layers"])
        return folder

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shrink, "make_smaller", counted)
        entry = compress.compress(run, ["smaller"])["variants"][0]
    layers = json.loads((run / "model" / "config.json").read_text())["num_hidden_layers"]
    assert shrink.kept_layers(6) == [1, 3, 5] and shrink.kept_layers(2) == [1]
    assert made == [layers - 1], "2 encoder layers + the pooling layer became 1 + the pooling layer, not more"
    assert entry["accepted"] == (run / "variants" / "smaller" / "config.json").is_file()
    if entry["accepted"]:
        assert RunModel.load(run, variant="smaller").engine == "PyTorch"


def test_a_variant_that_changes_many_answers_must_show_the_change_costs_nothing():
    # twenty answers of two hundred changed, ten to wrong and ten to right: the same accuracy and a p-value
    # of 1, but a bootstrap bound of about -4 points: refused; one answer changed in two hundred is kept
    gold = ["a", "b"] * 100
    original = list(gold[:180]) + [("b" if g == "a" else "a") for g in gold[180:]]  # the last 20 wrong
    variant = list(original)
    for i in range(10):
        variant[i] = "b" if gold[i] == "a" else "a"  # ten right answers turned wrong
        variant[180 + i] = gold[180 + i]  # ten wrong answers turned right
    churned = judge("text", ["a", "b"], *frames(gold, original, variant))
    assert churned["score"] == churned["original_score"] and churned["p_value"] == 1.0
    assert churned["agreement"] == pytest.approx(0.9) and not churned["accepted"]
    assert "changes 10.0% of the answers" in churned["reason"] and "one-sided" in churned["reason"]
