"""`python -m trainer robustness RUN`: behavioural tests of a text run on its test split: how often a small
change that should not matter (a typo, the case, the final punctuation, a space, a number) changes the answer,
with a Wilson 95% interval and the worst examples."""

from __future__ import annotations

import argparse
import json

from trainer.cli.common import EXIT_OK, CliError, finished_model, runs_dir
from trainer.i18n import tr


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "robustness", help=tr("how often small changes that should not matter change the answer")
    )
    p.add_argument("run", help=tr("run folder (or run id under --runs-dir)"))
    p.add_argument(
        "--families", default=None, help=tr("which changes to try, separated by commas (default: all)")
    )
    p.add_argument("--data", default=None, help=tr("a file of texts to change instead of the test split"))
    p.add_argument("--text-column", default=None, help=tr("the column of texts in --data"))
    p.add_argument(
        "--rules",
        default=None,
        help=tr(
            "a JSON file of your own rules: word pairs to swap, or a "
            "phrase whose adding should lower or raise a label"
        ),
    )
    p.add_argument("--seed", type=int, default=0, help=tr("seed of the random changes (default 0)"))
    p.add_argument("--json", action="store_true", help=tr("print everything as one JSON object"))
    p.add_argument("--runs-dir", default=None)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from trainer.data.perturb import FAMILIES
    from trainer.inspect.behaviour import ENTITY_FAMILIES, run_tests, split_inputs
    from trainer.runs import find_run, load_run

    path = find_run(args.run, runs_dir(args.runs_dir), anywhere=True)
    saved = load_run(path)
    known = FAMILIES if saved.adapter.supports("small_changes") else ENTITY_FAMILIES
    families = (
        list(known) if not args.families else [f.strip() for f in args.families.split(",") if f.strip()]
    )
    unknown = [f for f in families if f not in known]
    if unknown or not families:
        raise CliError(tr("Unknown change {names}: choose among {known}.", names=", ".join(unknown) or "''",
                          known=", ".join(known)))  # fmt: skip
    model = finished_model(saved)
    if args.data:
        from trainer.inspect.given_file import read

        inputs = read(model, args.data, args.text_column).inputs
    else:
        inputs = split_inputs(saved)
        if not inputs:
            raise CliError(tr("{run} has no test split to try the changes on.", run=path.name))
    rules = _rules(args.rules, model) if args.rules else ()
    results = run_tests(model, inputs, families=families, seed=args.seed, rules=rules)
    if args.json:
        split = "test" if not args.data else str(args.data)
        out = {"run": path.name, "split": split, "tests": [r.to_dict() for r in results]}
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return EXIT_OK
    for r in results:
        if not r.changed:
            print(tr("{name}: no test text could be changed this way.", name=r.name))
            continue
        if r.kind == "directional":
            print(tr("{name}: the probability of {label} did not go the way the rule says on {failed} of {changed} "
                     "changed texts ({rate}, between {low} and {high}); it moved by {move} on average.", name=r.name,
                     label=r.rule["label"], failed=r.failed, changed=r.changed, rate=f"{r.fail_rate:.0%}",
                     low=f"{r.ci_low:.0%}", high=f"{r.ci_high:.0%}",
                     move=f"{r.mean_probability_change:+.2f}"))  # fmt: skip
            continue
        if r.unit == "sentence":
            print(tr("{name}: a tag that should have stayed moved in {failed} of {changed} changed sentences "
                     "({rate}, between {low} and {high}); {entities_failed} of {entities} entities checked "
                     "lost their tags.", name=r.name, failed=r.failed, changed=r.changed,
                     rate=f"{r.fail_rate:.0%}", low=f"{r.ci_low:.0%}", high=f"{r.ci_high:.0%}",
                     entities_failed=r.entities_failed, entities=r.entities))  # fmt: skip
            continue
        print(tr("{name}: the answer changed on {failed} of {changed} changed texts ({rate}, between {low} and "
                 "{high}); the first answer's probability moved by {move} on average.", name=r.name,
                 failed=r.failed, changed=r.changed, rate=f"{r.fail_rate:.0%}", low=f"{r.ci_low:.0%}",
                 high=f"{r.ci_high:.0%}", move=f"{r.mean_probability_change:+.2f}"))  # fmt: skip
    return EXIT_OK


def _rules(path: str, model) -> list:
    """The rules of a JSON file (one error line when it cannot be read or a rule is not right)."""
    from pathlib import Path

    from trainer.data.rules import parse

    if not model.adapter.supports("small_changes"):
        raise CliError(tr("Your own rules work for text classification runs so far, not entity runs."))
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CliError(tr("{path} could not be read as JSON: {reason}", path=path, reason=exc)) from exc
    return parse(raw, model.labels)
