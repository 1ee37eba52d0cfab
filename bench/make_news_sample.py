"""Writes sample_data/market_news.csv: three months of invented market and product news headlines.

    .venv/bin/python bench/make_news_sample.py

Four topics, about twenty headlines a day, each with a date and time. Most weeks mix good, neutral and
bad news in the same shares; in the week of 20 July 2026 bad news about Banking surges (a fraud scandal
at Harbor Bank), which the Apply page's alerts should find. Companies and events are made up.
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "sample_data" / "market_news.csv"
COMPANIES = {
    "Energy": ["Nordwind Energy", "Helios Power", "Tarn Oil", "Bright Grid"],
    "Banking": ["Harbor Bank", "Crestline Financial", "Meridian Trust", "Oakhill Savings"],
    "Retail": ["Acme Stores", "Bluebird Outfitters", "Maple Grocers", "Corner Mart"],
    "Technology": ["Quanta Labs", "Pixelworks", "Orbit Systems", "Kestrel Software"],
}
GOOD = [
    "{c} shares climb after strong quarterly results",
    "{c} raises its full-year forecast as demand grows",
    "Investors cheer record profit at {c}",
    "{c} wins a major contract and its stock jumps",
    "Analysts praise excellent growth at {c}",
    "{c} beats expectations with a great quarter",
    "Customers love the new service from {c}",
    "{c} reports its best year ever",
]
NEUTRAL = [
    "{c} to hold its annual meeting next month",
    "{c} names a new chief financial officer",
    "{c} opens an office in {city}",
    "{c} schedules its earnings call for Thursday",
    "{c} publishes its quarterly report",
    "{c} moves its headquarters to {city}",
    "{c} updates its board of directors",
    "{c} confirms the date of its investor day",
]
BAD = [
    "{c} shares plunge after weak results",
    "{c} cuts hundreds of jobs as sales fall",
    "Regulators fine {c} over misleading customers",
    "{c} warns of heavy losses and its stock tumbles",
    "Angry customers complain as {c} outage drags on",
    "{c} recalls faulty products after complaints",
    "{c} misses targets in a terrible quarter",
    "Investors flee {c} after a disappointing forecast",
]
SCANDAL = [
    "Harbor Bank hit by fraud scandal, shares collapse",
    "Harbor Bank customers angry after accounts frozen",
    "Regulators open fraud probe into Harbor Bank",
    "Harbor Bank chief resigns over fraud scandal",
    "Banking stocks fall as Harbor Bank scandal spreads",
    "Harbor Bank losses deepen, investors panic",
    "Customers pull deposits from Harbor Bank after fraud",
    "Crestline Financial shares drop amid banking fears",
]
CITIES = ["Oslo", "Lagos", "Kyoto", "Lisbon", "Denver", "Pune", "Leeds", "Quito"]
SHARES = (0.35, 0.40, 0.25)  # good, neutral, bad
SURGE = (date(2026, 7, 20), date(2026, 7, 26))


def headline(rng: random.Random, topic: str, mood: str) -> str:
    template = rng.choice({"good": GOOD, "neutral": NEUTRAL, "bad": BAD}[mood])
    return template.format(c=rng.choice(COMPANIES[topic]), city=rng.choice(CITIES))


def main() -> None:
    rng = random.Random(7)
    rows = []
    day = date(2026, 6, 1)
    while day <= date(2026, 8, 30):
        for topic in COMPANIES:
            surge = topic == "Banking" and SURGE[0] <= day <= SURGE[1]
            for _ in range(rng.randint(3, 7) + (4 if surge else 0)):
                moment = datetime.combine(day, datetime.min.time()) + timedelta(
                    minutes=rng.randint(6 * 60, 22 * 60)
                )
                if surge and rng.random() < 0.75:
                    text = rng.choice(SCANDAL)
                else:
                    mood = rng.choices(["good", "neutral", "bad"], SHARES)[0]
                    text = headline(rng, topic, mood)
                rows.append((moment.strftime("%Y-%m-%d %H:%M"), topic, text))
        day += timedelta(days=1)
    rows.sort()
    with open(OUT, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["published", "topic", "headline"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} headlines to {OUT}")


if __name__ == "__main__":
    main()
