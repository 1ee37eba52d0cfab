"""trainer.monitor.naming: "Keep watching this" names its monitor after the file, made safe and free."""

from __future__ import annotations

from trainer.monitor.monitor import NAME_RE
from trainer.monitor.naming import free_name, stem_of


def test_a_free_wanted_name_is_kept():
    assert free_name("market_news", set()) == "market_news"
    assert free_name("market_news", {"other"}) == "market_news"


def test_a_taken_name_gets_the_first_free_number():
    assert free_name("news", {"news"}) == "news-1"
    assert free_name("news", {"news", "news-1", "news-2"}) == "news-3"
    assert free_name("news", {"news-1"}) == "news"


def test_unsafe_characters_become_dashes_and_the_ends_are_trimmed():
    assert stem_of("my file (v2)") == "my-file--v2"
    assert stem_of("..weekly news!") == "weekly-news"
    assert stem_of("评论") == "stream"  # nothing safe is left
    assert stem_of("") == "stream"
    assert len(stem_of("a" * 100)) == 40


def test_the_name_is_always_a_monitor_name():
    for wanted in ("-x-", "___", "a b c", "x" * 80, "ünïcode", "."):
        name = free_name(wanted, {stem_of(wanted)})
        assert NAME_RE.fullmatch(name), name


def test_many_taken_names_still_give_a_free_one():
    taken = {"s"} | {f"s-{i}" for i in range(1, 1500)}
    assert free_name("s", taken) == "s-1500"
