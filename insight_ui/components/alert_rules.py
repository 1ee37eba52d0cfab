""" "How alerts are raised", as the Apply page (a scoring's buckets, tested once) and the Monitors page (buckets
tested as batches arrive, and how often a surge is caught) say it. Every figure of the rule comes from
trainer.evaluate.trends (BASELINE, ALPHA, PARTIAL, MIN_TEXTS, MIN_BASELINE), so the sentences follow the rule."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from insight_ui.components.trend_charts import unit, units
from insight_ui.safe import trim
from trainer import i18n
from trainer.evaluate.simulate import shown_power
from trainer.evaluate.trends import ALPHA, BASELINE, MIN_BASELINE, MIN_TEXTS, PARTIAL
from trainer.i18n import tr


def _figures() -> dict[str, str]:
    """The rule's figures named in both pages' sentences."""
    return {
        "alpha": i18n.percent(ALPHA),
        "times": i18n.number(round(1 / ALPHA)),
        "min_texts": i18n.number(MIN_TEXTS),
        "min_baseline": i18n.number(MIN_BASELINE),
    }


def level() -> str:
    """The significance level an alert's p-value is held to, before it is shared over the tests ("1%")."""
    return i18n.percent(ALPHA)


def chance_in_words(alert: dict) -> str:
    """Under an alert: its counts, and how often chance alone would give such a jump (its p-value in words;
    the figure itself is the caller's hover)."""
    p = float(alert["p_value"])
    chance = (
        tr("less than 1 time in 1,000")
        if p < 0.001
        else tr("about {share} of the time", share=i18n.percent(p, 1 if p < 0.01 else 0))
    )
    return tr(
        "{count} of {n} texts predicted {label}. Chance alone would give a jump like this {chance}; an alert "
        "needs less than {alpha}, shared over every label tested.",
        count=i18n.number(alert["count"]),
        n=i18n.number(alert["n"]),
        label=trim(str(alert["label"]), 40),
        chance=chance,
        alpha=level(),
    )


def for_scoring(bucket: str) -> None:
    """The Apply page's: each bucket, label and group by Fisher's exact test against the buckets before."""
    with st.expander(tr("How alerts are raised")):
        st.markdown(
            tr("For every {bucket}, label and group, the {bucket}'s count of the label is compared with the "
               "previous {baseline} {buckets} by Fisher's exact test. The {alpha} significance level is shared "
               "out over every label and group tested in a {bucket}, so when nothing changes a {bucket} raises "
               "a false alarm at most 1 time in {times}. A bucket needs {min_texts} texts, and its baseline "
               "{min_baseline}, to be tested.", bucket=unit(bucket), buckets=units(bucket), baseline=BASELINE,
               **_figures())
        )  # fmt: skip


def for_monitor(bucket: str) -> None:
    """The Monitors page's: the labels tested together as batches arrive, looks at a filling bucket, and the
    simulated chance of catching a surge."""
    with st.expander(tr("How alerts are raised")):
        st.markdown(
            tr("Each time a batch arrives, every {bucket} it touched (and any it completed) is tested, per group "
               "and for all groups together: is its mix of labels different from the {baseline} {buckets} "
               "before? The labels are tested together (their shares add up to one, so one label up and another "
               "down is one event), on the model's probabilities where it gives them. The "
               "{alpha} significance level is shared over the groups, so when nothing changes a {bucket} "
               "raises a false alarm at most 1 time in {times}. A {bucket} that is still filling is tested at a "
               "stricter level ({partial} of the level, then half of that at each further look) and its "
               "alert says so; once the {bucket} is complete it is tested once more at {complete} of the "
               "level. So testing a {bucket} again as it fills keeps the rate. A {bucket} needs {min_texts} "
               "texts, and its baseline {min_baseline}, to be tested.", bucket=unit(bucket), buckets=units(bucket),
               baseline=BASELINE, partial=i18n.percent(PARTIAL / 2), complete=i18n.percent(1 - PARTIAL),
               **_figures())
        )  # fmt: skip
        _power(bucket)


def _power(bucket: str) -> None:
    """How often a surge is caught (trainer.evaluate.simulate's power.json), when there is one."""
    table = pd.DataFrame(shown_power())
    if table.empty:
        return
    st.markdown(
        tr("**How often a surge is caught** (simulated: one label's true share multiplied in one group and "
           "{bucket}, the same number of texts in each {bucket}, a model of the stated accuracy):",
           bucket=unit(bucket))
    )  # fmt: skip
    shown = pd.DataFrame({
        tr("model accuracy"): table["accuracy"].map(i18n.percent),
        tr("texts per {bucket}", bucket=unit(bucket)): table["texts"],
        tr("surge"): [f"{i18n.percent(f)} → {i18n.percent(min(1.0, f * s))} ({s:g}x)" for f, s in zip(table["from"], table["surge"], strict=True)],
        tr("caught (one series)"): table["alone"].map(i18n.percent),
        tr("caught (one of 4 series)"): table["of 4 series"].map(i18n.percent),
    })  # fmt: skip
    st.dataframe(shown, hide_index=True)
    st.caption(
        tr("A model's mistakes blur a surge: at 80% accuracy, a true rise from 30% to 60% shows as a rise "
           "of the predicted share from about 38% to 56%, which 50 texts cannot always tell from chance.")
    )  # fmt: skip
