"""The run report's "Where it does worse" and "Small changes that should not matter"
(insight_ui.reports.robustness_section): a planted weak group is said in the Evaluate page's words with its
numbers and interval, a run without one says how many groups were tried, the saved behavioural tests make a
table, and a hostile group or family name stays text."""

from __future__ import annotations

import math

from helpers import LABELS, fake_run
from test_app_weak_slices import FILLER

from insight_ui.reads import analysis
from insight_ui.reports import run_report
from insight_ui.safe import md_cell
from trainer import i18n
from trainer.runs import RunFolder, load_run

HOSTILE = "<script>alert(1)</script>"


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval, by its formula."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def planted(runs, name: str = "weak"):
    """A text run whose texts with "refund" are wrong half the time and the rest never: (run, texts, gold,
    predicted). One of them starts like a spreadsheet formula."""
    gold = [LABELS[i % 3] for i in range(120)]
    texts = [
        f"{'refund' if i % 4 == 0 else 'parcel'} {FILLER[i % 10]} {FILLER[(i + 3) % 10]}" for i in range(120)
    ]
    texts[8] = "=SUM(A1) " + texts[8]
    predicted = [LABELS[(LABELS.index(g) + 1) % 3] if i % 4 == 0 and i % 8 else g for i, g in enumerate(gold)]
    return fake_run(runs, name, gold, predicted, texts=texts), texts, gold, predicted


def refund_sentence(texts, gold, predicted) -> str:
    """What the report must say of the refund texts, from the planted data."""
    inside = [i for i, t in enumerate(texts) if "refund" in t.split()]
    wrong = sum(gold[i] != predicted[i] for i in inside)
    overall = sum(g != p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    low, high = wilson(wrong, len(inside))
    assert 0 < wrong < len(inside), "the planted group is wrong on some, not all"
    return (f"wrong on {wrong} of {len(inside)} ({i18n.percent(wrong / len(inside))}; likely between "
            f"{i18n.percent(low)} and {i18n.percent(high)}), against {i18n.percent(overall)} overall.")  # fmt: skip


def family(name: str, changed: int, failed: int) -> dict:
    low, high = wilson(failed, changed) if changed else (0.0, 1.0)
    return {"name": name, "kind": "invariance", "language": "any", "changed": changed, "failed": failed,
            "fail_rate": failed / changed if changed else 0.0, "ci_low": low, "ci_high": high,
            "mean_probability_change": -0.01, "examples": []}  # fmt: skip


def share(t: dict) -> str:
    return f"{i18n.percent(t['fail_rate'])} ({i18n.percent(t['ci_low'])}–{i18n.percent(t['ci_high'])})"


def cells(t: dict) -> str:
    return f"<td>{t['changed']}</td><td>{t['failed']}</td><td>{share(t)}</td>"


TESTS = [family("typos", 40, 6), family("names", 12, 3), family("width", 0, 0), family(HOSTILE, 5, 1)]


def test_a_planted_weak_group_is_said_with_its_numbers_in_both_reports(tmp_path):
    run_dir, texts, gold, predicted = planted(tmp_path / "runs")
    run = load_run(run_dir)
    page, text = run_report.html_report(run), run_report.markdown_report(run)
    said = refund_sentence(texts, gold, predicted)
    assert "<h2>Where it does worse</h2>" in page
    assert f"<li><b>Texts with “refund”</b>: {said}</li>" in page, page
    assert f"- **Texts with “refund”**: {said}" in text, text
    tried = len(analysis.weak_slices(run)["slices"])
    assert tried > 1
    note = f"at most 1 in 20 is expected to be chance ({tried} groups tried)."
    assert note in page and md_cell(note) in text
    assert "To fix one: label more examples like them" in page
    assert "Small changes that should not matter" not in page, "no behavioural tests were saved"


def test_a_run_without_a_weak_group_says_so_with_the_groups_tried(tmp_path):
    gold = [LABELS[i % 3] for i in range(90)]
    predicted = [g if i % 10 else LABELS[(LABELS.index(g) + 1) % 3] for i, g in enumerate(gold)]
    run = load_run(fake_run(tmp_path / "runs", "even", gold, predicted))
    tried = len(analysis.weak_slices(run)["slices"])
    assert tried > 0
    page = run_report.html_report(run)
    expected = f"No group of test examples does worse than the rest beyond chance ({tried} groups tried"
    assert expected in page and "<li>" not in page.split("Where it does worse")[1]


def test_saved_behavioural_tests_make_a_table_with_rates_and_intervals(tmp_path):
    run_dir, *_ = planted(tmp_path / "runs")
    RunFolder(run_dir).write_robustness({"seed": 0, "split": "test", "tests": TESTS})
    run = load_run(run_dir)
    page, text = run_report.html_report(run), run_report.markdown_report(run)
    assert "<h2>Small changes that should not matter</h2>" in page
    head = "<tr><th>What changed</th><th>Changed texts</th><th>Answers changed</th><th>Share changed (95% interval)</th></tr>"  # fmt: skip
    assert head in page
    typos, names, _, hostile = TESTS
    assert f"<tr><td>A typing slip in one word in ten</td>{cells(typos)}</tr>" in page
    assert f"<tr><td>People&#x27;s names swapped for others</td>{cells(names)}</tr>" in page
    assert f"<tr><td>&lt;script&gt;alert(1)&lt;/script&gt;</td>{cells(hostile)}</tr>" in page
    assert "<td>Chinese punctuation written half-width" not in page, "a family that changed nothing: no row"
    assert (
        f"| People's names swapped for others | {names['changed']} | {names['failed']} | {share(names)} |"
        in text
    )
    untried = "Not tried, since no test text can be changed that way: Chinese punctuation written half-width"
    assert untried in page and untried in text
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert HOSTILE not in text and md_cell(HOSTILE) in text


def test_a_hostile_group_name_is_escaped_in_html_and_markdown(tmp_path, monkeypatch):
    run_dir, *_ = planted(tmp_path / "runs")
    hostile = {"feature": "word", "value": HOSTILE, "n": 20, "errors": 12, "error_rate": 0.6, "ci_low": 0.39,
               "ci_high": 0.78, "p_value": 1e-5, "q_value": 1e-4, "flagged": True}  # fmt: skip
    quiet = {**hostile, "value": "parcel", "errors": 2, "error_rate": 0.1, "flagged": False}
    report = {"overall": 0.125, "n": 120, "alpha": 0.05, "slices": [hostile, quiet]}
    monkeypatch.setattr(analysis, "weak_slices", lambda run: report)
    run = load_run(run_dir)
    page, text = run_report.html_report(run), run_report.markdown_report(run)
    assert "<script>" not in page and "alert(1)" in page
    assert "<li><b>Texts with “&lt;script&gt;alert(1)&lt;/script&gt;”</b>: wrong on 12 of 20 (60%" in page
    assert "(2 groups tried)" in page
    assert "<script>" not in text and f"**Texts with “{md_cell(HOSTILE)}”**: wrong on 12 of 20" in text
