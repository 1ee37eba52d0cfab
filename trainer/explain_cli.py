"""`python -m trainer explain`: prediction, word attributions, delta and faithfulness per text."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from trainer.config import TOKEN_TASK


def _texts(args: argparse.Namespace, model: Any) -> list:
    if args.text:
        texts = [t for t in args.text if t.strip()]
        if not texts:
            raise ValueError("Every --text given is empty; give some text to explain.")
        return [t.split() for t in texts] if model.task == TOKEN_TASK else texts
    from trainer.cli import load_texts

    items, _gold = load_texts(args.file, model.task, args.text_column, model.labels)
    return list(items)[: max(1, args.limit)]


def explanation_record(exp: Any) -> dict:
    """The JSON line for one explanation (keys promised in the README)."""
    faith = exp.faithfulness
    return {
        "text": exp.text,
        "predicted": exp.predicted,
        "probabilities": exp.probabilities,
        "target": exp.target,
        "words": exp.words,
        "scores": exp.scores,
        "delta": exp.delta,
        "relative_delta": exp.relative_delta,
        "n_steps": exp.n_steps,
        "trust": exp.trust,
        "comprehensiveness": faith.comprehensiveness if faith else None,
        "sufficiency": faith.sufficiency if faith else None,
        **({"word_index": exp.word_index} if exp.word_index is not None else {}),
    }


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


def run_explain(args: argparse.Namespace, model: Any) -> int:
    """Explain texts (or, for entity runs, every word tagged as an entity) and print the results."""
    from trainer.attribution import explain, explain_tokens

    if args.target is not None and args.target not in model.labels:
        raise ValueError(f"Unknown target {args.target!r}. This run's labels: {', '.join(model.labels)}.")
    items = _texts(args, model)
    if model.task == TOKEN_TASK:
        tags = model.predict_tags(items).tags
        sentences, indices = [], []
        for words, sentence_tags in zip(items, tags, strict=True):
            picked = [i for i, t in enumerate(sentence_tags) if t != "O"] or [0]
            sentences += [words] * len(picked)
            indices += picked
        explanations = explain_tokens(
            model.model,
            model.tokenizer,
            model.labels,
            sentences,
            indices,
            targets=[args.target] * len(indices),
            max_length=model.max_length,
        )
    else:
        explanations = explain(
            model.model,
            model.tokenizer,
            model.labels,
            items,
            targets=[args.target] * len(items),
            max_length=model.max_length,
        )
    for exp in explanations:
        if args.json:
            print(json.dumps(explanation_record(exp), ensure_ascii=False))
        else:
            _print_human(exp)
    sys.stdout.flush()
    return 0
