"""trainer.access.audit: each line chained to the one before it, `python -m trainer audit --verify` naming the
first line edited, removed or moved, appends from several processes at once, and a log from before the chain."""

from __future__ import annotations

import json
import multiprocessing
import threading

import pytest

from trainer.access import audit
from trainer.cli import main


def write_events(tmp_path, n: int) -> list[bytes]:
    for i in range(n):
        audit.record(tmp_path, "ana", "download", f"run-{i}/model.zip", rows=i)
    return audit.log_file(tmp_path).read_bytes().splitlines()


def verify_cli(tmp_path, capsys) -> tuple[int, str]:
    code = main(["audit", "--verify", "--runs-dir", str(tmp_path)])
    said = capsys.readouterr()
    return code, (said.out + said.err).strip()


def test_each_line_carries_the_hash_of_the_line_before_and_an_intact_log_verifies(tmp_path, capsys):
    lines = write_events(tmp_path, 4)
    prevs = [json.loads(line)["prev"] for line in lines]
    assert prevs[0] == audit.GENESIS
    assert prevs[1:] == [audit.line_hash(line) for line in lines[:-1]]
    assert [e["target"] for e in audit.events(tmp_path)] == [f"run-{i}/model.zip" for i in range(4)]
    code, said = verify_cli(tmp_path, capsys)
    assert code == 0 and said == "The audit log is intact: 4 chained lines."


def rewrite(tmp_path, lines: list[bytes]) -> None:
    audit.log_file(tmp_path).write_bytes(b"".join(line + b"\n" for line in lines))


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        ("edit the second line", 3, "does not follow line 2"),
        ("delete the third line", 3, "does not follow line 2"),
        ("swap lines two and three", 2, "does not follow line 1"),
        ("edit the last line", 5, "edited after it was written"),
        ("delete the last line", 4, "cut after line 4"),
        ("add a line by hand at the end", 6, "added by hand"),
        ("remove the chain from the fourth line", 4, "not a chained event"),
    ],
)
def test_an_edited_removed_or_moved_line_is_named_by_its_number(tmp_path, capsys, change, line, words):
    lines = write_events(tmp_path, 5)
    if change == "edit the second line":
        lines[1] = lines[1].replace(b'"ana"', b'"bob"')
    elif change == "delete the third line":
        del lines[2]
    elif change == "swap lines two and three":
        lines[1], lines[2] = lines[2], lines[1]
    elif change == "edit the last line":
        lines[4] = lines[4].replace(b"run-4", b"run-9")
    elif change == "delete the last line":
        del lines[4]
    elif change == "add a line by hand at the end":
        lines.append(json.dumps({"who": "ana", "action": "x", "prev": audit.line_hash(lines[4])}).encode())
    else:
        event = json.loads(lines[3])
        del event["prev"]
        lines[3] = json.dumps(event).encode()
    rewrite(tmp_path, lines)
    verdict = audit.verify(tmp_path)
    assert not verdict.intact and verdict.broken == line, verdict
    code, said = verify_cli(tmp_path, capsys)
    assert code == 1 and f"{line}" in said and words in said and said.count("\n") == 0, said
    assert "Traceback" not in said


def _append_many(runs_dir: str, who: str, n: int) -> None:
    from pathlib import Path

    from trainer.access import audit as log

    for i in range(n):
        log.record(Path(runs_dir), who, "download", f"file-{i}")


def test_appends_from_several_processes_and_threads_at_once_keep_the_chain(tmp_path, capsys):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(tmp_path), f"p{i}", 15)) for i in range(3)]
    threads = [threading.Thread(target=_append_many, args=(str(tmp_path), f"t{i}", 15)) for i in range(2)]
    for worker in (*workers, *threads):
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive()
    events = audit.events(tmp_path)
    assert len(events) == 75 and {e["who"] for e in events} == {"p0", "p1", "p2", "t0", "t1"}
    verdict = audit.verify(tmp_path)
    assert verdict.intact and verdict.lines == 75 and verdict.chain_from == 1, verdict
    assert verify_cli(tmp_path, capsys) == (0, "The audit log is intact: 75 chained lines.")


def test_a_log_written_before_the_chain_is_read_and_checked_from_its_first_chained_line(tmp_path, capsys):
    old = [{"time": 1.0, "who": "ana", "action": "sign in", "target": ""},
           {"time": 2.0, "who": "bo", "action": "start", "target": "run-1"}]  # fmt: skip
    path = audit.log_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in old), encoding="utf-8")
    code, said = verify_cli(tmp_path, capsys)
    assert code == 0 and "2 lines were written before lines were chained" in said
    audit.record(tmp_path, "bo", "download", "run-1/model.zip")
    audit.record(tmp_path, "ana", "sign out")
    assert [e["action"] for e in audit.events(tmp_path)] == ["sign in", "start", "download", "sign out"]
    lines = path.read_bytes().splitlines()
    assert json.loads(lines[2])["prev"] == audit.line_hash(lines[1]), "the chain holds the last old line"
    code, said = verify_cli(tmp_path, capsys)
    assert code == 0 and said == (
        "The audit log is intact from line 3 to line 4; lines 1 to 2 were written before lines were "
        "chained and cannot be checked."
    )
    lines[1] = lines[1].replace(b"run-1", b"run-2")  # the last old line is held by the first chained one
    rewrite(tmp_path, lines)
    assert verify_cli(tmp_path, capsys)[0] == 1 and audit.verify(tmp_path).broken == 3


def test_a_torn_last_line_stays_its_own_line_and_is_named(tmp_path, capsys):
    write_events(tmp_path, 2)
    with audit.log_file(tmp_path).open("ab") as out:
        out.write(b'{"who": "ana", "act')  # a crash mid-write, no newline
    audit.record(tmp_path, "bo", "sign in")
    assert [e["who"] for e in audit.events(tmp_path)] == ["ana", "ana", "bo"]
    verdict = audit.verify(tmp_path)
    assert not verdict.intact and verdict.broken == 3 and "not a chained event" in verdict.sentence


def test_an_empty_or_missing_log_verifies_and_nothing_is_created(tmp_path, capsys):
    assert verify_cli(tmp_path / "nowhere", capsys) == (0, "the audit log is empty")
    assert not (tmp_path / "nowhere").exists()
