"""A labelling project: a pile of unlabelled texts (or sentences whose words get entity tags) that people
label in rounds, a few rows at a time, and a model trained on the labels after each round. This module is
the project's store: one DuckDB file per project under the runs folder's `.projects` folder, and every
query and write on it.

Decisions a caller relies on:
- Every connection is taken under the project's file lock and every write is one transaction, so two
  people asking for rows at once never receive the same row, and a saved label is on disk at once (a
  refresh of the page loses nothing).
- A random share of the rows (`heldout_fraction`, seeded) is held out: their labels measure the model (an
  unbiased sample, never ranked by the model), the others train it. `claim` mixes one held-out row into
  every `heldout_every` rows it hands out, so the held-out labels grow with the training labels.
- A claim lasts `minutes`; then the row is offered to others. A row labelled by one person cannot be
  relabelled by another (the labeller may change their own label).
- The project's folder is private to the service's user (0700) and so is every file of it (0600): a
  project holds every text it was given.
"""

from __future__ import annotations

import json
import re
import time
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trainer.data.errors import DataError
from trainer.files.duckdb_file import LockedDuckDB
from trainer.i18n import tr

TASKS = ("text", "token")
UNSAFE = re.compile(r"[^\w.-]+")  # what a project name loses in its file name
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS settings (key VARCHAR PRIMARY KEY, value VARCHAR)",
    # body: the text, or the sentence's words as a JSON list
    "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, body VARCHAR, heldout BOOLEAN)",
    # label: the label name, or the tags as a JSON list
    "CREATE TABLE IF NOT EXISTS labels (item INTEGER PRIMARY KEY, label VARCHAR, username VARCHAR, stamp DOUBLE)",
    "CREATE TABLE IF NOT EXISTS claims (item INTEGER PRIMARY KEY, username VARCHAR, stamp DOUBLE, position INTEGER)",
    "CREATE TABLE IF NOT EXISTS skips (item INTEGER, username VARCHAR, stamp DOUBLE, PRIMARY KEY (item, username))",
    "CREATE TABLE IF NOT EXISTS rounds (run VARCHAR PRIMARY KEY, labels INTEGER, started DOUBLE, "
    "finished DOUBLE, points VARCHAR)",
)
# the rows a claim may hand out: not labelled, not held by anyone since the cutoff, not skipped by the user
FREE = (
    "SELECT id, heldout FROM items WHERE id NOT IN (SELECT item FROM labels) "
    "AND id NOT IN (SELECT item FROM claims WHERE stamp > ?) "
    "AND id NOT IN (SELECT item FROM skips WHERE username = ?) ORDER BY id"
)


def projects_dir(runs_dir: Path) -> Path:
    """Where the runs folder keeps its labelling projects, one DuckDB file each."""
    return Path(runs_dir) / ".projects"


def file_stem(name: str) -> str:
    """A project name as its file's name: letters of any script, digits, '.', '_' and '-' ('' if none)."""
    return UNSAFE.sub("-", str(name).strip()).strip("-._")[:60]


@dataclass
class Settings:
    name: str
    task: str  # "text" or "token"
    labels: list[str]  # the label names (text) or the entity types (token: tags O, B-X, I-X)
    owner: str
    created: float
    heldout_fraction: float = 0.2
    seed: int = 0
    model: str = "default"  # the backbone each round fine-tunes


@dataclass
class Row:
    id: int
    text: str | list[str]  # the text, or the sentence's words
    heldout: bool  # its label measures the model rather than training it


class Store(LockedDuckDB):
    """One project's DuckDB file, opened under its lock (trainer.files.duckdb_file)."""

    schema = SCHEMA


# checking what people give


def check_labels(task: str, labels: Sequence[str]) -> list[str]:
    """The project's labels (trimmed), or DataError: too few, one empty, one twice, a type with a space."""
    if task not in TASKS:
        raise DataError(tr("A project's task is text or token, not {task}.", task=repr(task)))
    labels = [str(label).strip() for label in labels]
    if any(not label for label in labels):
        raise DataError(tr("A label is empty: give every label a name."))
    twice = [label for i, label in enumerate(labels) if label in labels[:i]]
    if twice:
        raise DataError(tr("The label {label} is given twice: give each label once.", label=twice[0]))
    if task == "text" and len(labels) < 2:
        raise DataError(tr("A text project needs at least two labels."))
    if task == "token" and not labels:
        raise DataError(tr("A token project needs at least one entity type."))
    if task == "token" and (spaced := [x for x in labels if len(x.split()) > 1 or x == "O"]):
        raise DataError(tr("{label} cannot be an entity type: use a name without spaces other than O.",
                           label=spaced[0]))  # fmt: skip
    return labels


def check_tags(tags: str | Sequence[str], words: Sequence[str], types: Sequence[str]) -> list[str]:
    """A sentence's BIO tags (a list, or a string of tags separated by spaces), or DataError."""
    tags = tags.split() if isinstance(tags, str) else [str(t).strip() for t in tags]
    if len(tags) != len(words):
        raise DataError(tr("Give one tag per word: this sentence has {words} words but {tags} tags.",
                           words=len(words), tags=len(tags)))  # fmt: skip
    before = "O"
    for position, tag in enumerate(tags, start=1):
        prefix, _, kind = tag.partition("-")
        if tag != "O" and (prefix not in ("B", "I") or kind not in types):
            raise DataError(tr("{tag} is not a tag of this project: use O, or B- or I- followed by one of {types}.",
                               tag=tag, types=", ".join(types)))  # fmt: skip
        if prefix == "I" and before not in (f"B-{kind}", f"I-{kind}"):
            raise DataError(tr("The tag {tag} of word {position} does not continue an entity of its type: "
                               "start the entity with B-{type}.", tag=tag, position=position, type=kind))  # fmt: skip
        before = tag
    return tags


def check_label(task: str, labels: Sequence[str], label: Any, words: Sequence[str] = ()) -> str:
    """A label as stored (a label name, or the tags as a JSON list), or DataError naming what is wrong."""
    if task == "token":
        return json.dumps(check_tags(label, words, labels))
    if str(label).strip() not in labels:
        raise DataError(tr("{label} is not a label of this project; its labels are {labels}.",
                           label=repr(label), labels=", ".join(labels)))  # fmt: skip
    return str(label).strip()


def _blank(value: Any) -> bool:
    """None, NaN (an empty cell of a table) or a string of spaces."""
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""


def _body(task: str, text: Any, row: int) -> str | None:
    """A row as stored (the text, or the words as a JSON list); None for a row without text."""
    if task == "text":
        return None if _blank(text) else str(text).strip()
    words = text.split() if isinstance(text, str) else [str(w) for w in text or ()]
    if any(not w.strip() or len(w.split()) > 1 for w in words):
        raise DataError(tr("Sentence {row} has a word that is empty or holds a space: give each sentence as a "
                           "list of words without spaces.", row=row + 1))  # fmt: skip
    return json.dumps(words, ensure_ascii=False) if words else None


def _rows(task: str, labels: list[str], texts: Sequence, given: Sequence | None) -> dict[str, str | None]:
    """Each distinct row with text once, in order -> its given label as stored (the first one given)."""
    if given is not None and len(given) != len(texts):
        raise DataError(tr("There are {given} given labels for {texts} texts: give one label (or none) per text.",
                           given=len(given), texts=len(texts)))  # fmt: skip
    rows: dict[str, str | None] = {}
    for i, text in enumerate(texts):
        body = _body(task, text, i)
        if body is None:
            continue
        label = None if given is None or _blank(given[i]) else given[i]
        if label is not None:
            label = check_label(task, labels, label, json.loads(body) if task == "token" else ())
        if rows.get(body) is None:
            rows[body] = label
    if not rows:
        raise DataError(tr("None of the rows has any text: give the texts to label."))
    return rows


# creating, opening, listing


def _path(runs_dir: Path, name: str) -> Path:
    stem = file_stem(name) if isinstance(name, str) else ""
    if not stem:
        raise DataError(tr("Give the project a name with at least one letter or digit."))
    return projects_dir(runs_dir) / f"{stem}.duckdb"


def create(runs_dir: Path, name: str, task: str, labels: Sequence[str], texts: Sequence, owner: str,
           heldout_fraction: float = 0.2, seed: int = 0, given: Sequence | None = None,
           model: str = "default") -> Project:  # fmt: skip
    """A new project: `texts` (strings, or word lists for token) stored once each, a seeded random
    `heldout_fraction` of them held out; `given` labels (aligned with texts, None where none) stored as
    the owner's. Raises DataError with one sentence on what is wrong."""
    path = _path(runs_dir, name)
    labels = check_labels(task, labels)
    if not 0 <= float(heldout_fraction) < 1:
        raise DataError(tr("The held-out share must be at least 0 and below 1, not {fraction}.",
                           fraction=heldout_fraction))  # fmt: skip
    rows = _rows(task, labels, texts, given)
    held = np.zeros(len(rows), dtype=bool)
    held[np.random.default_rng(seed).permutation(len(rows))[: round(heldout_fraction * len(rows))]] = True
    settings = Settings(
        name.strip(), task, labels, owner, time.time(), float(heldout_fraction), int(seed), model
    )
    frame = pd.DataFrame(
        {"id": range(len(rows)), "body": list(rows), "heldout": held, "label": list(rows.values())}
    )
    with Store(path).transaction() as con:  # the name is checked under the lock: two asking at once get one
        if con.execute("SELECT 1 FROM settings WHERE key = 'project'").fetchone():
            raise DataError(tr("There is already a project called {name}.", name=name))
        con.execute("INSERT INTO settings VALUES ('project', ?)", [json.dumps(asdict(settings))])
        con.register("fresh", frame)
        con.execute("INSERT INTO items SELECT id, body, heldout FROM fresh")
        con.execute(
            "INSERT INTO labels SELECT id, label, ?, ? FROM fresh WHERE label IS NOT NULL",
            [owner, time.time()],
        )
    return Project(runs_dir, name)


def list_projects(runs_dir: Path, owner: str | None = None) -> list[Settings]:
    """Every project's settings (only `owner`'s when given), by name."""
    folder = projects_dir(runs_dir)
    found = []
    for path in sorted(folder.glob("*.duckdb")) if folder.is_dir() else []:
        if not path.is_symlink():
            settings = Project(runs_dir, path.stem).settings
            if owner is None or settings.owner == owner:
                found.append(settings)
    return sorted(found, key=lambda s: s.name.lower())


class Project:
    """An existing project: Project(runs_dir, name), or Project.open(runs_dir, name)."""

    def __init__(self, runs_dir: Path, name: str) -> None:
        self.store = Store(_path(runs_dir, name))
        self.clock = time.time  # now: claims expire by it
        if not self.store.path.exists():
            raise DataError(tr("There is no project called {name}.", name=name))
        with self.store.connect() as con:
            (value,) = con.execute("SELECT value FROM settings WHERE key = 'project'").fetchone()
        self.settings = Settings(**json.loads(value))

    @classmethod
    def open(cls, runs_dir: Path, name: str) -> Project:
        return cls(runs_dir, name)

    def _row(self, item: int, body: str, heldout: bool) -> Row:
        return Row(int(item), json.loads(body) if self.settings.task == "token" else body, bool(heldout))

    # handing out rows

    def claim(self, user: str, ranked: Sequence[int] = (), n: int = 10, heldout_every: int = 5,
              minutes: float = 15) -> list[Row]:  # fmt: skip
        """The next up to `n` rows for `user` to label, held for them for `minutes`: the rows they hold
        already first (in the order handed out), then `ranked` (the model's proposals, best first; held-out
        ids in it are passed over) with one held-out row, at random, in every `heldout_every` rows handed out
        in the project (0: none), then the other rows at random. One transaction under the lock: two people
        asking at once never get the same row."""
        if n < 1:
            raise DataError(tr("Ask for at least one row to label."))
        now = self.clock()
        cutoff = now - 60 * float(minutes)
        with self.store.transaction() as con:
            con.execute("DELETE FROM claims WHERE stamp <= ?", [cutoff])
            held = [int(i) for (i,) in con.execute(
                "SELECT item FROM claims WHERE username = ? AND item NOT IN (SELECT item FROM labels) "
                "ORDER BY position", [user]).fetchall()]  # fmt: skip
            want = n - len(held)
            picked = self._pick(con, user, ranked, want, heldout_every, cutoff) if want > 0 else []
            # a refresh renews the rows held
            con.execute("UPDATE claims SET stamp = ? WHERE username = ?", [now, user])
            (position,) = con.execute("SELECT coalesce(max(position), 0) FROM claims").fetchone()
            for k, item in enumerate(picked, start=int(position) + 1):
                con.execute("INSERT INTO claims VALUES (?, ?, ?, ?)", [item, user, now, k])
            ids = (held + picked)[:n]
            found = con.execute(
                "SELECT id, body, heldout FROM items WHERE list_contains(?, id)", [ids]
            ).fetchall()
        bodies = {i: (body, heldout) for i, body, heldout in found}
        return [self._row(i, *bodies[i]) for i in ids]

    def _pick(
        self, con: Any, user: str, ranked: Sequence[int], want: int, every: int, cutoff: float
    ) -> list[int]:
        """`want` free rows: ranked (else random) training rows with held-out rows mixed in (see claim)."""
        free = con.execute(FREE, [cutoff, user]).fetchall()
        (taken, held_out) = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE i.heldout) FROM items i WHERE id IN "
            "(SELECT item FROM labels UNION SELECT item FROM claims)").fetchone()  # fmt: skip
        seed = zlib.crc32(f"{self.settings.seed}:{user}:{taken}".encode())
        rng = np.random.default_rng(seed)
        train = {int(i) for i, h in free if not h}
        first = [i for i in dict.fromkeys(int(r) for r in ranked) if i in train]
        rest = sorted(train - set(first))
        train_order = first + [rest[k] for k in rng.permutation(len(rest))]
        test = [int(i) for i, h in free if h]
        test_order = [test[k] for k in rng.permutation(len(test))]
        picked: list[int] = []
        while len(picked) < want and (train_order or test_order):
            due = every > 0 and held_out < (taken + 1) // every  # one held-out row in every `every` taken
            source = test_order if (due and test_order) or not train_order else train_order
            held_out += source is test_order
            taken += 1
            picked.append(source.pop(0))
        return picked

    def skip(self, user: str, row_id: int) -> None:
        """`user` lets the row go: their claim is dropped and the row is not offered to them again."""
        with self.store.transaction() as con:
            con.execute("DELETE FROM claims WHERE item = ? AND username = ?", [int(row_id), user])
            con.execute(
                "INSERT INTO skips VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [int(row_id), user, self.clock()]
            )

    def release(self, user: str) -> None:
        """Every row `user` holds is free again (they signed out)."""
        with self.store.transaction() as con:
            con.execute("DELETE FROM claims WHERE username = ?", [user])

    # labels

    def save(self, user: str, row_id: int, label: Any) -> None:
        """`user`'s label of the row (text: a label name; token: one tag per word), stored at once and the
        claim released. Refused (DataError) for a label the project does not have, badly formed tags, or a
        row another person labelled."""
        with self.store.transaction() as con:
            found = con.execute("SELECT body FROM items WHERE id = ?", [int(row_id)]).fetchone()
            if found is None:
                raise DataError(tr("There is no row {row} in this project.", row=row_id))
            words = json.loads(found[0]) if self.settings.task == "token" else ()
            stored = check_label(self.settings.task, self.settings.labels, label, words)
            before = con.execute("SELECT username FROM labels WHERE item = ?", [int(row_id)]).fetchone()
            if before is not None and before[0] != user:
                raise DataError(tr("{user} labelled this row already; their label stays.", user=before[0]))
            con.execute("INSERT INTO labels VALUES (?, ?, ?, ?) ON CONFLICT (item) DO UPDATE SET "
                        "label = excluded.label, stamp = excluded.stamp", [int(row_id), stored, user, self.clock()])  # fmt: skip
            con.execute("DELETE FROM claims WHERE item = ?", [int(row_id)])
            con.execute("DELETE FROM skips WHERE item = ? AND username = ?", [int(row_id), user])

    def label_of(self, row_id: int) -> tuple[Any, str] | None:
        """(the row's label, who gave it), or None while it has none."""
        with self.store.connect() as con:
            found = con.execute("SELECT label, username FROM labels WHERE item = ?", [int(row_id)]).fetchone()
        if found is None:
            return None
        return (json.loads(found[0]) if self.settings.task == "token" else found[0]), found[1]

    def counts(self) -> dict[str, Any]:
        """labelled, per_label (token: entities per type), heldout_labelled, train_labelled, left (rows without
        a label), rows (all), heldout_rows."""
        with self.store.connect() as con:
            rows, held = con.execute("SELECT count(*), count(*) FILTER (WHERE heldout) FROM items").fetchone()
            done = con.execute(
                "SELECT l.label, i.heldout FROM labels l JOIN items i ON i.id = l.item"
            ).fetchall()
        per_label = dict.fromkeys(self.settings.labels, 0)
        for label, _ in done:
            if self.settings.task == "token":
                for tag in json.loads(label):
                    if tag.startswith("B-"):
                        per_label[tag[2:]] += 1
            else:
                per_label[label] += 1
        held_done = sum(bool(h) for _, h in done)
        return {"labelled": len(done), "per_label": per_label, "heldout_labelled": held_done,
                "train_labelled": len(done) - held_done, "left": int(rows) - len(done), "rows": int(rows),
                "heldout_rows": int(held)}  # fmt: skip

    def labelled_frame(self) -> pd.DataFrame:
        """The labelled rows as trainer.prepare reads them: text, label, split ("train", or "test" for the
        held-out rows), user, at (UTC); a sentence as its words and its tags, each separated by spaces."""
        with self.store.connect() as con:
            rows = con.execute("SELECT i.body, l.label, i.heldout, l.username, l.stamp FROM labels l "
                               "JOIN items i ON i.id = l.item ORDER BY i.id").fetchall()  # fmt: skip
        token = self.settings.task == "token"
        return pd.DataFrame(
            {
                "text": [" ".join(json.loads(r[0])) if token else r[0] for r in rows],
                "label": [" ".join(json.loads(r[1])) if token else r[1] for r in rows],
                "split": ["test" if r[2] else "train" for r in rows],
                "user": [r[3] for r in rows],
                "at": pd.to_datetime([r[4] for r in rows], unit="s", utc=True),
            }
        )

    def pool(self) -> list[tuple[int, str | list[str]]]:
        """The unlabelled training rows (id, text or words), for the model to rank."""
        with self.store.connect() as con:
            rows = con.execute("SELECT id, body FROM items WHERE NOT heldout AND id NOT IN "
                               "(SELECT item FROM labels) ORDER BY id").fetchall()  # fmt: skip
        return [(r.id, r.text) for r in (self._row(i, b, False) for i, b in rows)]

    # rounds

    def add_round(self, run: str, labels: int, points: Any = None, started: float | None = None,
                  finished: float | None = None) -> None:  # fmt: skip
        """Note the run trained on `labels` labels, with `points` (what was measured and forecast then:
        anything JSON holds). Again for the same run: the labels, and the finish and points when given, change."""
        blob = None if points is None else json.dumps(points)
        with self.store.transaction() as con:
            con.execute("INSERT INTO rounds VALUES (?, ?, ?, ?, ?) ON CONFLICT (run) DO UPDATE SET "
                        "labels = excluded.labels, finished = coalesce(excluded.finished, rounds.finished), "
                        "points = coalesce(excluded.points, rounds.points)",
                        [run, int(labels), started or self.clock(), finished, blob])  # fmt: skip

    def rounds(self) -> list[dict[str, Any]]:
        """The runs trained on the labels, first first: run, labels, started, finished, points."""
        with self.store.connect() as con:
            rows = con.execute(
                "SELECT run, labels, started, finished, points FROM rounds ORDER BY started, run"
            ).fetchall()
        keys = ("run", "labels", "started", "finished", "points")
        return [
            dict(zip(keys, (*r[:4], None if r[4] is None else json.loads(r[4])), strict=True)) for r in rows
        ]
