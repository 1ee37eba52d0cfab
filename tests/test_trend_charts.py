"""The monitor and Apply trend chart's time axis (insight_ui/components/trend_charts.py)."""

from __future__ import annotations

import pandas as pd

from insight_ui.components.trend_charts import trend_chart
from trainer import i18n


def counts(starts: list[str]) -> pd.DataFrame:
    rows = []
    for start in starts:
        rows += [(start, "positive", 30, 0.6, 50), (start, "negative", 20, 0.4, 50)]
    return pd.DataFrame(rows, columns=["bucket", "label", "n", "share", "total"])


def test_one_week_gives_a_date_axis_around_it_not_a_fraction_of_a_second():
    fig = trend_chart(counts(["2026-06-01"]), [], "week", ["positive", "negative"])
    for axis in (fig.layout.xaxis, fig.layout.xaxis2):  # the shares above and the texts below
        first, last = (pd.Timestamp(v) for v in axis.range)
        assert first <= pd.Timestamp("2026-05-29") and last >= pd.Timestamp("2026-06-04"), axis.range
        assert last - first <= pd.Timedelta(days=8)
        assert axis.tickformat == "%d %b %Y" and "%H" not in axis.tickformat and "%S" not in axis.tickformat
        assert [pd.Timestamp(v) for v in axis.tickvals] == [pd.Timestamp("2026-06-01")]


def test_many_buckets_keep_plotlys_own_ticks_and_chinese_dates_stay_chinese():
    weeks = [d.date().isoformat() for d in pd.date_range("2026-03-02", periods=10, freq="7D")]
    fig = trend_chart(counts(weeks), [], "week", ["positive", "negative"])
    assert fig.layout.xaxis.range is None and fig.layout.xaxis.tickvals is None
    with i18n.speaking("zh"):
        fig = trend_chart(counts(["2026-06-01", "2026-06-02"]), [], "day", ["positive", "negative"])
    assert fig.layout.xaxis.tickformat == "%-m月%-d日\n%Y"
    first, last = (pd.Timestamp(v) for v in fig.layout.xaxis.range)
    assert first == pd.Timestamp("2026-05-31 12:00") and last == pd.Timestamp("2026-06-02 12:00")
