"""The structure holds: no import cycle, no module over 500 lines, each side imports only what it may."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("trainer", "insight_ui")
MAX_LINES = 500
HEAVY = {"torch", "transformers", "captum", "peft", "accelerate", "umap"}


def modules() -> dict[str, Path]:
    """Every module of the two packages by dotted name (a package is its __init__)."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path) -> list[str]:
    """Every module named by an import statement anywhere in the file (lazy ones too)."""
    return imports_of(path.read_text(encoding="utf-8"))


def imports_of(source: str) -> list[str]:
    """Every module named by an import statement anywhere in `source` (`from a import b` names a and a.b)."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def graph() -> dict[str, set[str]]:
    """Module -> project modules it imports (`from a import b` counts as a.b when b is a module)."""
    known = modules()
    edges = {}
    for name, path in known.items():
        targets = set()
        for imported in imports(path):
            if imported in known:
                targets.add(imported)
        # `from a.b import c` names both a.b and a.b.c: keep the most specific module named
        edges[name] = {t for t in targets if not any(o != t and o.startswith(t + ".") for o in targets)} - {
            name
        }
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_inside_trainer_or_insight_ui():
    edges = graph()
    assert edges["trainer.cli"], "the graph is built"
    assert cycles(edges) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_500_lines(package):
    long = {
        name: n
        for name, path in modules().items()
        if name.split(".")[0] == package
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_app_never_imports_the_model_libraries_itself():
    offenders = {
        name: sorted(i for i in imports(path) if i.split(".")[0] in HEAVY)
        for name, path in modules().items()
        if name.startswith("insight_ui")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_model_side_never_imports_streamlit_or_the_app():
    offenders = {
        name: sorted(i for i in imports(path) if i.split(".")[0] in ("streamlit", "insight_ui"))
        for name, path in modules().items()
        if name.startswith("trainer")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_adapters_name_a_task():
    """Outside trainer/tasks no module compares a task name by hand: it asks the adapter."""
    comparisons = ("== TOKEN_TASK", "== TEXT_TASK", "!= TOKEN_TASK", "!= TEXT_TASK", '== "token-classification"',
                   '== "text-classification"', "is_token(")  # fmt: skip
    offenders = [
        name
        for name, path in modules().items()
        if not name.startswith("trainer.tasks")
        and any(c in path.read_text(encoding="utf-8") for c in comparisons)
    ]
    assert offenders == []


# The floors of trainer/, lowest first: a package imports only packages on lower floors (and itself);
# packages on one floor never import each other. A new package must be given a floor here.
LAYERS = (
    ("trainer.i18n", "trainer.files"),  # the languages (catalogues, numbers, dates); atomic files and locks
    ("trainer.writing",),  # the writing systems of texts and vocabularies
    ("trainer.data", "trainer.model", "trainer.evaluate", "trainer.errors"),  # know no task and no run
    ("trainer.attribution",),  # integrated gradients on any model
    ("trainer.tasks",),  # the adapters: what differs between text and token classification
    ("trainer.prepare", "trainer.config"),  # a file and settings, made ready for a task
    ("trainer.runs",),  # the run folder, its one owner; a run's model
    ("trainer.train", "trainer.inspect", "trainer.access"),  # fine-tuning; looking into a run; who may
    ("trainer.apply",),  # scoring new text, trends, labelling
    ("trainer.monitor",),  # streams of new text in DuckDB, alerting as they grow
    ("trainer.serve",),  # a run behind an HTTP API, feeding a monitor
    ("trainer.jobs",),  # every long computation in its own process
    ("trainer.cli",),  # the command line
    ("trainer.__main__",),  # python -m trainer
)


def package_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def package_edges() -> dict[str, dict[str, list[str]]]:
    """trainer package -> the trainer packages it imports -> the module imports behind each edge."""
    found: dict[str, dict[str, list[str]]] = {}
    for name, targets in graph().items():
        if not name.startswith("trainer"):
            continue
        for target in targets:
            a, b = package_of(name), package_of(target)
            if b.startswith("trainer") and a != b:
                found.setdefault(a, {}).setdefault(b, []).append(f"{name} -> {target}")
    return found


def test_every_package_of_trainer_has_a_floor():
    floors = {p for layer in LAYERS for p in layer}
    packages = {package_of(m) for m in modules() if m.startswith("trainer.")}
    assert packages - floors == set(), "give each new package a floor in LAYERS"
    assert floors - packages == set(), "LAYERS names a package that is gone"


def test_packages_import_only_lower_floors_counting_imports_inside_functions():
    floor = {p: i for i, layer in enumerate(LAYERS) for p in layer}
    upward = [
        edge
        for a, targets in package_edges().items()
        for b, behind in targets.items()
        if floor[b] >= floor[a]
        for edge in behind
    ]
    assert upward == []
    assert cycles({a: set(t) for a, t in package_edges().items()}) == [], "no two packages import each other"


def test_the_floor_check_sees_an_import_inside_a_function(tmp_path, monkeypatch):
    """The package graph counts lazy imports: a function in data importing trainer.runs is an edge."""
    fake = {"trainer.data.x": tmp_path / "x.py", "trainer.runs": tmp_path / "r.py"}
    fake["trainer.data.x"].write_text("def f():\n    from trainer.runs import RunFolder\n", encoding="utf-8")
    fake["trainer.runs"].write_text("", encoding="utf-8")
    monkeypatch.setattr(__import__(__name__), "modules", lambda: fake)
    assert package_edges() == {"trainer.data": {"trainer.runs": ["trainer.data.x -> trainer.runs"]}}


@functools.cache  # the runs package is parsed once, not once per module checked
def _run_path_names() -> tuple[set[str], set[str]]:
    """(file and folder names the run owners join under a run, the owners' path attributes)."""
    names, attributes = set(), {"path"}
    for path in (ROOT / "trainer" / "runs").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                right = node.right
                if isinstance(right, ast.Constant) and isinstance(right.value, str):
                    names.add(right.value)
                elif (
                    isinstance(right, ast.JoinedStr)
                    and right.values
                    and isinstance(right.values[0], ast.Constant)
                ):
                    names.add(str(right.values[0].value).split("{")[0])
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    targets = [t.id for t in getattr(item, "targets", []) if isinstance(t, ast.Name)]
                    for name in targets + [getattr(item, "name", "")]:
                        if name.endswith(("_dir", "_file", "_lock", "_log")):
                            attributes.add(name)
    return {n for n in names if n}, attributes


RUN_NAMES = ("run", "run_dir", "run_path", "run_folder", "run_root")  # a name or attribute that holds a run


def path_of_a_run(node: ast.AST) -> bool:
    """`Path(x)` (or `pathlib.Path(x)`) of a run: x a name or attribute called run, run_dir, run_path...
    (`Path(config.run)`, `Path(run_dir)`); the runs folder (`Path(runs_dir)`) is not a run."""
    if not (isinstance(node, ast.Call) and node.args):
        return False
    func, arg = node.func, node.args[0]
    called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id == "str" and arg.args:
        arg = arg.args[0]  # Path(str(run))
    named = arg.id if isinstance(arg, ast.Name) else arg.attr if isinstance(arg, ast.Attribute) else ""
    return called == "Path" and named in RUN_NAMES


def run_path_joins(source: str) -> list[str]:
    """Each place in `source` that joins a path under a run: a run file's name, or a run owner's path."""
    names, attributes = _run_path_names()
    found = []
    for node in ast.walk(ast.parse(source)):
        left = right = None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            left, right = node.left, node.right
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("joinpath", "with_name", "with_suffix", "glob", "iterdir")
        ):
            left, right = node.func.value, node.args[0] if node.args else None
        if left is None:
            continue
        literal = right.value if isinstance(right, ast.Constant) and isinstance(right.value, str) else None
        if isinstance(right, ast.JoinedStr) and right.values and isinstance(right.values[0], ast.Constant):
            literal = str(right.values[0].value)
        owner_path = isinstance(left, ast.Attribute) and left.attr in attributes and left.attr != "path"
        run_root = (isinstance(left, ast.Attribute) and left.attr == "path" and isinstance(left.value, ast.Attribute)
                    and left.value.attr in ("run", "folder")) or (
            isinstance(left, ast.Attribute) and left.attr == "path"
            and isinstance(left.value, ast.Name) and left.value.id in ("run", "folder", "scoring")
        ) or (isinstance(left, ast.Name) and left.id in ("run_dir", "run_path")) or path_of_a_run(left)  # fmt: skip
        named = literal is not None and any(literal == n or (n.endswith(("-", ".")) and literal.startswith(n))
                                             for n in names)  # fmt: skip
        if owner_path or run_root or (named and literal not in ("config.json",)):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_the_run_path_check_finds_joins_under_a_run():
    assert run_path_joins('np.load(run.path / "trust.npz")') != []
    assert run_path_joins("folder.vectors_dir / name") != []
    assert run_path_joins('x = folder.issues_file.with_name(".tmp")') != []
    assert run_path_joins('Path(run_dir) / "scores"') != []
    assert run_path_joins("folder.trust_file") == [] and run_path_joins('Path(here) / "sample_data"') == []


def test_the_run_path_check_finds_a_path_made_of_a_run_then_joined():
    """`Path(<a run>) / "..."` joins under a run whatever the name joined (not only the run files' names)."""
    assert run_path_joins('weights = Path(config.run) / "model" / "model.safetensors"') != []
    assert (
        run_path_joins('Path(run) / "weights.bin"') != []
        and run_path_joins("Path(self.run_dir) / name") != []
    )
    assert run_path_joins('pathlib.Path(str(run_path)).joinpath("model")') != []
    assert run_path_joins('Path(runs_dir) / ".locks" / "device.lock"') == [], "the runs folder is not a run"
    assert run_path_joins('Path(config.model) / "config.json"') == [] and run_path_joins("Path(run)") == []


def test_only_trainer_runs_names_a_path_under_a_run():
    offenders = {
        name: found
        for name, path in modules().items()
        if not name.startswith("trainer.runs") and (found := run_path_joins(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def worker_imports(source: str) -> list[str]:
    """The imports of trainer.jobs.worker (the job process's entry point) in `source`."""
    return [
        i for i in imports_of(source) if i == "trainer.jobs.worker" or i.startswith("trainer.jobs.worker.")
    ]


def test_the_worker_import_check_finds_each_way_of_importing_it():
    assert worker_imports("from trainer.jobs.worker import computation_name") != []
    assert worker_imports("def f():\n    from trainer.jobs import worker\n") != []
    assert worker_imports("import trainer.jobs.worker as w") != []
    assert worker_imports("from trainer.jobs.manager import job_manager") == []


def test_pages_never_import_the_job_worker():
    """A page asks trainer.jobs' manager (or a read) for what it needs; the worker is the job process's
    entry point, not a library of names for the app."""
    offenders = {
        name: found
        for name, path in modules().items()
        if name.startswith("insight_ui.pages.")
        and (found := worker_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


# What trainer.serve and trainer.monitor may import from trainer.apply (Apply's scoring of a file): nothing.
# The statistics they share with Apply (trends, drift) live in trainer.evaluate and a run's calibration in
# trainer.runs, so both stand beside Apply rather than on it. An entry here must say why it cannot move.
APPLY_ALLOWED: dict[str, set[str]] = {}  # importing module -> the trainer.apply modules it may import


def apply_imports() -> dict[str, list[str]]:
    """Module of trainer.serve or trainer.monitor -> the trainer.apply modules it imports (lazy ones too),
    less what APPLY_ALLOWED lets it."""
    found = {}
    for name, targets in graph().items():
        if name.split(".")[:2] in (["trainer", "serve"], ["trainer", "monitor"]):
            apply = sorted(t for t in targets if t == "trainer.apply" or t.startswith("trainer.apply."))
            if extra := [t for t in apply if t not in APPLY_ALLOWED.get(name, set())]:
                found[name] = extra
    return found


def test_the_apply_import_check_sees_an_import_inside_a_function(tmp_path, monkeypatch):
    fake = {
        "trainer.serve.x": tmp_path / "x.py",
        "trainer.monitor.y": tmp_path / "y.py",
        "trainer.apply.score": tmp_path / "s.py",
        "trainer.evaluate.trends": tmp_path / "t.py",
    }
    fake["trainer.serve.x"].write_text(
        "def f():\n    from trainer.apply.score import calibrate\n", encoding="utf-8"
    )
    fake["trainer.monitor.y"].write_text("from trainer.evaluate.trends import alerts\n", encoding="utf-8")
    for name in ("trainer.apply.score", "trainer.evaluate.trends"):
        fake[name].write_text("", encoding="utf-8")
    monkeypatch.setattr(__import__(__name__), "modules", lambda: fake)
    assert apply_imports() == {"trainer.serve.x": ["trainer.apply.score"]}


def test_serve_and_monitor_import_nothing_from_apply_beyond_the_allow_list():
    assert apply_imports() == {}
