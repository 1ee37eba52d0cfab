"""The Streamlit app through AppTest: pages load, bad input is survivable, user text stays text,
finished runs show on the analysis pages, training started from the page runs in the background."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from app_kit import open_app
from helpers import conll_file, sentiment_csv
from streamlit.testing.v1 import AppTest

from insight_ui import state
from insight_ui.components.heatmap import entity_spans_html, token_heatmap_html
from insight_ui.safe import md
from trainer.config import TrainConfig
from trainer.jobs.manager import JobManager
from trainer.prepare import prepare
from trainer.runs import RunFolder, load_run

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["data", "train", "evaluate", "explain", "embeddings", "compare", "apply", "monitors", "export"]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
HOSTILE = '<script>alert("x")</script> <b>bold</b> **stars**'


def page(name: str) -> str:
    return f"insight_ui/pages/{name}.py"


def csv_bytes(tmp_path: Path, extra: list[dict] | None = None) -> bytes:
    path = sentiment_csv(tmp_path / "reviews.csv", n=60)
    if extra:
        frame = pd.concat([pd.read_csv(path), pd.DataFrame(extra)], ignore_index=True)
        frame.to_csv(path, index=False)
    return path.read_bytes()


def upload(at: AppTest, name: str, raw: bytes) -> AppTest:
    """What the uploader's callback does with a file: hand (name, bytes) to the Data page."""
    at.session_state[state.INCOMING] = (name, raw)
    return at.run()


def texts_of(at: AppTest, kind: str) -> list[str]:
    return [str(e.value) for e in getattr(at, kind)]


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, texts_of(at, "error")


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path):
    """A runs folder with one finished tiny text run and one tiny entity run (a few steps each)."""
    runs_dir = tmp_path_factory.mktemp("runs")
    work = tmp_path_factory.mktemp("data")
    manager = JobManager(runs_dir)
    try:
        text_data = prepare(sentiment_csv(work / "s.csv", n=60))
        config = TrainConfig(
            model=str(tiny_model_dir), epochs=1, batch_size=16, learning_rate=1e-3, max_steps=4
        )
        text_job = manager.submit(config, text_data, "tiny text")
        ner_data = prepare(conll_file(work / "n.conll", n=40))
        ner_config = TrainConfig(
            model=str(tiny_model_dir), task=ner_data.task, epochs=1, batch_size=16, max_steps=3
        )
        ner_job = manager.submit(ner_config, ner_data, "tiny ner")
        for job in (text_job, ner_job):
            snap = manager.wait(job, timeout=300)
            assert snap.status == "finished", snap.error
        yield runs_dir, manager.snapshot(text_job).run_dir, manager.snapshot(ner_job).run_dir
    finally:
        manager.shutdown()


# ---------------------------------------------------------------- loading and empty states


def test_app_loads_on_the_data_page_with_uploader_and_hint(tmp_path, monkeypatch):
    at = open_app(tmp_path / "runs", monkeypatch)
    assert_clean(at)
    assert at.title[0].value == "Data"
    assert at.get("file_uploader"), "the upload widget is on the landing page"
    assert any("No data loaded yet" in t for t in texts_of(at, "info"))


@pytest.mark.parametrize("name", PAGES[1:])
def test_every_page_loads_and_points_somewhere_when_there_is_nothing_yet(name, tmp_path, monkeypatch):
    at = open_app(tmp_path / "runs", monkeypatch)
    at.switch_page(page(name)).run()
    assert_clean(at)
    assert at.title[0].value == name.capitalize()
    assert at.info, f"{name} shows an empty state"
    assert at.get("page_link"), f"{name} links to the page that fixes it"


def test_landing_page_never_imports_torch_even_with_data_loaded(tmp_path):
    data = sentiment_csv(tmp_path / "s.csv", n=30)
    script = textwrap.dedent(
        f"""
        import sys
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file("app.py", default_timeout=120).run()
        assert not at.exception, at.exception
        at.session_state["{state.INCOMING}"] = ("s.csv", open({str(data)!r}, "rb").read())
        at.run()
        assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
        assert any(m.label == "Max length (tokens)" and str(m.value).isdigit() for m in at.metric), "tokenizer checks ran"
        heavy = sorted(m for m in ("torch", "transformers", "captum") if m in sys.modules)
        print("HEAVY", heavy)
        """
    )
    env = {**os.environ, "INSIGHT_RUNS_DIR": str(tmp_path / "runs")}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "HEAVY []" in result.stdout, result.stdout


def test_an_unexpected_error_shows_a_message_not_a_traceback():
    def script():
        from insight_ui import layout

        layout.page("Broken", "A page that fails.", lambda: 1 / 0)

    at = open_app(script=script)
    assert not at.exception
    assert any(
        "Something unexpected went wrong" in t and "ZeroDivisionError" in t for t in texts_of(at, "error")
    )


# ---------------------------------------------------------------- data page


def test_a_sample_dataset_or_upload_shows_preview_mapping_and_report(tmp_path, monkeypatch):
    at = upload(open_app(tmp_path / "runs", monkeypatch), "reviews.csv", csv_bytes(tmp_path))
    assert_clean(at)
    assert at.dataframe, "preview"
    assert at.selectbox(key=state.TEXT_COLUMN).value == "text"
    assert at.selectbox(key=state.LABEL_COLUMN).value == "label"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Texts read"] == "60" and metrics["Labels"] == "3"
    assert at.get("plotly_chart"), "label distribution chart"


def test_a_bad_upload_says_why_and_keeps_the_previous_data(tmp_path, monkeypatch):
    at = upload(open_app(tmp_path / "runs", monkeypatch), "reviews.csv", csv_bytes(tmp_path))
    at = upload(at, "photo.csv", PNG)
    assert not at.exception
    errors = texts_of(at, "error")
    assert any("photo" in e and "PNG image" in e for e in errors), errors
    assert at.session_state[state.DATASET][0] == "reviews.csv"
    assert {m.label: m.value for m in at.metric}["Texts read"] == "60", "the old data is still shown"


def test_a_bad_column_choice_shows_the_message_and_keeps_the_file(tmp_path, monkeypatch):
    at = upload(open_app(tmp_path / "runs", monkeypatch), "reviews.csv", csv_bytes(tmp_path))
    at.selectbox(key=state.LABEL_COLUMN).set_value("text").run()
    assert not at.exception
    assert any("Choose two different columns" in e for e in texts_of(at, "error"))
    assert at.session_state[state.DATASET][0] == "reviews.csv"


def test_a_label_too_rare_to_learn_can_be_dropped_in_one_click(tmp_path, monkeypatch):
    raw = csv_bytes(tmp_path, [{"text": "only once", "label": "Rare"}])
    at = upload(open_app(tmp_path / "runs", monkeypatch), "reviews.csv", raw)
    assert not at.exception
    errors = texts_of(at, "error")
    assert any("fewer than 2" in e and "Rare" in e for e in errors), errors
    assert not any("--" in e for e in errors), "the app names its own widgets, not CLI options"
    assert "to_train" not in [b.key for b in at.button], "nothing to train on yet"
    at.button(key="drop_rare_labels").click().run()
    assert_clean(at)
    name, data = at.session_state[state.DATASET]
    assert name == "reviews-without-rare-labels.csv" and b"only once" not in data
    assert {m.label: m.value for m in at.metric}["Texts read"] == "60"
    assert at.button(key="to_train"), "the copy can be trained on"


def test_html_in_a_row_is_shown_literally(tmp_path, monkeypatch):
    raw = csv_bytes(tmp_path, [{"text": HOSTILE, "label": "positive"}])
    at = upload(open_app(tmp_path / "runs", monkeypatch), "reviews.csv", raw)
    assert_clean(at)
    preview = at.dataframe[0].value
    assert HOSTILE in set(preview["text"]), "the cell holds the literal text"
    rendered = [str(m.value) for m in at.markdown] + [h.proto.body for h in at.get("html")]
    assert not any("<script>" in r or "<b>bold" in r for r in rendered)


def test_entity_view_marks_wrong_and_missed_entities_with_one_colour_per_type():
    tokens = ["Anna", "Berg", "visited", "Oslo"]
    gold, pred = ["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "I-PER", "O", "B-ORG"]
    types = ["LOC", "ORG", "PER"]
    true_view = entity_spans_html(tokens, gold, {(3, 4, "LOC")}, "missed", types)
    pred_view = entity_spans_html(tokens, pred, {(3, 4, "ORG")}, "wrong", types)
    assert true_view.count("insight-error") == 1 and "dashed" in true_view and "missed" in true_view
    assert pred_view.count("insight-error") == 1 and "✗" in pred_view and "dashed" not in pred_view
    anna = 'style="background:{}'  # the PER entity has the same colour in both views
    colour = true_view.split("background:")[1].split(";")[0]
    assert anna.format(colour) in pred_view
    assert "Anna Berg" in true_view and ">Oslo <small" in pred_view
    chinese = entity_spans_html(list("我在北京"), ["O", "O", "B-LOC", "I-LOC"])
    assert "我在" in chinese and ">北京 <small" in chinese, "characters join without spaces"


def test_custom_html_escapes_user_text_and_markdown_is_escaped():
    html = token_heatmap_html(HOSTILE, ["<script>", "bold"], [0.5, -0.2], None)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in entity_spans_html(["<b>Paris</b>"], ["B-LOC"])
    assert md("**x** <b>") == r"\*\*x\*\* \<b\>"


def test_column_choices_survive_moving_between_pages(tmp_path, monkeypatch):
    raw = csv_bytes(tmp_path, [{"text": "spare", "label": "positive"}])
    frame = pd.read_csv(__import__("io").BytesIO(raw))
    frame["notes"] = "n"
    at = upload(open_app(tmp_path / "runs", monkeypatch), "reviews.csv", frame.to_csv(index=False).encode())
    at.selectbox(key=state.TEXT_COLUMN).set_value("notes").run()
    at.switch_page(page("train")).run()
    at.switch_page(page("data")).run()
    assert at.selectbox(key=state.TEXT_COLUMN).value == "notes"
    assert at.session_state[state.DATASET][0] == "reviews.csv"


# ---------------------------------------------------------------- train page


def test_train_form_shows_the_config_error_and_disables_start(tmp_path, monkeypatch):
    at = upload(open_app(tmp_path / "runs", monkeypatch), "reviews.csv", csv_bytes(tmp_path))
    at.switch_page(page("train")).run()
    assert_clean(at)
    assert not at.button(key="start_training").disabled
    at.text_input(key=state.FORM_KEYS["learning_rate"]).set_value("fast").run()
    assert any("learning rate must be a number" in e for e in texts_of(at, "error"))
    assert at.button(key="start_training").disabled
    at.text_input(key=state.FORM_KEYS["learning_rate"]).set_value("2").run()
    assert any("learning rate must be between 0 and 1" in e for e in texts_of(at, "error"))


def test_data_that_cannot_be_trained_on_is_explained_in_the_apps_words_on_the_train_page(
    tmp_path, monkeypatch
):
    six = "text,label\n" + "".join(f"text number {i},{'a' if i % 2 else 'b'}\n" for i in range(6))
    at = upload(open_app(tmp_path / "runs", monkeypatch), "six.csv", six.encode())
    at.switch_page(page("train")).run()
    assert not at.exception
    errors = texts_of(at, "error")
    assert errors and all("task must be" not in e and "--" not in e for e in errors), errors
    assert any("Only 6 usable rows" in e and "Add more rows." in e for e in errors), errors
    assert at.button(key="start_training").disabled


def test_training_from_the_page_runs_in_the_background_and_opens_the_run(
    tmp_path, monkeypatch, tiny_model_dir
):
    at = upload(open_app(tmp_path / "runs", monkeypatch), "reviews.csv", csv_bytes(tmp_path))
    at.switch_page(page("train")).run()
    at.text_input(key=state.BACKBONE).set_value(str(tiny_model_dir)).run()
    at.text_input(key=state.FORM_KEYS["max_steps"]).set_value("3").run()
    at.text_input(key=state.FORM_KEYS["name"]).set_value("from the page").run()
    try:
        at.button(key="start_training").click().run()
        assert_clean(at)
        job_id = at.session_state[state.CURRENT_JOB]
        manager = state.job_manager()
        assert manager.snapshot(job_id) is not None
        assert at.get("progress"), "the progress panel is shown"
        assert manager.wait(job_id, timeout=300).status == "finished"
        at.run()
        assert any("Training finished" in s for s in texts_of(at, "success"))
        assert at.session_state[state.CURRENT_RUN] == str(manager.snapshot(job_id).run_dir)
        status = at.dataframe[-1].value["status"].tolist()
        assert status == ["✓ finished"]
    finally:
        state.job_manager().shutdown()
        state._job_manager.clear()


# ---------------------------------------------------------------- a finished run


def open_run(at: AppTest, run_dir: Path, name: str) -> AppTest:
    at.session_state[state.CURRENT_RUN] = str(run_dir)
    return at.switch_page(page(name)).run()


def test_evaluate_shows_scores_classes_confusion_and_mistakes(trained_runs, monkeypatch):
    runs_dir, text_run, _ = trained_runs
    at = open_run(open_app(runs_dir, monkeypatch), text_run, "evaluate")
    assert_clean(at)
    assert {m.label for m in at.metric} >= {"Accuracy", "Macro-F1", "Test texts"}
    per_class = at.dataframe[0].value
    assert set(per_class["class"]) == {"negative", "neutral", "positive"}
    assert at.get("plotly_chart"), "confusion matrix"
    assert at.selectbox(key="cm_true").value in per_class["class"].tolist()
    assert "Mistakes, most confident first" in [s.value for s in at.subheader]


def test_explain_highlights_words_with_a_legend_and_trust(trained_runs, monkeypatch):
    runs_dir, text_run, _ = trained_runs
    at = open_app(runs_dir, monkeypatch)
    at.session_state[state.EXPLAIN_MODE] = "own"
    at.session_state[state.OWN_TEXT] = "great love <b>item</b>"
    at = open_run(at, text_run, "explain")
    assert_clean(at)
    bodies = [h.proto.body for h in at.get("html")]
    heatmap = next(b for b in bodies if "insight-heatmap" in b)
    assert "insight-word" in heatmap and "&lt;" in heatmap and "<b>" not in heatmap
    assert any("red:" in b and "blue:" in b for b in bodies), "a legend says what the colours mean"
    assert any("Explanation trust" in str(m.value) for m in at.markdown), "a trust badge"
    assert any(m.label == "Predicted label" for m in at.metric)


def test_export_offers_model_predictions_metrics_and_report(trained_runs, monkeypatch):
    runs_dir, text_run, _ = trained_runs
    at = open_run(open_app(runs_dir, monkeypatch), text_run, "export")
    assert_clean(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert any("model" in x for x in labels) and any("predictions" in x for x in labels)
    assert any("metrics" in x for x in labels) and any("(HTML)" in x for x in labels)
    assert any("(Markdown)" in x for x in labels)
    assert "Serve it over HTTP" in [s.value for s in at.subheader]
    code = " ".join(c.value for c in at.code)
    assert (
        f"python -m trainer serve {Path(text_run).name}" in code
        and "curl -s http://127.0.0.1:8000/predict" in code
    )


def wait_for_background(at: AppTest) -> AppTest:
    """Background tasks (embeddings) show a progress bar; AppTest does not auto-refresh, so poll."""
    for _ in range(240):
        if not at.get("progress"):
            break
        time.sleep(0.5)
        at.run()
    return at


def test_apply_scores_the_sample_and_shows_trends_drift_labelling_and_exports(trained_runs, monkeypatch):
    runs_dir, text_run, _ = trained_runs
    at = open_run(open_app(runs_dir, monkeypatch), text_run, "apply")
    assert_clean(at)
    at.button(key="apply_sample").click().run()
    assert_clean(at)
    chosen = {s.label: s.value for s in at.selectbox}
    assert chosen["Text column"] == "headline" and chosen["Date column (optional)"] == "published"
    assert chosen["Group column (optional)"] == "topic"
    at.button(key="apply_score").click().run()
    at = wait_for_background(at)
    assert_clean(at)
    assert {"Rows scored", "Untrusted", "Alerts", "Drift"} <= {m.label for m in at.metric}
    assert next(m.value for m in at.metric if m.label == "Rows scored") == "1,783"
    assert at.get("plotly_chart"), "the trend chart"
    assert "Share of each label per week" in [s.value for s in at.subheader]
    labels = {b.proto.label for b in at.get("download_button")}
    assert {"Download to label", "Scored file (CSV)", "Alerts (JSON)", "Report (HTML)"} <= labels
    # "Keep watching this" makes the scoring a monitor, without scoring it again
    at.button(key="apply_keep_watching").click().run()
    assert_clean(at)
    assert at.title[0].value == "Monitors" and at.session_state[state.MONITOR_OPEN] == "market_news"
    assert next(m.value for m in at.metric if m.label == "Rows") == "1,783"


def test_monitors_page_creates_a_monitor_from_the_sample_and_grows_it_week_by_week(
    trained_runs, monkeypatch, tmp_path
):
    runs_dir, text_run, _ = trained_runs
    at = open_run(open_app(runs_dir, monkeypatch), text_run, "monitors")
    assert_clean(at)
    at.toggle(key="monitor_new_sample").set_value(True).run()
    chosen = {s.label: s.value for s in at.selectbox}
    assert chosen["Text column"] == "headline" and chosen["Date column"] == "published"
    assert chosen["Group column (optional)"] == "topic"
    at.text_input(key="monitor_new_name").set_value("weekly-news").run()
    at.button(key="monitor_create").click().run()
    assert_clean(at)
    first = int(next(m.value for m in at.metric if m.label == "Rows").replace(",", ""))
    assert 0 < first < 1783 and next(m.value for m in at.metric if m.label == "Batches") == "1"
    assert any("since your last visit" in m.value for m in at.markdown)  # st.badge is Markdown
    for _ in range(3):
        at.button(key="monitor_next_week").click().run()
        assert_clean(at)
    assert next(m.value for m in at.metric if m.label == "Batches") == "4"
    assert int(next(m.value for m in at.metric if m.label == "Rows").replace(",", "")) > first
    assert "Batches received (4)" in [s.value for s in at.subheader]
    assert any("Share of each label per week" in s.value for s in at.subheader)
    assert any(
        b.proto.label.startswith("Download") and "to label" in b.proto.label
        for b in at.get("download_button")
    )
    from trainer.monitor import monitor as monitors

    sources = [b["source"] for b in monitors.Monitor(runs_dir, "weekly-news").batches()]
    assert sources[:2] == ["market_news week of 2026-06-01", "market_news week of 2026-06-08"]


def test_compare_shows_intervals_the_verdict_changes_and_disagreements(tmp_path, monkeypatch):
    import numpy as np
    from helpers import LABELS, fake_run

    rng = np.random.default_rng(1)
    gold = rng.choice(LABELS, 200).tolist()
    a = [g if rng.random() < 0.7 else rng.choice(LABELS) for g in gold]
    b = [g if rng.random() < 0.9 else x for g, x in zip(gold, a, strict=True)]
    runs = tmp_path / "runs"
    first = fake_run(runs, "baseline <b>x</b>", gold, a)
    second = fake_run(runs, "tuned", gold, b, lr=2e-4)
    at = open_app(runs, monkeypatch)
    at.session_state[state.CURRENT_RUN] = str(first)
    at.switch_page(page("compare")).run()
    assert_clean(at)
    assert at.multiselect(key="compare_runs").value == [str(first), str(second)]
    table = at.dataframe[0].value
    assert table["run"].tolist() == ["baseline <b>x</b>", "tuned"]
    assert all("(" in cell and "–" in cell for cell in table["Accuracy"])  # value (low–high)
    verdicts = texts_of(at, "success")
    assert any(v.startswith("tuned is better than baseline") and "1 time in" in v for v in verdicts), verdicts
    assert len(at.get("plotly_chart")) >= 3, "intervals, per-class changes, confusion difference"
    subheaders = [s.value for s in at.subheader]
    assert any(s.startswith("Where they disagree (") for s in subheaders)
    assert "Settings that differ" in " ".join(m.value for m in at.markdown)
    at.multiselect(key="compare_runs").set_value([str(first)]).run()
    assert "Pick at least two runs." in texts_of(at, "info")


def test_apply_says_why_a_file_cannot_be_read_and_keeps_the_run(trained_runs, tmp_path, monkeypatch):
    runs_dir, text_run, _ = trained_runs
    bad = tmp_path / "picture.csv"
    bad.write_bytes(PNG)
    at = open_app(runs_dir, monkeypatch)
    at.session_state[state.APPLY_FILE] = str(bad)
    at = open_run(at, text_run, "apply")
    assert not at.exception
    assert at.error and "image" in at.error[0].value.lower(), texts_of(at, "error")
    assert at.selectbox(key="apply_run").value == str(text_run)


def test_an_entity_run_shows_true_and_predicted_spans_explains_words_and_maps_entity_words(
    trained_runs, monkeypatch
):
    runs_dir, _, ner_run = trained_runs
    at = open_run(open_app(runs_dir, monkeypatch), ner_run, "evaluate")
    assert_clean(at)
    assert {m.label for m in at.metric} >= {"Entity F1", "Tag accuracy", "Test sentences"}
    assert "Sentences: true and predicted entities" in [s.value for s in at.subheader]
    at.segmented_control(key="ner_show").set_value("all").run()
    views = [h.proto.body for h in at.get("html") if "insight-entities" in h.proto.body]
    test = pd.read_csv(ner_run / "predictions.csv", keep_default_na=False)
    # each sentence twice (true, predicted): all test sentences, plus those of the clicked confusion cell
    assert len(views) % 2 == 0 and len(views) >= 2 * min(10, len(test))
    assert "insight-entity" in views[0], "the true entities are boxed"

    at.button(key="explain_sentence_0").click().run()  # open the first sentence on Explain
    assert_clean(at)
    assert at.title[0].value == "Explain"
    assert sum("insight-entities" in h.proto.body for h in at.get("html")) == 2, "true and predicted"
    assert any(str(m.value).startswith("**True entities**") for m in at.markdown)
    assert any("insight-heatmap" in h.proto.body for h in at.get("html")), "word attributions for a tag"
    assert any("Explanation trust" in str(m.value) for m in at.markdown)

    at = wait_for_background(open_run(at, ner_run, "embeddings"))
    assert_clean(at)
    assert len(at.get("plotly_chart")) == 2, "before and after fine-tuning"
    words = pd.read_csv(ner_run / "embeddings" / "test-examples.csv", keep_default_na=False)
    assert set(words["gold"]) <= {"PER", "ORG", "LOC", "O"} and (words["gold"] != "O").any()
    sentence, index = words.iloc[0]["sentence"], int(words.iloc[0]["word"])
    assert sentence.split()[index] == words.iloc[0]["text"], "each dot is a word of its sentence"
    assert "True entity type" in at.selectbox(key="emb_colour").options
    for name in ("export",):
        assert_clean(open_run(at, ner_run, name))


def test_likely_label_issues_become_a_corrected_dataset_to_train_again(trained_runs, tmp_path, monkeypatch):
    _, text_run, _ = trained_runs
    runs_dir = tmp_path / "runs"
    run_dir = shutil.copytree(text_run, runs_dir / text_run.name)
    folder = RunFolder(run_dir)
    for stale in (folder.issues_file, folder.issues_meta_file, folder.computation_file("issues")):
        stale.unlink(missing_ok=True)
    try:
        at = open_run(open_app(runs_dir, monkeypatch), run_dir, "evaluate")
        assert_clean(at)
        assert at.get("progress"), "the issues are looked for in the background, over every split"
        at = wait_for_background(at)
        assert folder.issues() is not None and folder.issues_meta()["rows"] == 60, "all 60 rows were checked"
    finally:
        state.job_manager().shutdown(cancel=True)
        state._job_manager.clear()
    # plant a confident flip in the training split, as the job writes it
    train = load_run(run_dir).split("train")
    planted = pd.DataFrame([{"row": int(train.iloc[0]["row"]), "split": "train", "index": 0, "text": train.iloc[0]["text"],
                             "given": train.iloc[0]["label"], "suggested": "neutral", "score": 0.01}])  # fmt: skip
    folder.write_issues(planted, {"rows": 60, "folds": 5})

    at = wait_for_background(open_run(open_app(runs_dir, monkeypatch), run_dir, "embeddings"))
    at.segmented_control(key="emb_subset").set_value("all").run()
    at = wait_for_background(at)
    assert_clean(at)
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert specs and all('"likely label issue"' in spec for spec in specs), "marked on the embedding map"
    assert any("1 circled dot is a likely label issue" in str(c.value) for c in at.caption), (
        "one planted issue"
    )

    from trainer.inspect import corrections

    corrections.save(run_dir, {("train", 0, None): corrections.Correction.drop()})  # decided in another visit
    at = open_run(open_app(runs_dir, monkeypatch), run_dir, "evaluate")  # a new session: a refresh
    assert_clean(at)
    assert "Likely label issues" in [s.value for s in at.subheader]
    assert any(
        "1 to drop, 0 to relabel; the corrected dataset has 59 rows" in str(c.value) for c in at.caption
    )
    assert any("(every split)" in str(c.value) for c in at.caption), "issues of every split, the split named"
    assert at.button(key="use_corrected"), "the corrected data can be loaded"
    at.button(key="use_corrected").click().run()
    assert_clean(at)
    assert at.title[0].value == "Data"
    name, raw = at.session_state[state.DATASET]
    assert name.endswith("-corrected.csv") and raw.startswith(b"text,label")
    state.job_manager().shutdown(cancel=True)
    state._job_manager.clear()


def test_cancel_stops_a_running_job(tmp_path, monkeypatch, tiny_model_dir):
    at = upload(open_app(tmp_path / "runs", monkeypatch), "reviews.csv", csv_bytes(tmp_path))
    at.switch_page(page("train")).run()
    at.text_input(key=state.BACKBONE).set_value(str(tiny_model_dir)).run()
    at.text_input(key=state.FORM_KEYS["epochs"]).set_value("100").run()
    at.number_input(key=state.FORM_KEYS["batch_size"]).set_value(1).run()
    try:
        at.button(key="start_training").click().run()
        manager = state.job_manager()
        job_id = at.session_state[state.CURRENT_JOB]
        while manager.snapshot(job_id).status == "queued":
            manager.wait(job_id, timeout=0.2)
        at.run()
        at.button(key=f"cancel_{job_id}").click().run()
        assert manager.wait(job_id, timeout=120).status == "cancelled"
        at.run()
        assert "■ cancelled" in at.dataframe[-1].value["status"].tolist()
    finally:
        state.job_manager().shutdown()
        state._job_manager.clear()
