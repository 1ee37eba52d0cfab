"""The command line: exit codes, one-line errors, and the fit -> predict -> runs round trip."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from cli_kit import trainer_cli
from helpers import conll_file, sentiment_csv

from trainer import runs
from trainer.cli import main
from trainer.runs import RunFolder


def test_check_prints_the_report_and_exits_0(tmp_path):
    done = trainer_cli("check", sentiment_csv(tmp_path / "ok.csv"))
    assert done.returncode == 0, done.stderr
    assert "90" in done.stdout and "positive" in done.stdout


def test_check_on_a_file_with_no_text_column_exits_2_with_one_line(tmp_path):
    path = tmp_path / "numbers.csv"
    pd.DataFrame({"a": [1, 2, 3, 4], "b": [5, 6, 7, 8]}).to_csv(path, index=False)
    done = trainer_cli("check", path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr
    assert "Traceback" not in done.stderr


def test_check_speaks_the_language_lang_asks_for(tmp_path):
    path = tmp_path / "numbers.csv"
    pd.DataFrame({"a": [1, 2, 3, 4], "b": [5, 6, 7, 8]}).to_csv(path, index=False)
    done = trainer_cli("--lang", "zh", "check", path)
    assert done.returncode == 2 and re.search(r"[\u4e00-\u9fff]", done.stderr), done.stderr
    done = trainer_cli("check", path)
    assert (
        done.returncode == 2
        and done.stderr.startswith("error: ")
        and not re.search(r"[\u4e00-\u9fff]", done.stderr)
    ), done.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["check", "no_such_file.csv"], "not found"),
        (["fit", "{csv}", "--epochs", "-1"], "epochs"),
        (["fit", "{csv}", "--text-column", "nope"], "nope"),
        (["fit", "{csv}", "--model", "./missing-model"], "No model folder"),
        (["predict", "no-such-run", "{csv}"], "No run called"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(tmp_path, capsys, args, words):
    csv = sentiment_csv(tmp_path / "ok.csv")
    code = main(
        [a.replace("{csv}", str(csv)) for a in args] + ["--runs-dir", str(tmp_path)]
        if args[0] in ("fit", "predict")
        else [a.replace("{csv}", str(csv)) for a in args]
    )
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error:") and words.lower() in lines[-1].lower(), err
    assert "Traceback" not in err


def test_no_command_prints_the_help_and_a_wrong_one_names_the_right_help(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m trainer") and "fit" in out and "score" in out
    assert main(["bogus"]) == 2
    assert "(see `python -m trainer --help`)" in capsys.readouterr().err
    assert main(["fit", "--epochs", "many"]) == 2
    assert "(see `python -m trainer fit --help`)" in capsys.readouterr().err


def test_fit_predict_runs_round_trip(tmp_path, tiny_model_dir):
    csv = sentiment_csv(tmp_path / "train.csv")
    runs_dir = tmp_path / "runs"
    done = trainer_cli(
        "fit",
        csv,
        "--model",
        tiny_model_dir,
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--runs-dir",
        runs_dir,
        "--name",
        "cli run",
    )
    assert done.returncode == 0, done.stderr
    run_dir = Path(done.stdout.strip().splitlines()[-1])
    assert run_dir.parent == runs_dir and (run_dir / "model" / "config.json").exists()
    assert "test: macro-F1" in done.stderr

    done = trainer_cli("predict", run_dir, csv, "--out", tmp_path / "pred.csv", "--runs-dir", runs_dir)
    assert done.returncode == 0, done.stderr
    pred = pd.read_csv(tmp_path / "pred.csv")
    assert len(pred) == 90 and {"text", "gold", "predicted", "confidence", "p_positive"} <= set(pred.columns)

    done = trainer_cli("runs", "--runs-dir", runs_dir)
    assert (
        done.returncode == 0
        and run_dir.name in done.stdout
        and "finished" in done.stdout
        and "macro-F1" in done.stdout
    )
    assert " MB " in done.stdout and done.stdout.strip().splitlines()[-1].startswith("1 runs, "), (
        "each run's size and the total"
    )

    # the run folder fit printed works as it is, without --runs-dir (scripts take the last line at its word)
    done = trainer_cli("predict", run_dir, csv, "--out", tmp_path / "again.csv")
    assert done.returncode == 0, done.stderr
    assert pd.read_csv(tmp_path / "again.csv")["predicted"].tolist() == pred["predicted"].tolist()
    done = trainer_cli("predict", tmp_path, csv, "--out", tmp_path / "no.csv")
    assert done.returncode == 2 and "No run called" in done.stderr, (
        "a folder that is not a run is still refused"
    )

    # delete: what it keeps besides the model, then the whole run; a running run is refused
    done = trainer_cli("clean", run_dir)
    assert done.returncode == 0 and "keeps nothing besides its model" in done.stdout
    RunFolder(run_dir).write_status(runs.RUNNING)
    runs.mark_live(run_dir, True)
    try:
        done = trainer_cli("runs", "--delete", run_dir.name, "--runs-dir", runs_dir)
        assert done.returncode == 2 and "is running. Cancel it first" in done.stderr and run_dir.exists()
    finally:
        runs.mark_live(run_dir, False)
    RunFolder(run_dir).write_status(runs.FINISHED)
    done = trainer_cli("runs", "--delete", run_dir.name, "--runs-dir", runs_dir)
    assert (
        done.returncode == 0 and done.stdout.startswith(f"deleted {run_dir.name} (") and " MB)" in done.stdout
    ), done.stdout
    assert not run_dir.exists() and runs_dir.is_dir()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, tiny_model_dir):
    tmp = tmp_path_factory.mktemp("explain")
    csv = sentiment_csv(tmp / "train.csv")
    code = main(
        [
            "fit",
            str(csv),
            "--model",
            str(tiny_model_dir),
            "--epochs",
            "3",
            "--learning-rate",
            "1e-3",
            "--runs-dir",
            str(tmp / "runs"),
            "--quiet",
        ]
    )
    assert code == 0
    (run_dir,) = [p for p in (tmp / "runs").iterdir() if (p / "status.json").exists()]
    return run_dir


def test_explain_json_has_one_complete_object_per_text(trained_run):
    import json

    done = trainer_cli(
        "explain",
        trained_run,
        "--runs-dir",
        trained_run.parent,
        "--text",
        "I love it, excellent!",
        "--text",
        "awful <b>thing</b>",
        "--json",
        "--target",
        "positive",
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert len(records) == 2
    keys = {
        "text",
        "predicted",
        "probabilities",
        "target",
        "words",
        "scores",
        "delta",
        "comprehensiveness",
        "sufficiency",
    }
    for record, text in zip(records, ["I love it, excellent!", "awful <b>thing</b>"], strict=True):
        assert keys <= set(record)
        assert record["text"] == text and record["target"] == "positive"
        assert "".join(record["words"]) == text.replace(" ", ""), "words are the user's own characters"
        assert len(record["scores"]) == len(record["words"])
        assert abs(sum(record["probabilities"].values()) - 1) < 1e-4
        assert record["predicted"] == max(record["probabilities"], key=record["probabilities"].get)


def test_explain_with_an_unknown_target_lists_the_labels(trained_run, capsys):
    code = main(
        [
            "explain",
            str(trained_run),
            "--runs-dir",
            str(trained_run.parent),
            "--text",
            "hi",
            "--target",
            "joy",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "negative, neutral, positive" in err


def test_fit_predict_and_explain_work_on_a_conll_file(tmp_path, tiny_model_dir):
    data = conll_file(tmp_path / "news.conll", n=40)
    runs_dir = tmp_path / "runs"
    done = trainer_cli(
        "fit", data, "--model", tiny_model_dir, "--max-steps", "3", "--runs-dir", runs_dir, "--quiet"
    )
    assert done.returncode == 0, done.stderr
    run_dir = Path(done.stdout.strip().splitlines()[-1])
    assert (run_dir / "model" / "config.json").exists()

    done = trainer_cli("predict", run_dir, data, "--out", tmp_path / "tags.csv", "--runs-dir", runs_dir)
    assert done.returncode == 0, done.stderr
    tags = pd.read_csv(tmp_path / "tags.csv", keep_default_na=False)
    assert len(tags) == 40 and {"tokens", "gold", "predicted"} <= set(tags.columns)
    assert all(
        len(t.split()) == len(p.split()) for t, p in zip(tags["tokens"], tags["predicted"], strict=True)
    )

    words_only = tmp_path / "new.conll"
    words_only.write_text("-DOCSTART-\n\nAnna\nBerg\nvisited\nOslo\n.\n\nTom\nleft\n", encoding="utf-8")
    done = trainer_cli("predict", run_dir, words_only, "--out", tmp_path / "new.csv", "--runs-dir", runs_dir)
    assert done.returncode == 0, done.stderr
    new = pd.read_csv(tmp_path / "new.csv", keep_default_na=False)
    assert new["tokens"].tolist() == ["Anna Berg visited Oslo .", "Tom left"] and "gold" not in new.columns
    assert [len(p.split()) for p in new["predicted"]] == [5, 2]

    done = trainer_cli(
        "explain",
        run_dir,
        "--text",
        "Anna Berg visited Oslo",
        "--target",
        "B-LOC",
        "--json",
        "--runs-dir",
        runs_dir,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert records and all(
        r["target"] == "B-LOC" and r["words"] == ["Anna", "Berg", "visited", "Oslo"] for r in records
    )
    assert all(0 <= r["word_index"] < 4 and len(r["scores"]) == 4 for r in records)
