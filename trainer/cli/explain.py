"""`python -m trainer explain`: prediction, word attributions, delta and faithfulness per text."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from trainer.cli.common import load_run_model
from trainer.i18n import N_, tr

TRUST = {"good": N_("good"), "fair": N_("fair"), "poor": N_("poor")}  # shown; the levels stay


def _inputs(args: argparse.Namespace, model: Any) -> list:
    if args.text:
        texts = [t for t in args.text if t.strip()]
        if not texts:
            raise ValueError(tr("Every --text given is empty; give some text to explain."))
        return [model.adapter.read_input(t) for t in texts]
    items, _gold = model.adapter.read_file(args.file, args.text_column, model.labels)
    return list(items)[: max(1, args.limit)]


def explanation_record(exp: Any) -> dict:
    """The JSON line for one explanation (keys promised in the README)."""
    return exp.to_record()


def _print_human(exp: Any) -> None:
    probs = ", ".join(f"{k} {v:.2f}" for k, v in sorted(exp.probabilities.items(), key=lambda kv: -kv[1]))
    print(tr("text: {text}", text=exp.text))
    if exp.word_index is not None:
        word = repr(exp.words[exp.word_index])
        print(tr("predicted (word {index}: {word}): {predicted}   probabilities: {probabilities}",
                 index=exp.word_index, word=word, predicted=exp.predicted, probabilities=probs))  # fmt: skip
    else:
        print(tr("predicted: {predicted}   probabilities: {probabilities}", predicted=exp.predicted,
                 probabilities=probs))  # fmt: skip
    trust = tr(TRUST[exp.trust]) if exp.trust in TRUST else exp.trust
    print(tr("explaining toward: {target}   delta {delta} ({share} of the change, {steps} steps) trust: {trust}: "
             "{reason}", target=exp.target, delta=f"{exp.delta:+.2e}", share=f"{exp.relative_delta:.1%}",
             steps=exp.n_steps, trust=trust, reason=exp.trust_reason))  # fmt: skip
    ranked = sorted((s, w) for w, s in zip(exp.words, exp.scores, strict=True) if s is not None)
    top = [f"{w} {s:+.3f}" for s, w in reversed(ranked[-5:])]
    low = [f"{w} {s:+.3f}" for s, w in ranked[:3] if s < 0]
    print("  " + tr("words for {target}: {words}", target=exp.target, words=", ".join(top)))
    if low:
        print("  " + tr("words against: {words}", words=", ".join(low)))
    faith = exp.faithfulness
    if faith:
        said = tr("removing {words} changes p({target}) from {full} to {without} (as many random words: {random})",
                  words=", ".join(faith.top_words), target=exp.target, full=f"{faith.prob_full:.2f}",
                  without=f"{faith.prob_without_top:.2f}", random=f"{faith.prob_without_random:.2f}")  # fmt: skip
        print("  " + said)
    print()


def add_parser(sub: argparse._SubParsersAction) -> None:
    explain = sub.add_parser("explain", help=tr("explain predictions with integrated gradients"))
    explain.add_argument("run", help=tr("run folder (or run id under --runs-dir)"))
    group = explain.add_mutually_exclusive_group(required=True)
    group.add_argument("--text", action="append", help=tr("a text to explain (repeatable)"))
    group.add_argument("--file", help=tr("a data file whose texts are explained"))
    explain.add_argument("--target", help=tr("explain toward this label (default: the predicted one)"))
    explain.add_argument("--text-column", help=tr("column holding the text in --file"))
    explain.add_argument(
        "--limit", type=int, default=100, help=tr("explain at most this many texts of --file")
    )
    explain.add_argument("--json", action="store_true", help=tr("one JSON object per line"))
    explain.add_argument("--runs-dir", default=None)
    explain.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return explain_with(args, load_run_model(args.run, args.runs_dir))


def explain_with(args: argparse.Namespace, model: Any) -> int:
    """Explain texts (or, for entity runs, every word tagged as an entity) and print the results."""
    if args.target is not None and args.target not in model.labels:
        labels = ", ".join(model.labels)
        raise ValueError(
            tr(
                "Unknown target {target}. This run's labels: {labels}.",
                target=repr(args.target),
                labels=labels,
            )
        )
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
