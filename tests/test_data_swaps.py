"""The families that swap real names, places and numbers, the contractions, and the Chinese script and
homophone families (issue 31): each changes what it names and nothing else, finds real names and places, and
keeps a Chinese text Chinese."""

from __future__ import annotations

import re

from trainer.data.chinese_changes import _homophones
from trainer.data.perturb import perturb
from trainer.data.swaps import english_names, english_places
from trainer.data.word_rule import is_cjk

ENGLISH = [
    "Emily said the hotel in Paris was lovely, but Jacob hated the food.",
    "We flew from Tokyo to Brazil and the seats were awful.",
    "Will you send it? Mark my words, it broke.",
    "nothing to swap in here",
]
CHINESE = ["张伟昨天在北京买了三台电脑，质量很好。", "李娜去上海出差两天，酒店很干净。", "这个产品很好用"]


def differing_words(a: str, b: str) -> list[tuple[str, str]]:
    """The words of a that b replaced, each with its replacement (aligned on the unchanged words)."""
    import difflib

    x, y = a.split(), b.split()
    pairs = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=x, b=y, autojunk=False).get_opcodes():
        if op != "equal":
            pairs.append((" ".join(x[i1:i2]), " ".join(y[j1:j2])))
    return pairs


def test_names_swap_only_real_first_names_for_other_real_ones():
    names = set(english_names())
    assert {"Emily", "Jacob"} <= names and "Will" not in names and "Mark" not in names  # words stay words
    for seed in range(10):
        first, second, words, nothing = perturb("names", ENGLISH, seed)
        moved = differing_words(ENGLISH[0], first)
        assert [old for old, _ in moved] == ["Emily", "Jacob"], moved
        assert all(new in names and new != old for old, new in moved)
        assert second is None and words is None and nothing is None, "no name: the text is not tried"


def test_places_swap_countries_for_countries_and_cities_for_cities():
    places = english_places()
    assert places["Paris"] == "city" and places["Brazil"] == "country" and places["New York"] == "city"
    for seed in range(10):
        first, second, words, nothing = perturb("places", ENGLISH, seed)
        (old, new), *_ = differing_words(ENGLISH[0], first)
        assert old == "Paris" and places[new.rstrip(",.")] == "city" and new != old
        moved = differing_words(ENGLISH[1], second)
        assert [old for old, _ in moved] == ["Tokyo", "Brazil"], moved
        assert places[moved[1][1]] == "country", moved
        assert words is None and nothing is None


def test_chinese_names_places_and_numbers_are_swapped_and_the_text_stays_chinese():
    for family, swapped in (
        ("names", ("张伟", "李娜")),
        ("places", ("北京", "上海")),
        ("numbers", ("三", "两")),
    ):
        for seed in range(5):
            changed = perturb(family, CHINESE, seed)
            assert changed[2] is None, f"{family}: nothing of its kind in the third text"
            for original, new, old in zip(CHINESE[:2], changed[:2], swapped, strict=True):
                if family == "numbers" and old == "两":
                    continue  # the second text's number is asserted below
                assert new is not None and old not in new[: new.index("昨") if "昨" in new else 3]
                assert all(is_cjk(ch) or ch in "，。" for ch in new), (
                    f"{family} keeps the text Chinese: {new}"
                )
                assert new.endswith(original[-4:]), "the rest of the sentence is untouched"
    days = perturb("numbers", ["李娜去上海出差两天"], 1)[0]
    assert days is not None and days.startswith("李娜去上海出差") and days.endswith("天") and "两" not in days


def test_contractions_are_written_out_or_shortened_and_nothing_else_moves():
    out, short, none = perturb(
        "contractions", ["I don't think it's worth it.", "I am sure it is not good", "ok"]
    )
    assert out == "I do not think it is worth it."
    assert short == "I'm sure it's not good" and none is None
    assert perturb("contractions", [out])[0] == "I don't think it's worth it.", "the two ways undo each other"


def test_script_writes_simplified_as_traditional_and_back():
    simplified, traditional, english = perturb("script", ["这个产品质量很好", "這個產品質量很好", "fine"])
    assert simplified == "這個產品質量很好" and traditional == "这个产品质量很好" and english is None


def test_a_homophone_sounds_the_same_and_one_character_in_ten_moves():
    from pypinyin import Style, pinyin

    table = _homophones()
    assert len(table) > 100  # real readings and frequencies, not a handful written here
    texts = ["这个产品质量很好，物流也很快，下次还会再买。", "服务态度差"]
    for seed in range(10):
        for original, changed in zip(texts, perturb("homophones", texts, seed), strict=True):
            assert changed is not None and len(changed) == len(original)
            moved = [(a, b) for a, b in zip(original, changed, strict=True) if a != b]
            chinese = sum(is_cjk(ch) for ch in original)
            assert 1 <= len(moved) <= max(1, round(chinese / 10)), moved
            for a, b in moved:
                assert pinyin(a, style=Style.TONE) == pinyin(b, style=Style.TONE), (a, b)
    assert perturb("homophones", ["no Chinese at all"]) == [None]
    assert re.fullmatch(r"[\u4e00-\u9fff]+", "".join(table.values()))


def test_a_neutral_opening_or_ending_only_adds_around_the_text_and_chinese_gets_chinese_ones():
    from trainer.data.perturb import ENDINGS, ENDINGS_ZH, OPENINGS, OPENINGS_ZH

    def added(original: str, changed: str, separator: str) -> str:
        """What the family added: an opening before `original`, or an ending after it."""
        if changed.endswith(original):
            return changed[: -len(original)]
        assert changed.startswith(original + separator), (original, changed)
        return changed[len(original) + len(separator) :]

    seen = set()
    for seed in range(20):
        english, chinese, empty = perturb("fillers", ["Works well.  ", "质量很好", "   "], seed=seed)
        assert added("Works well.", english, " ") in OPENINGS + ENDINGS
        assert added("质量很好", chinese, "") in OPENINGS_ZH + ENDINGS_ZH
        assert empty is None
        seen.add(english.startswith("Works"))
    assert seen == {True, False}, "both an opening and an ending are tried"
