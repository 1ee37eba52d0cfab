"""The Glossary page's terms: each technical word the result pages keep one hover away, its plain meaning
in one or two sentences, and where it appears (English catalogue ids, translated where shown)."""

from __future__ import annotations

from trainer.i18n import N_

# (term, what it means, where it appears)
TERMS = (
    (
        N_("Accuracy"),
        N_("The share of answers that are right. Shown as “Right answers”."),
        N_("Evaluate (the sentence at the top and the first tile), Compare."),
    ),
    (
        N_("Macro-F1"),
        N_(
            "The F1 score of each label, averaged with every label counting the same, so a small label "
            "the model gets wrong pulls it down. Shown as “Average over labels”."
        ),
        N_("Evaluate, Compare, the run picker."),
    ),
    (
        N_("Weighted F1"),
        N_("The F1 score of each label, averaged with big labels weighing more."),
        N_("Evaluate, under “Details for specialists”; Compare."),
    ),
    (
        N_("Macro recall"),
        N_("For each label, the share of its examples the model finds; then the average over labels."),
        N_("Evaluate, under “Details for specialists”; Compare."),
    ),
    (
        N_("Precision"),
        N_(
            "Of the examples the model gave a label, the share that really have it. Shown as “Right when "
            "it says so”."
        ),
        N_("Evaluate, the table of each label; entity runs' tiles."),
    ),
    (
        N_("Recall"),
        N_("Of the examples that really have a label, the share the model finds. Shown as “Found”."),
        N_("Evaluate, the table of each label; entity runs' tiles."),
    ),
    (
        N_("F1"),
        N_(
            "Precision and recall in one score (their harmonic mean): high only when both are high. Shown as "
            "“Both together”."
        ),
        N_("Evaluate, the table of each label; Compare."),
    ),
    (
        N_("Support"),
        N_("How many test examples really have a label. With few, its scores are noisy."),
        N_("Evaluate, the table of each label (“How many”)."),
    ),
    (
        N_("Entity F1 and tag accuracy"),
        N_(
            "For names of people, places and so on (entities): an entity counts as "
            "right only with the right words and type. Tag accuracy counts single "
            "words, most of which are no entity, so it runs high."
        ),
        N_("Evaluate and Compare, for entity runs."),
    ),
    (
        N_("Training, validation and test split"),
        N_(
            "The data is cut in three: the model learns from the training "
            "part, the validation part decides when to stop, and the test part is "
            "kept aside to score it on examples it never saw."
        ),
        N_("Data, Evaluate, Explain, Compare."),
    ),
    (
        N_("95% interval and bootstrap"),
        N_(
            "The range a score would likely fall in on another set of examples like "
            "these. It is found by a bootstrap: scoring many random redraws of the test "
            "examples."
        ),
        N_("Evaluate (“between … and …”), Compare."),
    ),
    (
        N_("p-value"),
        N_(
            "How often chance alone would give a difference this large. Small (below 5 in 100): the "
            "difference is probably real."
        ),
        N_("Compare, under “Details for specialists”; Apply's alerts."),
    ),
    (
        N_("McNemar's test and paired bootstrap"),
        N_(
            "Two ways to tell whether one run really beats another on the same "
            "test examples: McNemar counts the examples only one of them gets "
            "right; a paired bootstrap redraws the same examples for both."
        ),
        N_("Compare, under “Details for specialists”."),
    ),
    (
        N_("Fisher's exact test"),
        N_(
            "A test of whether a label is more frequent in one week than in the weeks before, "
            "beyond what chance would give."
        ),
        N_("Apply and Monitors, the alerts."),
    ),
    (
        N_("Confusion matrix"),
        N_(
            "A table of true labels against predicted ones: the diagonal is right, every other cell "
            "a kind of mistake."
        ),
        N_("Evaluate (“Which labels it mixes up”), Compare."),
    ),
    (
        N_("Gold or true label"),
        N_("The label written in your data: what the model is scored against."),
        N_("Evaluate, Compare, Explain."),
    ),
    (
        N_("Likely label issues and cleanlab"),
        N_(
            "Examples whose label may be wrong: a model that never saw them "
            "confidently says otherwise. cleanlab is the library that finds them, "
            "from cross-validated predictions."
        ),
        N_("Evaluate (“Likely label issues”), Embeddings (circled dots)."),
    ),
    (
        N_("Cross-validation"),
        N_(
            "The data is cut in parts; each part is predicted by a model trained on the others, so "
            "every example gets an answer from a model that never saw it."
        ),
        N_("Evaluate, how likely label issues are found."),
    ),
    (
        N_("Embeddings"),
        N_(
            "The numbers a model turns a text into; texts it finds alike get close numbers. The "
            "Embeddings page draws them as dots."
        ),
        N_("Embeddings."),
    ),
    (
        N_("PCA, t-SNE and UMAP"),
        N_(
            "Three ways to flatten embeddings onto a page. PCA (“Quick overview”) is instant and "
            "keeps overall distances; t-SNE (“Local groups”) and UMAP (“Groups and layout”) "
            "show which examples sit together."
        ),
        N_("Embeddings, “How to draw the map”."),
    ),
    (
        N_("Backbone or pretrained model"),
        N_("The general language model a run starts from, before it learns your labels."),
        N_("Train, Embeddings (the map before fine-tuning)."),
    ),
    (
        N_("Fine-tuning and epoch"),
        N_(
            "Fine-tuning teaches a pretrained model your labels. An epoch is one pass over all "
            "the training examples."
        ),
        N_("Train, Compare (how they trained)."),
    ),
    (
        N_("Learning rate"),
        N_(
            "How big a step the model takes each time it corrects itself while training. Too big: "
            "it never settles; too small: it learns slowly."
        ),
        N_("Train, Compare."),
    ),
    (
        N_("Tokens and max length"),
        N_(
            "Models read texts in pieces called tokens (words or parts of words). Max length "
            "is how many tokens of a text are read; the rest is cut."
        ),
        N_("Data, Train, Explain."),
    ),
    (
        N_("Integrated gradients and attribution"),
        N_(
            "How Insight says which words pushed the model: the model's score is "
            "followed from a blank text to the real one, and each word gets its "
            "share of the change (its attribution)."
        ),
        N_("Explain (the coloured words and the words that matter)."),
    ),
    (
        N_("Logits and delta"),
        N_(
            "Logits are the model's raw scores before they become probabilities. The delta is how "
            "far the word scores, added up, miss the model's change: the smaller, the more they can "
            "be trusted."
        ),
        N_("Explain, the hover on the trust line."),
    ),
    (
        N_("Confidence and p_<label> columns"),
        N_(
            "How sure the model is of its answer: the probability it gives the "
            "label it chose. A scored file has one p_ column per label (for example "
            "p_negative) with the probability of that label."
        ),
        N_("Evaluate, Apply, Monitors, the downloaded files."),
    ),
    (
        N_("Drift"),
        N_("New texts that differ from the training data, so the model's scores may no longer hold."),
        N_("Apply, Monitors."),
    ),
)
