"""The languages: every message id in the code has its Chinese, translations keep their placeholders,
and numbers, dates and plurals follow the language."""

from __future__ import annotations

import datetime as dt

from tools import i18n_catalogue as messages
from trainer import i18n
from trainer.i18n import tr, trn


def test_every_message_in_the_code_has_its_chinese():
    lacking = messages.missing("zh")
    shown = "\n".join(f"{key!r} ({', '.join(where[:2])})" for key, where in list(lacking.items())[:30])
    assert lacking == {}, (
        f"{len(lacking)} messages have no Chinese; run python -m tools.i18n_catalogue:\n{shown}"
    )


def test_every_message_is_a_literal_the_catalogue_can_hold():
    assert messages.not_literal() == []


def test_the_code_has_many_messages_and_finds_them_in_pages_and_trainer():
    ids = messages.message_ids()
    where = {place.split("/")[0].split(":")[0] for places in ids.values() for place in places}
    assert len(ids) > 300
    assert {"app.py", "insight_ui", "trainer"} <= where


def test_a_translation_keeps_every_placeholder_and_adds_none():
    wrong = {
        key: text
        for key, text in i18n.catalogue("zh").items()
        for one in ([text] if isinstance(text, str) else text)
        if i18n.placeholders(one) != i18n.placeholders(key)
    }
    assert wrong == {}


def test_chinese_is_chinese_and_english_is_the_id():
    with i18n.speaking("zh-CN"):
        assert tr("Train") == "训练"
        assert tr("{name}: {status}, {share}", name="a", status="b", share="c") == "a：b，c"
    assert tr("Train") == "Train"


def test_values_are_never_read_as_templates_and_unknown_ids_stay_english():
    assert tr("{name}: {status}, {share}", name="{status}", status="s", share="x") == "{status}: s, x"
    with i18n.speaking("zh"):
        assert tr("An id nobody translated {x}", x=1) == "An id nobody translated 1"


def test_plurals_in_english_and_one_form_in_chinese():
    assert trn("{n} row", "{n} rows", 1) == "1 row"
    assert trn("{n} row", "{n} rows", 3) == "3 rows"


def test_the_browser_language_is_read_as_one_we_speak():
    assert i18n.normalize("zh-CN") == i18n.normalize("zh_Hans_CN") == i18n.normalize("zh-TW") == "zh"
    assert i18n.normalize("en-GB") == "en"
    assert i18n.normalize("fr-FR") is None
    assert i18n.normalize(None) is None


def test_numbers_and_dates_are_written_for_the_language():
    day = dt.date(2026, 12, 2)
    assert i18n.date(day) == "Dec 2, 2026"
    assert i18n.number(12345.678, 1) == "12,345.7"
    assert i18n.percent(0.256, 1) == "25.6%"
    with i18n.speaking("zh"):
        assert i18n.date(day) == "2026年12月2日"
        assert i18n.date(dt.datetime(2026, 12, 2, 13, 5), with_time=True).startswith("2026年12月2日 13:05")


def test_a_resolver_speaks_where_the_context_has_no_language(monkeypatch):
    # only this test's resolver, in a context with no language set: the app's resolver (imported by earlier
    # tests) reads Streamlit's bare session state, and a page function run outside AppTest sets the language
    # of the test process's own context
    import contextvars

    monkeypatch.setattr(i18n, "_resolvers", [])
    i18n.add_resolver(lambda: _asked.get("lang"))

    def speak() -> list[str]:
        _asked["lang"] = "zh"
        try:
            said = [i18n.language()]
            with i18n.speaking("en"):
                said.append(i18n.language())
        finally:
            _asked["lang"] = None
        return [*said, i18n.language()]

    assert contextvars.Context().run(speak) == ["zh", "en", "en"]


_asked: dict[str, str | None] = {"lang": None}


def test_a_message_in_two_catalogues_has_one_chinese():
    """Areas share short ids ("Go to Train"); the first file read would win, so they must agree."""
    from babel.messages.pofile import read_po

    seen: dict[str, str] = {}
    differ = []
    for path in sorted(i18n.CATALOGUES["zh"].glob("*.po")):
        with path.open("rb") as fh:
            for message in read_po(fh):
                key = message.id[0] if isinstance(message.id, tuple) else message.id
                text = message.string[0] if isinstance(message.string, tuple | list) else message.string
                if key and seen.setdefault(key, text) != text:
                    differ.append((key, seen[key], text, path.name))
    assert differ == []
