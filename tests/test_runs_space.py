"""What runs keep and deleting it: sizes, scorings, uploads, checkpoints; nothing in use is deleted."""

from __future__ import annotations

import os
import time

import pytest
from app_kit import open_app

from trainer import runs
from trainer.files import locks
from trainer.runs import RunFolder, create_run
from trainer.runs.scoring import Scoring, Spec, keep_file
from trainer.runs.space import Busy, delete_item, delete_run, human_size, run_items, size_of


def a_run_with_files(tmp_path):
    run_dir = create_run(tmp_path / "runs", "kept")
    folder = RunFolder(run_dir)
    folder.write_status(runs.FINISHED)
    upload = keep_file(run_dir, "news.csv", b"text\n" + b"a headline\n" * 10_000)
    for name, source in (("news-1", upload), ("other-2", tmp_path / "elsewhere.csv")):
        scoring = Scoring(run_dir, name)
        scoring.path.mkdir(parents=True)
        scoring.write_spec(Spec(source=str(source)))
        scoring.scored_file.write_bytes(b"x" * 50_000)
    (folder.checkpoints_dir / "checkpoint-1").mkdir(parents=True)
    (folder.checkpoints_dir / "checkpoint-1" / "model.safetensors").write_bytes(bytes(200_000))
    return run_dir, folder, upload


def test_items_are_listed_with_their_sizes_largest_first(tmp_path):
    run_dir, _, upload = a_run_with_files(tmp_path)
    items = run_items(run_dir)
    assert [(i.kind, i.name) for i in items][:2] == [("checkpoints", "checkpoints"), ("upload", upload.name)]
    assert {i.name for i in items if i.kind == "scoring"} == {"news-1", "other-2"}
    assert items[0].size == 200_000 and all(i.busy is None for i in items)
    assert size_of(run_dir) >= sum(i.size for i in items)
    assert (human_size(0), human_size(812_000), human_size(3_400_000), human_size(1_200_000_000)) == (
        "0 B", "812 KB", "3.4 MB", "1.2 GB")  # fmt: skip


def test_a_running_scoring_and_the_upload_it_reads_are_refused_and_the_rest_deleted(tmp_path):
    run_dir, folder, upload = a_run_with_files(tmp_path)
    folder.write_computation("score-news-1", kind="score", status=runs.RUNNING, **locks.stamp())
    with pytest.raises(Busy, match='The scoring "news-1" is running'):
        delete_item(run_dir, "scoring", "news-1")
    with pytest.raises(Busy, match="is being scored right now"):
        delete_item(run_dir, "upload", upload.name)
    with pytest.raises(Busy, match="busy with score-news-1"):
        delete_run(run_dir, tmp_path / "runs")
    assert (
        delete_item(run_dir, "scoring", "other-2") >= 50_000 and not Scoring(run_dir, "other-2").path.exists()
    )
    folder.write_computation("score-news-1", status=runs.FINISHED, finished=time.time())
    assert delete_item(run_dir, "upload", upload.name) > 100_000 and not upload.exists()
    assert (
        delete_item(run_dir, "checkpoints", "checkpoints") == 200_000 and not folder.checkpoints_dir.exists()
    )
    with pytest.raises(FileNotFoundError, match='no scoring called "nope" \\(it has: news-1\\)'):
        delete_item(run_dir, "scoring", "nope")


def test_a_running_run_is_refused_and_a_link_is_removed_as_a_link(tmp_path):
    run_dir, folder, _ = a_run_with_files(tmp_path)
    folder.write_status(runs.RUNNING, pid=os.getpid())
    runs.mark_live(run_dir, True)
    try:
        with pytest.raises(Busy, match="is running. Cancel it first"):
            delete_run(run_dir, tmp_path / "runs")
    finally:
        runs.mark_live(run_dir, False)
    folder.write_status(runs.FINISHED)
    away = create_run(tmp_path / "away", "linked")
    link = tmp_path / "runs" / "linked-here"
    link.symlink_to(away, target_is_directory=True)
    assert delete_run(link, tmp_path / "runs") == 0 and not link.exists() and away.exists(), "the link only"
    assert delete_run(run_dir, tmp_path / "runs") > 250_000 and not run_dir.exists()
    with pytest.raises(FileNotFoundError):
        delete_run(tmp_path / "runs", tmp_path / "runs")


def test_the_train_page_shows_the_space_and_deletes_a_scoring_then_the_run(tmp_path, monkeypatch):

    run_dir, folder, upload = a_run_with_files(tmp_path)
    monkeypatch.setenv("INSIGHT_RUNS_DIR", str(tmp_path / "runs"))

    def script(run_dir):
        from pathlib import Path

        from insight_ui.components.storage import storage_section
        from trainer.runs import run_info

        if Path(run_dir).exists():
            storage_section(run_info(Path(run_dir)))

    at = open_app(script=script, args=(str(run_dir),), timeout=30)
    assert not at.exception
    assert at.expander[0].label.startswith("Space: ") and at.expander[0].label.endswith("KB")
    shown = [str(m.value).replace("\\", "") for m in at.markdown]
    assert (
        "Scoring: other-2 · 50.2 KB" in shown
        and "Checkpoints (to resume training): checkpoints · 200 KB" in shown
    )
    at.button(key="delete_scoring_other-2").click().run()
    assert not Scoring(run_dir, "other-2").path.exists()
    assert any("Deleted other" in str(s.value) and "freed" in str(s.value) for s in at.success)
    assert at.button(key=f"delete_run_{run_dir.name}").disabled, "not before the box is ticked"
    at.checkbox(key=f"sure_{run_dir.name}").check().run()
    at.button(key=f"delete_run_{run_dir.name}").click().run()
    assert not at.exception and not run_dir.exists()


def test_a_link_to_a_scoring_elsewhere_is_not_listed(tmp_path):
    from trainer.runs.scoring import scorings

    run_dir, folder, _ = a_run_with_files(tmp_path)
    away = Scoring(create_run(tmp_path / "elsewhere", "other"), "theirs")
    away.path.mkdir(parents=True)
    away.write_spec(Spec(source="/etc/hostname"))
    (folder.scores_dir / "theirs").symlink_to(away.path, target_is_directory=True)
    assert sorted(s.name for s in scorings(run_dir)) == ["news-1", "other-2"]
    assert "theirs" not in [i.name for i in run_items(run_dir)]
