"""Counts of the architecture's weak spots (refactor issue 29), read from the source alone (no import).

    .venv/bin/python bench/bench_architecture.py                     # this working tree
    .venv/bin/python bench/bench_architecture.py --root /tmp/before  # another checkout
    .venv/bin/python bench/bench_architecture.py --details           # ... and what each count found

The code measured is trainer/, insight_ui/ and app.py (never tests/, bench/ or tools/). Every count is a
heuristic over the syntax tree; lower is better for each. The heuristics:

- ways to turn texts into predictions: modules outside trainer/runs (the run's model: `RunModel.predict`
  and `RunModel.score` are the one way), trainer/tasks and trainer/model (the forward pass itself) that
  build predictions of new text themselves: they call `<x>.outputs(...)` on a run's model (predictions
  and vectors, to judge trust by hand), or turn predictions into labels and confidences with the
  adapter's hooks (`input_confidence`, `trend_label`, `input_vectors`); plus each module of trainer/serve
  that runs its own forward pass (`forward_batches(`, or an adapter's `.logits(`/`.outputs(`/`.embed(`
  with the model passed in). One per module, whatever the number of calls; the count adds 1 for the
  run model's own way when `RunModel` exists. `--details` also lists the modules that ask the run model
  (`.predict(`/`.score(`), which are uses of the one way, not ways of their own.
- readers of the trust file: modules that name `trust_file` (an attribute, a name or a def), except
  trainer/runs/folder.py, which names every file's path under a run and reads none of them.
- start-a-run flows: modules that call `job_manager().submit(...)` or `<x>.submit(config, ...)`
  (a TrainConfig named config as the first argument).
- ownership rules in insight_ui: functions named `_mine`/`*_mine`, comparisons with an `owner` name or
  attribute (`owner == ...`, `... != x.owner`) and calls of `same_person(`; each place counts.
- inputs_are_words outside trainer/tasks: each use of the attribute `inputs_are_words`.
- pages over 300 lines: files of insight_ui/pages/.
- functions over 60 lines: every def (methods and nested defs too) in trainer/, insight_ui/, app.py,
  from its `def` line to its last line (decorators not counted).
- max trainer modules imported by one page: the distinct trainer modules a page's imports name
  (`from trainer.a import b` is trainer.a.b when that is a module, else trainer.a), lazy ones too.
- direct st.session_state uses outside insight_ui/state.py: each `st.session_state` (or a bare
  `session_state` imported from streamlit) in insight_ui/ and app.py.
- module cycles through a package's __init__: the graph has an edge for every module an import names
  (`import a.b` -> a.b; `from P import x` -> P, whose __init__ it runs, and P.x too when x is a module),
  relative imports resolved. tests/test_architecture.py keeps only the most specific module a file names,
  so `from trainer.runs import procs` there is an edge to trainer.runs.procs alone; here it is also one to
  trainer.runs. Counted: modules m inside a package P (P an ancestor of m) that import `from P import ...`
  while P's __init__ reaches m back through the graph (the strongly connected components are listed).
  (The page count above takes P for `from P import x` only when x is not a module.)
- module names with two meanings: the pairs checked are listed in NAME_CHECKS below (a file name used
  by two modules, a file named like a package elsewhere, and words with two senses in module or
  function names).
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

PACKAGES = ("trainer", "insight_ui")
ADAPTER_RECEIVERS = {"task", "adapter", "self.adapter", "self", "get_task(task)"}
FORWARD_CALLS = {"forward_batches", "forward_passes"}  # the name before and after issue 29
ADAPTER_FORWARD = {"logits", "outputs", "embed"}
PAGE_LINES, FUNCTION_LINES = 300, 60


class Code:
    """The modules of one checkout: dotted name -> (path, source, tree)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: dict[str, Path] = {}
        for package in PACKAGES:
            for path in sorted((root / package).rglob("*.py")):
                parts = path.relative_to(root).with_suffix("").parts
                self.modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
        if (root / "app.py").exists():
            self.modules["app"] = root / "app.py"
        self.packages = {n for n, p in self.modules.items() if p.name == "__init__.py"}
        self._trees: dict[str, ast.Module] = {}

    def source(self, name: str) -> str:
        return self.modules[name].read_text(encoding="utf-8")

    def tree(self, name: str) -> ast.Module:
        if name not in self._trees:
            self._trees[name] = ast.parse(self.modules[name].read_text(encoding="utf-8"))
        return self._trees[name]

    def lines(self, name: str) -> int:
        return len(self.modules[name].read_text(encoding="utf-8").splitlines())

    def where(self, name: str) -> str:
        return str(self.modules[name].relative_to(self.root))

    def under(self, *prefixes: str) -> Iterator[str]:
        for name in self.modules:
            if any(name == p or name.startswith(p + ".") for p in prefixes):
                yield name

    def imported(self, name: str, namespaces: bool = True) -> list[str]:
        """The project modules `name` imports (lazy imports too): `import a.b` names a.b; `from P import x`
        names P (its __init__ runs and x is read from it) and P.x too when that is a module; with
        `namespaces=False`, P only for the names that are not modules."""
        package = name if name in self.packages else name.rpartition(".")[0]
        found = []
        for node in ast.walk(self.tree(name)):
            if isinstance(node, ast.Import):
                found += [a.name for a in node.names if a.name in self.modules]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the package, up level - 1
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in self.modules]
                if base in self.modules and (namespaces or len(subs) < len(node.names)):
                    found.append(base)  # `from P import x` runs P's __init__ and reads x from it
                found += subs
        return [f for f in found if f != name]


def dotted(node: ast.AST) -> str:
    return ast.unparse(node) if isinstance(node, ast.Name | ast.Attribute | ast.Call) else ""


def calls(tree: ast.AST) -> Iterator[ast.Call]:
    return (n for n in ast.walk(tree) if isinstance(n, ast.Call))


# ---------------------------------------------------------------------------------------------- counts


HOOKS = {"input_confidence", "trend_label", "input_vectors"}  # predictions -> labels, confidences, vectors


def prediction_ways(code: Code) -> list[str]:
    found = []
    inside = set(code.under("trainer.runs", "trainer.tasks", "trainer.model"))
    for name in code.modules:
        if name in inside:
            continue
        serve = name.startswith("trainer.serve")
        why = ""
        for call in calls(code.tree(name)):
            func = call.func
            run_model = isinstance(func, ast.Attribute) and dotted(func.value) not in ADAPTER_RECEIVERS
            if run_model and func.attr == "outputs":
                why = f"{ast.unparse(func)}(...) line {call.lineno}"
                break
            if isinstance(func, ast.Attribute) and func.attr in HOOKS:
                why = f"builds its own answers: {ast.unparse(func)}(...) line {call.lineno}"
                break
            if serve and (
                (isinstance(func, ast.Name) and func.id in FORWARD_CALLS)
                or (isinstance(func, ast.Attribute) and func.attr in ADAPTER_FORWARD and len(call.args) >= 3)
            ):
                why = f"its own forward pass: {ast.unparse(func)}(...) line {call.lineno}"
                break
        if why:
            found.append(f"{code.where(name)}: {why}")
    owner = [n for n in code.modules if n.startswith("trainer.runs.") and "class RunModel" in code.source(n)]
    found += [f"{code.where(n)}: RunModel (predict, score), the run model's own way" for n in owner]
    return found


def run_model_users(code: Code) -> list[str]:
    """Modules that ask a run's model for predictions (uses of the one way; not counted as ways)."""
    found = []
    for name in code.modules:
        if name.startswith("trainer.runs"):
            continue
        for call in calls(code.tree(name)):
            func = call.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in ("predict", "score")
                and (dotted(func.value) not in ADAPTER_RECEIVERS)
            ):
                found.append(f"{code.where(name)}: {ast.unparse(func)}(...) line {call.lineno}")
                break
    return found


def trust_readers(code: Code) -> list[str]:
    found = []
    for name in code.modules:
        if name == "trainer.runs.folder":  # the run folder names every file's path; it reads none of them
            continue
        for node in ast.walk(code.tree(name)):
            if (
                (isinstance(node, ast.Attribute) and node.attr == "trust_file")
                or (isinstance(node, ast.Name) and node.id == "trust_file")
                or (isinstance(node, ast.FunctionDef) and node.name == "trust_file")
            ):
                found.append(f"{code.where(name)} line {node.lineno}")
                break
    return found


def run_starts(code: Code) -> list[str]:
    found = []
    for name in code.modules:
        for call in calls(code.tree(name)):
            func = call.func
            if not (isinstance(func, ast.Attribute) and func.attr == "submit"):
                continue
            via_manager = isinstance(func.value, ast.Call) and dotted(func.value.func).endswith("job_manager")
            first = call.args[0] if call.args else None
            with_config = first is not None and dotted(first).split(".")[-1] == "config"
            if via_manager or with_config:
                found.append(f"{code.where(name)}: {ast.unparse(call)[:70]} line {call.lineno}")
                break
    return found


def _names_owner(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "owner") or (
        isinstance(node, ast.Attribute) and node.attr == "owner"
    )


def ownership_rules(code: Code) -> list[str]:
    found = []
    for name in code.under("insight_ui"):
        for node in ast.walk(code.tree(name)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.endswith("_mine"):
                found.append(f"{code.where(name)} line {node.lineno}: def {node.name}")
            elif isinstance(node, ast.Compare) and any(isinstance(o, ast.Eq | ast.NotEq) for o in node.ops):
                if any(_names_owner(side) for side in [node.left, *node.comparators]):
                    found.append(f"{code.where(name)} line {node.lineno}: {ast.unparse(node)[:60]}")
            elif isinstance(node, ast.Call) and dotted(node.func).split(".")[-1] == "same_person":
                found.append(f"{code.where(name)} line {node.lineno}: {ast.unparse(node)[:60]}")
    return found


def words_shape_uses(code: Code) -> list[str]:
    inside = set(code.under("trainer.tasks"))
    return [
        f"{code.where(name)} line {node.lineno}"
        for name in code.modules
        if name not in inside
        for node in ast.walk(code.tree(name))
        if isinstance(node, ast.Attribute) and node.attr == "inputs_are_words"
    ]


def long_pages(code: Code) -> list[str]:
    return [
        f"{code.where(n)}: {code.lines(n)} lines"
        for n in code.under("insight_ui.pages")
        if n != "insight_ui.pages" and code.lines(n) > PAGE_LINES
    ]


def long_functions(code: Code) -> list[str]:
    found = []
    for name in code.modules:
        for node in ast.walk(code.tree(name)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > FUNCTION_LINES:
                    found.append(f"{code.where(name)}:{node.lineno} {node.name}: {length} lines")
    return found


def page_imports(code: Code) -> list[str]:
    counted = []
    for name in code.under("insight_ui.pages"):
        if name == "insight_ui.pages":
            continue
        trainer = sorted({m for m in code.imported(name, namespaces=False) if m.startswith("trainer.")})
        counted.append((len(trainer), code.where(name), trainer))
    counted.sort(reverse=True)
    return [f"{where}: {n} ({', '.join(t)})" for n, where, t in counted]


def session_state_uses(code: Code) -> list[str]:
    found = []
    for name in [*code.under("insight_ui"), "app"]:
        if name == "insight_ui.state" or name not in code.modules:
            continue
        bare = any(
            isinstance(n, ast.ImportFrom)
            and (n.module or "").startswith("streamlit")
            and any(a.name == "session_state" for a in n.names)
            for n in ast.walk(code.tree(name))
        )
        for node in ast.walk(code.tree(name)):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "session_state"
                and dotted(node.value) == "st"
            ) or (bare and isinstance(node, ast.Name) and node.id == "session_state"):
                found.append(f"{code.where(name)} line {node.lineno}")
    return found


def _reach(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _components(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                part = []
                while True:
                    top = stack.pop()
                    on.discard(top)
                    part.append(top)
                    if top == node:
                        break
                if len(part) > 1:
                    found.append(sorted(part))
    return found


def init_cycles(code: Code) -> list[str]:
    edges = {name: set(code.imported(name)) for name in code.modules}
    found = []
    for name, targets in edges.items():
        for package in sorted(t for t in targets if t in code.packages and name.startswith(t + ".")):
            if name in _reach(edges, package):
                found.append(f"{name} -> {package} (its __init__) -> ... -> {name}")
    members = {f.split(" ")[0] for f in found}
    for part in _components(edges):
        if members & set(part):
            found.append(f"  cycle: {' , '.join(part)}")
    return found


# A word or file name with two meanings: each check returns the places that show both, or nothing.
def _files(code: Code, file_name: str) -> list[str]:
    return [code.where(n) for n, path in code.modules.items() if path.name == file_name]


def _all_there(code: Code, *paths: str) -> list[str]:
    """`paths` (files, or folders ending in /) when every one is in the checkout, else nothing."""
    there = [p for p in paths if (code.root / p).is_dir() if p.endswith("/")] + [
        p for p in paths if not p.endswith("/") and p in {code.where(n) for n in code.modules}
    ]
    return [" and ".join(paths)] if len(there) == len(paths) else []


def _twice(code: Code, file_name: str) -> list[str]:
    found = _files(code, file_name)
    return [", ".join(found)] if len(found) > 1 else []


def _defs_named(code: Code, word: str, prefixes: tuple[str, ...]) -> list[str]:
    found = []
    for name in code.under(*prefixes):
        if word in name.rpartition(".")[2]:
            found.append(code.where(name))
        found += [
            f"{code.where(name)}:{n.lineno} {n.name}"
            for n in ast.walk(code.tree(name))
            if isinstance(n, ast.FunctionDef | ast.ClassDef) and re.search(rf"(^|_){word}", n.name.lower())
        ]
    return found


def _batch(code: Code) -> list[str]:
    forward = _defs_named(code, "batch", ("trainer.model", "trainer.tasks", "trainer.serve"))
    monitor = _defs_named(code, "batch", ("trainer.monitor",))
    if not (forward and monitor):
        return []
    return [
        f"forward pass: {forward[0]} (+{len(forward) - 1} more); monitor: {monitor[0]} (+{len(monitor) - 1} more)"
    ]


# The pairs checked, each (the name: its two meanings, the check). Names a layer shares on purpose are not
# counted: cli/<command>.py and pages/<stage>.py are named after the package they front (cli/fit.py runs
# train/fit.py), which is one meaning.
NAME_CHECKS: list[tuple[str, Callable[[Code], list[str]]]] = [
    ("store.py: a run's atomic JSON files / a monitor's DuckDB file", lambda c: _twice(c, "store.py")),
    ("app.py: the Streamlit app / uvicorn's factory of service workers", lambda c: _twice(c, "app.py")),
    ("serve: starting the Streamlit app / the HTTP service", lambda c: _all_there(c, "insight_ui/serve.py", "trainer/serve/")),
    ("model: a run's model on new inputs / backbones and the forward pass", lambda c: _all_there(c, "trainer/runs/model.py", "trainer/model/")),
    ("results: a scoring's results.json / the module that is the whole scoring flow", lambda c: _all_there(c, "trainer/apply/results.py")),
    ("batch: texts in one forward pass / a file of rows added to a monitor", _batch),
    ("limits.py: the limits on one file / the service's request rate", lambda c: _all_there(c, "trainer/data/limits.py", "trainer/serve/limits.py")),
    ("api.py: attribution's entry points / the HTTP routes", lambda c: _all_there(c, "trainer/attribution/api.py", "trainer/serve/api.py")),
]  # fmt: skip


def two_meanings(code: Code) -> list[str]:
    return [f"{label}: {found}" for label, check in NAME_CHECKS for found in check(code)]


COUNTS: list[tuple[str, Callable[[Code], list[str]], Callable[[list[str]], str] | None]] = [
    ("ways to turn texts into predictions", prediction_ways, None),
    ("  modules asking the run model (predict, score)", run_model_users, None),
    ("readers of the trust file", trust_readers, None),
    ("start-a-run flows", run_starts, None),
    ("ownership rules in insight_ui", ownership_rules, None),
    ("inputs_are_words uses outside trainer/tasks", words_shape_uses, None),
    (f"pages over {PAGE_LINES} lines", long_pages, None),
    (f"functions over {FUNCTION_LINES} lines", long_functions, None),
    ("max trainer modules imported by one page", page_imports,
     lambda found: found[0].split(": ")[1].split(" ")[0] + f" ({found[0].split(':')[0]})" if found else "0"),
    ("direct st.session_state uses outside state.py", session_state_uses, None),
    ("module cycles through a package's __init__", init_cycles,
     lambda found: str(sum(not f.startswith("  ") for f in found))),
    ("module names with two meanings", two_meanings, None),
]  # fmt: skip


def measure(root: Path) -> list[tuple[str, str, list[str]]]:
    code = Code(root)
    rows = []
    for label, count, shown in COUNTS:
        found = count(code)
        rows.append((label, shown(found) if shown else str(len(found)), found))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1],
                        help="the checkout to measure (default: this working tree)")  # fmt: skip
    parser.add_argument("--details", action="store_true", help="list what each count found")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "trainer").is_dir():
        sys.exit(f"{root} has no trainer/ folder")
    rows = measure(root)
    width = max(len(label) for label, _, _ in rows)
    print(f"architecture counts of {root}\n")
    print(f"| {'measure':<{width}} | count |")
    print(f"|{'-' * (width + 2)}|-------|")
    for label, value, _ in rows:
        print(f"| {label:<{width}} | {value:>5} |" if len(value) <= 5 else f"| {label:<{width}} | {value} |")
    if args.details:
        for label, value, found in rows:
            print(f"\n{label}: {value}")
            for line in found:
                print(f"  {line}")


if __name__ == "__main__":
    main()
