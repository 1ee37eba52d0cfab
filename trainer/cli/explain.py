"""`python -m trainer explain`: prediction, word attributions, delta and faithfulness per text."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from trainer.cli.common import load_run_model


def _inputs(args: argparse.Namespace, model: Any) -> list:
    if args.text:
        texts = [t for t in args.text if t.strip()]
        if not texts:
            raise ValueError("Every --text given is empty; give some text to explain.")
        return [model.adapter.read_input(t) for t in texts]
    items, _gold = model.adapter.read_file(args.file, args.text_column, model.labels)
    return list(items)[: max(1, args.limit)]


def explanation_record(exp: Any) -> dict:
    """The JSON line for one explanation (keys promised in the README)."""
    return exp.to_record()


def _print_human(exp: Any) -> None:
    probs = ", ".join(f"{k} {v:.2f}" for k, v in sorted(exp.probabilities.items(), key=lambda kv: -kv[1]))
    where = f" (word {exp.word_index}: {exp.words[exp.word_index]!r})" if exp.word_index is not None else ""
    print(f"text: {exp.text}")
    print(f"predicted{where}: {exp.predicted}   probabilities: {probs}")
    print(
        f"explaining toward: {exp.target}   delta {exp.delta:+.2e} ({exp.relative_delta:.1%} of the change, "
        f"{exp.n_steps} steps) trust: {exp.trust}: {exp.trust_reason}"
    )
    ranked = sorted((s, w) for w, s in zip(exp.words, exp.scores, strict=True) if s is not None)
    top = [f"{w} {s:+.3f}" for s, w in reversed(ranked[-5:])]
    low = [f"{w} {s:+.3f}" for s, w in ranked[:3] if s < 0]
    print(f"  words for {exp.target}: {', '.join(top)}")
    if low:
        print(f"  words against: {', '.join(low)}")
    faith = exp.faithfulness
    if faith:
        print(
            f"  removing {', '.join(faith.top_words)} changes p({exp.target}) from {faith.prob_full:.2f} to "
            f"{faith.prob_without_top:.2f} (as many random words: {faith.prob_without_random:.2f})"
        )
    print()


def add_parser(sub: argparse._SubParsersAction) -> None:
    explain = sub.add_parser("explain", help="explain predictions with integrated gradients")
    explain.add_argument("run", help="run folder (or run id under --runs-dir)")
    group = explain.add_mutually_exclusive_group(required=True)
    group.add_argument("--text", action="append", help="a text to explain (repeatable)")
    group.add_argument("--file", help="a data file whose texts are explained")
    explain.add_argument("--target", help="explain toward this label (default: the predicted one)")
    explain.add_argument("--text-column", help="column holding the text in --file")
    explain.add_argument("--limit", type=int, default=100, help="explain at most this many texts of --file")
    explain.add_argument("--json", action="store_true", help="one JSON object per line")
    explain.add_argument("--runs-dir", default=None)
    explain.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return explain_with(args, load_run_model(args.run, args.runs_dir))


def explain_with(args: argparse.Namespace, model: Any) -> int:
    """Explain texts (or, for entity runs, every word tagged as an entity) and print the results."""
    if args.target is not None and args.target not in model.labels:
        raise ValueError(f"Unknown target {args.target!r}. This run's labels: {', '.join(model.labels)}.")
    items = _inputs(args, model)
    items, words = model.adapter.explain_plan(items, model.predict)
    explanations = model.adapter.explain(
        model.model, model.tokenizer, model.labels, items, [args.target] * len(items), words,
        max_length=model.max_length,
    )  # fmt: skip
    for exp in explanations:
        if args.json:
            print(json.dumps(explanation_record(exp), ensure_ascii=False))
        else:
            _print_human(exp)
    sys.stdout.flush()
    return 0
