"""No user string is ever live markup: the escaping helpers on hostile strings, then every page of the
app (and the exported reports) over runs whose names, labels, texts, file and groups are hostile.

A backslash before ':' is not enough against a bare URL: remark-gfm (Streamlit's Markdown, and most
viewers') autolinks "http://", "www." and e-mail addresses found in the text after escapes are read, so
the checks below decode escapes first and look for what remark-gfm would link.
"""

from __future__ import annotations

import html
import json
import random
import re
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd
import pytest
from app_kit import open_app
from helpers import NEGATIVE, NEUTRAL, POSITIVE
from streamlit.testing.v1 import AppTest

from insight_ui import state
from insight_ui.safe import WORD_JOINER, md, md_cell, md_code, plot_label, plot_text, trim

ROOT = Path(__file__).resolve().parent.parent
LINK = "[Relogin](http://evil.example/x)"
IMAGE = "![b](http://evil.example/x.png)"
ANCHOR = '<a href="http://evil.example">x</a>'
URL = "http://evil.example/y"
HOSTILE = [LINK, IMAGE, ANCHOR, URL, ":red[boo]", "$x$", "www.evil.example", "x@evil.example", "&lt;b&gt;"]
LABELS = [  # HTML first: it survives trimming into chart titles
    f"{ANCHOR} {LINK}",
    f"<img src=x> {IMAGE}",
    f"<a href=//evil.example>y</a> {URL} :red[boo] $x$ www.evil.example x@evil.example",
]
RUN_NAME = f"{LINK} {IMAGE} {ANCHOR} www.evil.example"
OTHER_NAME = f"{IMAGE} {URL} :red[boo]"

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # a CommonMark backslash escape
_CODE_SPAN = re.compile(r"(?<![`\\])(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_GFM_URL = re.compile(r"(https?://|www(?=\.))[-.\w]+", re.IGNORECASE)  # remark-gfm's literal autolinks
_GFM_EMAIL = re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+")
_TAG = re.compile(r"<\s*(a|img)\b", re.IGNORECASE)


def live_markdown(text: str) -> list[str]:
    """What in this Streamlit Markdown would render as a link, an image, HTML or a directive."""
    text = _CODE_SPAN.sub("", text)  # inside a code span nothing is markup
    bare = re.sub(r"\\.", "\0\0", text)  # every escaped character masked
    decoded = _ESCAPE.sub(r"\1", text)
    found = [f"link {bare[m.start() - 10 : m.end() + 10]!r}" for m in re.finditer(r"\]\(", bare)]
    found += [f"html {m.group()!r}" for m in _TAG.finditer(bare)]
    found += [f"directive or math in {text!r}" for s in (":red[boo]", "$x$") if s in bare]
    found += [f"autolink {m.group()!r}" for m in _GFM_URL.finditer(decoded) if "evil" in m.group()]
    found += [f"e-mail link {m.group()!r}" for m in _GFM_EMAIL.finditer(decoded)]
    if "http://evil.example" in text:
        found.append(f"bare URL {text!r}")
    return found


def live_html(text: str) -> list[str]:
    """A real link or image in HTML (st.html, Plotly text, the HTML reports)."""
    return [
        f"tag {m.group()!r} in {text[max(0, m.start() - 80) : m.end() + 80]!r}" for m in _TAG.finditer(text)
    ]


def shown(text: str) -> str:
    """The characters a reader sees: escapes read, word joiners invisible."""
    return _ESCAPE.sub(r"\1", text).replace(WORD_JOINER, "")


# ---------------------------------------------------------------- the helpers


@pytest.mark.parametrize("text", HOSTILE + [RUN_NAME, "- 1. # a_b *c* | d \\ e"])
def test_md_leaves_no_markup_and_shows_the_text_as_it_is(text):
    out = md(text)
    assert not live_markdown(out), live_markdown(out)
    bare = re.sub(r"\\.", "", out)
    assert not set("[]<>:$|&`*_") & set(bare), out
    assert "http://" not in out and "www." not in out
    assert shown(out) == text


@pytest.mark.parametrize("text", HOSTILE + [RUN_NAME, "a | b\nc\r\nd"])
def test_md_cell_is_one_escaped_table_cell(text):
    out = md_cell(text)
    assert "\n" not in out and "\r" not in out
    assert not live_markdown(out) and not live_html(out)
    assert "<" not in out and not re.search(r"(?<!\\)\|", out)
    assert html.unescape(shown(out)) == re.sub(r"[\r\n]+", " ", text)


@pytest.mark.parametrize("text", HOSTILE + ["a`b", "``x", "`"])
def test_md_code_is_a_code_span_holding_the_text_verbatim(text):
    out = md_code(text)
    fence = re.match(r"`+", out).group()
    assert out.endswith(fence) and "`" * len(fence) not in out[len(fence) : -len(fence)]
    inner = out[len(fence) : -len(fence)]
    assert (inner[1:-1] if inner.startswith(" ") and inner.endswith(" ") and inner.strip() else inner) == text


@pytest.mark.parametrize("text", HOSTILE + [RUN_NAME])
def test_plot_text_and_label_are_escaped_html(text):
    for out in (plot_text(text), plot_label(text, 200)):
        assert not live_html(out) and "<a" not in out and "<img" not in out
    assert html.unescape(plot_text(text).replace("<br>", "")) == trim(text, 160)
    assert html.unescape(plot_label(text, 200)) == trim(text, 200)


# ---------------------------------------------------------------- every page over hostile runs


def hostile_csv(path: Path) -> Path:
    """60 rows, three hostile labels, hostile words in the texts."""
    rng = random.Random(0)
    rows = []
    for i in range(60):
        words = [POSITIVE, NEGATIVE, NEUTRAL][i % 3]
        extra = [LINK, IMAGE, ANCHOR, URL][i % 4]
        rows.append({"text": f"{rng.choice(words)} {rng.choice(words)} {extra} {i}", "label": LABELS[i % 3]})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def hostile_news(path: Path) -> Path:
    """The market news sample with hostile topics and a few hostile headlines, under a hostile name."""
    news = pd.read_csv(ROOT / "sample_data" / "market_news.csv")
    topics = sorted(news["topic"].unique())
    news["topic"] = news["topic"].map({t: HOSTILE[i % 4] for i, t in enumerate(topics)})
    news.loc[::50, "headline"] = [f"{h} {LINK} {URL}" for h in news.loc[::50, "headline"]]
    news.to_csv(path, index=False)
    return path


def finished_run(runs_dir: Path, name: str, config, data) -> Path:
    from trainer.jobs.worker import run_fit
    from trainer.runs import RunFolder, create_run

    run_dir = create_run(runs_dir, name)
    folder = RunFolder(run_dir)
    folder.write_inputs(config.to_dict(), data)
    assert run_fit(folder) == 0, folder.read_status().error
    return run_dir


@pytest.fixture(scope="module")
def hostile_runs(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path):
    """Two finished tiny runs of hostile data, hostile names, their computations done in this process,
    and a scoring of a hostile file (with one hostile alert added), so no page starts a job."""
    from trainer.config import TrainConfig
    from trainer.jobs.worker import run_computation
    from trainer.prepare import prepare
    from trainer.runs import RunFolder
    from trainer.runs.scoring import Scoring, Spec, scoring_name

    work = tmp_path_factory.mktemp("hostile")
    runs_dir = work / "runs"
    data = prepare(hostile_csv(work / "data.csv"))
    config = TrainConfig(model=str(tiny_model_dir), epochs=1, batch_size=16, learning_rate=1e-3, max_steps=4)
    first = finished_run(runs_dir, RUN_NAME, config, data)
    second = finished_run(runs_dir, OTHER_NAME, replace(config, learning_rate=2e-3), data)
    folder = RunFolder(first)
    for kind, params in (("embed", {"subset": "test"}), ("rank", {"limit": "sample"}), ("issues", {})):
        assert run_computation(folder, kind, params) == 0, (folder.path / "error.log").read_text()
    source = hostile_news(work / "![b](www.evil.example) <a href=x>.csv")
    spec = Spec(str(source), "headline", "published", "topic", "auto")
    scoring = Scoring(first, scoring_name(source, asdict(spec)))
    scoring.write_spec(spec)
    assert run_computation(folder, "score", {"name": scoring.name}) == 0
    results = scoring.results()
    bucket = results["counts"][0]["bucket"]
    alert = {"label": LABELS[0], "group": HOSTILE[1], "direction": "up", "bucket_start": bucket, "share": 0.5,
             "n": 40, "count": 20, "baseline_share": 0.1, "baseline_buckets": 4, "p_value": 1e-5,
             "words": [{"word": w} for w in HOSTILE[:4]], "examples": HOSTILE[:4]}  # fmt: skip
    scoring.write_results({**results, "alerts": [alert]})
    return runs_dir, first, second, source


def walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def proto_strings(message, names: set[str]):
    """The string fields called one of `names`, anywhere in a protobuf message."""
    for field, value in message.ListFields():
        values = value if hasattr(value, "__len__") and not isinstance(value, (str, bytes)) else [value]
        for item in values:
            if hasattr(item, "ListFields"):
                yield from proto_strings(item, names)
            elif isinstance(item, str) and field.name in names:
                yield item


LITERAL = {"text", "code", "html", "plotly_chart", "arrow_data_frame", "json", "exception"}
MARKDOWN_FIELDS = {"body", "label", "help", "text", "delta", "content", "captions"}


def problems_on(at: AppTest, where: str) -> list[str]:
    """Every live link, image, HTML tag or bare link in what the page shows."""
    found = [f"{where}: exception {e.value}" for e in at.exception]
    for node in (n for root in (at.main, at.sidebar) for n in walk(root)):
        proto, kind = getattr(node, "proto", None), getattr(node, "type", "")
        if proto is None or not hasattr(proto, "ListFields"):
            continue
        if kind == "html":
            found += [f"{where}: st.html {p}" for p in live_html(proto.body)]
        elif kind == "plotly_chart":
            spec = json.dumps(json.loads(proto.spec), ensure_ascii=False)
            found += [f"{where}: plotly {p}" for p in live_html(spec)]
        elif kind not in LITERAL:
            names = MARKDOWN_FIELDS | ({"options"} if kind == "radio" else set())
            for text in proto_strings(proto, names):
                found += [f"{where}: {kind} {p}" for p in live_markdown(text)]
    return found


def fake_queued_job(run_dir: Path):
    from trainer.jobs.manager import JobSnapshot

    return JobSnapshot(id="queued-hostile", name=OTHER_NAME, run_dir=run_dir, status="queued",
                       task="text-classification", model=LINK, created=0.0, queue_position=2,
                       waiting_for=RUN_NAME)  # fmt: skip


def test_no_page_shows_user_text_as_markup(hostile_runs, monkeypatch):
    from trainer.jobs.manager import JobManager

    runs_dir, first, second, source = hostile_runs
    real_jobs = JobManager.jobs
    queued = fake_queued_job(first)
    monkeypatch.setattr(JobManager, "jobs", lambda self: [queued, *real_jobs(self)])  # the sidebar's bar

    at = open_app(runs_dir, monkeypatch)
    extra = pd.read_csv(hostile_csv(source.parent / "upload.csv")).assign(**{ANCHOR: URL})
    extra.loc[len(extra)] = {"text": "great love item", "label": LINK + " rare", ANCHOR: IMAGE}
    raw = extra.to_csv(index=False).encode("utf-8")
    at.session_state[state.INCOMING] = (f"{LINK} {IMAGE}.csv", raw)
    problems = problems_on(at.run(), "data")
    at.session_state[state.CURRENT_RUN] = str(first)
    at.session_state[state.EXPLAIN_MODE] = "own"
    at.session_state[state.OWN_TEXT] = f"great love {LINK} {IMAGE} {ANCHOR} {URL}"
    at.session_state[state.APPLY_FILE] = str(source)
    for name in ("train", "evaluate", "explain", "embeddings", "compare", "apply", "export"):
        at.switch_page(f"insight_ui/pages/{name}.py").run()
        assert at.title[0].value.lower() == name
        problems += problems_on(at, name)
    at.session_state[state.EXPLAIN_COMPARE] = str(second)
    problems += problems_on(at.switch_page("insight_ui/pages/explain.py").run(), "explain side by side")
    assert not problems, "\n".join(problems)
    bodies = " ".join(str(m.value) for m in at.markdown)
    assert "Relogin" in bodies and "evil" in bodies, "the hostile text is shown (as text)"


def test_the_reports_show_user_text_as_text(hostile_runs):
    from insight_ui.reports import apply_report, run_report
    from trainer.runs import load_run
    from trainer.runs.scoring import scorings

    runs_dir, first, _, source = hostile_runs
    run = load_run(first)
    markdown = run_report.markdown_report(run)
    assert "Relogin" in markdown and "<" not in markdown
    assert not [p for line in markdown.splitlines() for p in live_markdown(line)]
    assert not live_html(run_report.html_report(run))
    page = apply_report.scoring_html(run, source.name, scorings(first)[0].results())
    assert "Relogin" in page and not live_html(page)
