"""A labelling project's store: people label a pile of texts a few rows at a time, never the same row twice,
with held-out rows mixed in to measure the model, and the labels come out as a file prepare reads."""

from __future__ import annotations

import stat
import threading

import pytest

from trainer.apply import label_project as lp
from trainer.data import DataError
from trainer.prepare import prepare

TEXTS = [f"review number {i} of the shop" for i in range(60)]
SENTENCES = [
    ["Anna", "lives", "in", "Oslo"],
    ["Bo", "Li", "met", "Anna"],
    ["It", "rains"],
    ["Paris", "is", "big"],
]


def text_project(tmp_path, **options):
    return lp.create(tmp_path, "Reviews", "text", ["good", "bad"], TEXTS, "ann", **options)


def token_project(tmp_path, **options):
    return lp.create(tmp_path, "People", "token", ["PER", "LOC"], SENTENCES, "ann", **options)


def test_a_project_is_created_and_opened_again_with_its_settings(tmp_path):
    made = text_project(tmp_path, given=["good", None, "bad", *[None] * 57])
    again = lp.Project.open(tmp_path, "Reviews")
    assert again.settings == made.settings
    assert (again.settings.name, again.settings.task, again.settings.labels) == (
        "Reviews",
        "text",
        ["good", "bad"],
    )
    assert again.settings.owner == "ann" and again.settings.created > 0
    counts = again.counts()
    assert (counts["rows"], counts["labelled"], counts["left"]) == (60, 2, 58)
    assert counts["per_label"] == {"good": 1, "bad": 1}
    assert counts["heldout_rows"] == 12  # a fifth held out
    assert again.label_of(0) == ("good", "ann") and again.label_of(1) is None
    assert [s.name for s in lp.list_projects(tmp_path)] == ["Reviews"]
    assert lp.list_projects(tmp_path, owner="bob") == []


def test_the_project_files_are_private(tmp_path):
    text_project(tmp_path)
    folder = lp.projects_dir(tmp_path)
    assert folder == tmp_path / ".projects"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())


def test_texts_given_twice_or_empty_are_stored_once_or_not_at_all(tmp_path):
    project = lp.create(
        tmp_path,
        "p",
        "text",
        ["a", "b"],
        ["x", "y", "x", "  ", None, "z"],
        "ann",
        given=[None, float("nan"), "b", "", None, None],
    )
    assert project.counts()["rows"] == 3
    assert project.label_of(0) == ("b", "ann")  # the copy's label is the text's; empty cells are no label


@pytest.mark.parametrize(
    ("change", "gist"),
    [
        ({"name": ""}, "name"),
        ({"name": "?!"}, "name"),
        ({"texts": ["", "  ", None]}, "text"),
        ({"labels": ["good"]}, "at least two labels"),
        ({"labels": ["good", "bad", "good"]}, "good is given twice"),
        ({"labels": ["good", " "]}, "empty"),
        ({"task": "image"}, "text or token"),
        ({"given": ["great", *[None] * 59]}, "'great' is not a label"),
        ({"given": ["good"]}, "one label (or none) per text"),
        ({"heldout_fraction": 1.5}, "held-out share"),
    ],
)
def test_bad_input_is_refused_with_one_sentence(tmp_path, change, gist):
    args = {"name": "Reviews", "task": "text", "labels": ["good", "bad"], "texts": TEXTS, "owner": "ann"}
    with pytest.raises(DataError) as caught:
        lp.create(tmp_path, **(args | change))
    assert gist in str(caught.value)
    assert not lp.list_projects(tmp_path)


def test_a_name_taken_and_a_project_not_there_are_refused(tmp_path):
    text_project(tmp_path)
    with pytest.raises(DataError, match="already a project called Reviews"):
        text_project(tmp_path)
    with pytest.raises(DataError, match="no project called Other"):
        lp.Project.open(tmp_path, "Other")


def test_labels_and_held_rows_survive_a_refresh(tmp_path):
    project = text_project(tmp_path)
    first = project.claim("ann", [], n=4)
    project.save("ann", first[0].id, "bad")
    fresh = lp.Project.open(tmp_path, "Reviews")  # the page reloaded
    assert fresh.label_of(first[0].id) == ("bad", "ann")
    again = fresh.claim("ann", [], n=5)
    assert [r.id for r in again[:3]] == [r.id for r in first[1:]]  # the rows held come first, in order
    assert again[0].text == TEXTS[again[0].id]
    assert [r.id for r in fresh.claim("ann", [], n=5)] == [r.id for r in again]


def test_two_people_at_once_never_get_the_same_row(tmp_path):
    text_project(tmp_path)
    got: dict[str, list[int]] = {"ann": [], "bob": []}

    def take(user):
        project = lp.Project.open(tmp_path, "Reviews")
        ranked = [i for i, _ in project.pool()]
        for _ in range(6):
            rows = project.claim(user, ranked, n=2)
            got[user] += [r.id for r in rows]
            for row in rows:
                project.save(user, row.id, "good")

    threads = [threading.Thread(target=take, args=(user,)) for user in got]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got["ann"]) == len(got["bob"]) == 12
    assert not set(got["ann"]) & set(got["bob"])
    assert lp.Project.open(tmp_path, "Reviews").counts()["labelled"] == 24


def test_nobody_overwrites_another_persons_label_but_their_own(tmp_path):
    project = text_project(tmp_path)
    row = project.claim("ann", [], n=1)[0]
    project.save("ann", row.id, "good")
    with pytest.raises(DataError, match="ann labelled this row already"):
        project.save("bob", row.id, "bad")
    assert project.label_of(row.id) == ("good", "ann")
    project.save("ann", row.id, "bad")
    assert project.label_of(row.id) == ("bad", "ann")
    with pytest.raises(DataError, match="'meh' is not a label"):
        project.save("ann", row.id, "meh")
    with pytest.raises(DataError, match="no row 999"):
        project.save("ann", 999, "good")


def test_one_row_in_every_five_is_held_out_and_the_ranked_order_is_kept(tmp_path):
    project = text_project(tmp_path)
    ranked = [i for i, _ in project.pool()][::-1]
    rows = project.claim("ann", [*ranked[:2], 999, *ranked[2:]], n=20)
    train = [r.id for r in rows if not r.heldout]
    assert sum(r.heldout for r in rows) == 4  # 1 in 5
    assert [r.heldout for r in rows[:5]] == [False] * 4 + [True]
    assert train == ranked[:16]  # best first, unknown ids passed over
    more = project.claim("bob", [], n=5)  # the share holds across people and calls
    assert sum(r.heldout for r in more) == 1
    assert not {r.id for r in more} & {r.id for r in rows}


def test_held_out_ids_in_the_ranking_are_passed_over(tmp_path):
    project = text_project(tmp_path)
    held = [r.id for r in project.claim("x", [], n=60) if r.heldout]
    project.release("x")
    rows = project.claim("ann", held, n=4, heldout_every=0)
    assert not any(r.heldout for r in rows) and not {r.id for r in rows} & set(held)


def test_a_skipped_row_is_not_offered_again_to_that_person_but_to_others(tmp_path):
    project = text_project(tmp_path)
    ranked = [i for i, _ in project.pool()]
    first = project.claim("ann", ranked, n=1, heldout_every=0)[0]
    project.skip("ann", first.id)
    assert first.id not in [r.id for r in project.claim("ann", ranked, n=3, heldout_every=0)]
    project.release("ann")
    assert project.claim("bob", ranked, n=1, heldout_every=0)[0].id == first.id


def test_an_expired_claim_goes_to_someone_else(tmp_path):
    project = text_project(tmp_path)
    ranked = [i for i, _ in project.pool()]
    project.clock = lambda: 1000.0
    ann = [r.id for r in project.claim("ann", ranked, n=3, heldout_every=0)]
    project.clock = lambda: 1000.0 + 5 * 60
    assert not {r.id for r in project.claim("bob", ranked, n=3, heldout_every=0)} & set(ann)
    project.release("bob")
    project.clock = lambda: 1000.0 + 16 * 60
    assert [r.id for r in project.claim("bob", ranked, n=3, heldout_every=0)] == ann


def test_signing_out_frees_the_rows(tmp_path):
    project = text_project(tmp_path)
    ranked = [i for i, _ in project.pool()]
    ann = [r.id for r in project.claim("ann", ranked, n=3, heldout_every=0)]
    project.release("ann")
    assert [r.id for r in project.claim("bob", ranked, n=3, heldout_every=0)] == ann


def test_counts_pool_and_rounds(tmp_path):
    project = text_project(tmp_path)
    rows = project.claim("ann", [], n=10)
    for row in rows:
        project.save("ann", row.id, "good" if row.id % 2 else "bad")
    counts = project.counts()
    assert counts["labelled"] == 10 and counts["left"] == 50
    assert counts["heldout_labelled"] == sum(r.heldout for r in rows) == 2
    assert counts["train_labelled"] == 8
    pool = dict(project.pool())
    assert len(pool) == 48 - 8 and not {r.id for r in rows} & set(pool)
    project.add_round("run-1", 10, {"f1": 0.5, "forecast": [0.6, 0.7]}, started=1.0)
    project.add_round("run-1", 10, finished=2.0)
    project.add_round("run-2", 20, started=3.0)
    assert project.rounds() == [
        {
            "run": "run-1",
            "labels": 10,
            "started": 1.0,
            "finished": 2.0,
            "points": {"f1": 0.5, "forecast": [0.6, 0.7]},
        },
        {"run": "run-2", "labels": 20, "started": 3.0, "finished": None, "points": None},
    ]


def test_the_labelled_file_is_what_prepare_reads_with_its_split(tmp_path):
    project = text_project(tmp_path, heldout_fraction=0.3)
    for row in project.claim("ann", [], n=40):
        project.save("ann", row.id, "good" if row.id % 2 else "bad")
    frame = project.labelled_frame()
    assert list(frame.columns) == ["text", "label", "split", "user", "at"]
    path = tmp_path / "labelled.csv"
    frame.to_csv(path, index=False)
    data = prepare(str(path), task="text")
    assert data.report.split_sizes["train"] == (frame["split"] == "train").sum()
    assert data.report.split_sizes["test"] == (frame["split"] == "test").sum() > 0
    assert sorted(data.labels) == ["bad", "good"]


def test_token_tags_are_checked_word_by_word(tmp_path):
    project = token_project(tmp_path, heldout_fraction=0.0)
    rows = {r.id: r for r in project.claim("ann", [], n=4)}
    assert rows[0].text == ["Anna", "lives", "in", "Oslo"]
    for tags, gist in [
        (["B-PER", "O", "O"], "4 words but 3 tags"),
        (["B-PER", "O", "O", "B-ORG"], "B-ORG is not a tag"),
        (["B-PER", "O", "O", "I-LOC"], "start the entity with B-LOC"),
        (["B-PER", "O", "O", "X"], "X is not a tag"),
    ]:
        with pytest.raises(DataError, match=gist):
            project.save("ann", 0, tags)
    project.save("ann", 0, ["B-PER", "O", "O", "B-LOC"])
    project.save("ann", 1, "B-PER I-PER O B-PER")
    assert project.label_of(1) == (["B-PER", "I-PER", "O", "B-PER"], "ann")
    assert project.counts()["per_label"] == {"PER": 3, "LOC": 1}


def test_token_projects_refuse_bad_sentences_and_types(tmp_path):
    with pytest.raises(DataError, match="holds a space"):
        lp.create(tmp_path, "p", "token", ["PER"], [["New York", "is"]], "ann")
    with pytest.raises(DataError, match="cannot be an entity type"):
        lp.create(tmp_path, "p", "token", ["PER", "O"], SENTENCES, "ann")
    with pytest.raises(DataError, match="B-ORG is not a tag"):
        lp.create(tmp_path, "p", "token", ["PER"], SENTENCES, "ann", given=["O O O B-ORG", None, None, None])
    assert lp.create(tmp_path, "p", "token", ["PER"], SENTENCES, "ann").settings.labels == ["PER"]


def test_a_token_project_labels_come_out_as_prepare_reads_them(tmp_path):
    sentences = [[f"w{i}", "Anna", "met", "Bo", "in", "Oslo"] for i in range(20)]
    project = lp.create(tmp_path, "People", "token", ["PER", "LOC"], sentences, "ann", heldout_fraction=0.25)
    for row in project.claim("ann", [], n=20):
        project.save("ann", row.id, ["O", "B-PER", "O", "B-PER", "O", "B-LOC"])
    frame = project.labelled_frame()
    assert (
        frame.loc[0, "text"] == "w0 Anna met Bo in Oslo"
        and frame.loc[0, "label"] == "O B-PER O B-PER O B-LOC"
    )
    path = tmp_path / "labelled.csv"
    frame.to_csv(path, index=False)
    data = prepare(str(path), task="token")
    assert data.report.split_sizes["train"] == 15 and data.report.split_sizes["test"] == 5
    assert {"B-PER", "B-LOC", "O"} <= set(data.labels)
