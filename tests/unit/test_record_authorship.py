"""The session record's pure parts on recorded Yjs update streams: attribution of every
character (concurrent typing in one cell included), pastes, metrics, run diffs, and the
compact stored form."""

from __future__ import annotations

import pycrdt
import pytest
from jupyter_ydoc import YNotebook

from jupyter_peerprep.record import codec
from jupyter_peerprep.record.codec import Entry
from jupyter_peerprep.record.replay import replay
from jupyter_peerprep.record.summary import RunFact, summarize

DOC = "json:notebook:0b1c"
STARTER = "def solve(xs):\n    pass\n"


class Recorder:
    """Two students' pycrdt documents synced by hand; every update recorded with its author
    (as the pair server does)."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.clock = 1_000_000
        server = pycrdt.Doc()
        YNotebook(server).set(
            {
                "cells": [
                    {"cell_type": "markdown", "source": "# Sum", "metadata": {}, "id": "m"},
                    {
                        "cell_type": "code",
                        "source": STARTER,
                        "metadata": {},
                        "outputs": [],
                        "execution_count": None,
                        "id": "c",
                    },
                ],
                "metadata": {},
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        )
        self.record("", server.get_update())
        self.docs = {}
        for name in ("ada", "bob"):
            doc = pycrdt.Doc()
            doc.apply_update(server.get_update())
            self.docs[name] = doc

    def record(self, user: str, update: bytes, step_ms: int = 1000) -> None:
        self.clock += step_ms
        self.entries.append(Entry(self.clock, user, DOC, update))

    def source(self, user: str, cell: int = 1) -> pycrdt.Text:
        return YNotebook(self.docs[user]).ycells[cell]["source"]

    def edit(self, user: str, change, step_ms: int = 1000) -> None:
        """Make a change in ``user``'s document; send it to the other one and the record."""
        doc = self.docs[user]
        before = doc.get_state()
        change(self.source(user))
        update = doc.get_update(before)
        for other, odoc in self.docs.items():
            if other != user:
                odoc.apply_update(update)
        self.record(user, update, step_ms)

    def concurrent(self, edits: dict[str, str], at: int) -> None:
        """Both insert at ``at`` before either sees the other's change."""
        updates = {}
        for user, text in edits.items():
            doc = self.docs[user]
            before = doc.get_state()
            self.source(user).insert(at, text)
            updates[user] = doc.get_update(before)
        for user, update in updates.items():
            for other, odoc in self.docs.items():
                if other != user:
                    odoc.apply_update(update)
            self.record(user, update, 10)


def authors_of(notebook, cell: int = 1) -> str:
    """Each character's author initial ("." for the question's own text)."""
    return "".join(a[:1] or "." for a in notebook.cells[cell].authors)


def test_each_character_is_credited_to_who_typed_it():
    rec = Recorder()
    rec.edit("ada", lambda s: s.insert(len(s), "# ada\n"))
    rec.edit("bob", lambda s: s.insert(0, "import x\n"))
    rec.edit("ada", lambda s: s.__delitem__(slice(9, 13)))  # "def " of the starter
    notebook = replay(rec.entries)
    expected = str(rec.source("ada"))
    assert notebook.sources()[1] == expected == str(rec.source("bob"))
    assert authors_of(notebook) == "b" * 9 + "." * (len(STARTER) - 4) + "a" * 6
    assert notebook.kept_by_author() == {"bob": 9, "": len(STARTER) - 4, "ada": 6}


def test_concurrent_typing_in_one_cell_keeps_both_authors():
    rec = Recorder()
    rec.concurrent({"ada": "AAAA", "bob": "BBB"}, at=4)
    notebook = replay(rec.entries)
    merged = str(rec.source("ada"))
    assert merged == str(rec.source("bob")) == notebook.sources()[1]
    for index, author in enumerate(notebook.cells[1].authors):
        char = merged[index]
        assert author == {"A": "ada", "B": "bob"}.get(char, ""), (index, char, author)


def test_replay_until_a_moment_shows_the_notebook_as_it_was():
    rec = Recorder()
    rec.edit("ada", lambda s: s.insert(0, "# one\n"))
    moment = rec.clock
    rec.edit("bob", lambda s: s.insert(0, "# two\n"))
    assert replay(rec.entries, until_ms=moment).sources()[1] == "# one\n" + STARTER
    assert replay(rec.entries).sources()[1] == "# two\n# one\n" + STARTER


def test_a_large_insertion_is_flagged_as_a_paste_with_who_when_and_what():
    rec = Recorder()
    pasted = "def solve(xs):\n    return sum(xs)  # from elsewhere\n"
    rec.edit("ada", lambda s: s.insert(0, "x"))
    rec.edit("bob", lambda s: s.insert(0, pasted))
    notebook = replay(rec.entries, paste_chars=40)
    assert [(p.user, p.at_ms, p.cell, p.text) for p in notebook.pastes] == [
        ("bob", rec.clock, 1, pasted)
    ]
    assert replay(rec.entries, paste_chars=len(pasted)).pastes == []


def test_metrics_of_an_attempt():
    rec = Recorder()
    start = rec.clock
    for char in "abc":  # ada types three keys a second apart
        rec.edit("ada", lambda s, c=char: s.insert(len(s), c))
    rec.edit("bob", lambda s: s.insert(0, "#"), step_ms=60_000)  # a minute of silence
    runs = [
        RunFact(rec.clock + 5_000, "ada", "run", 1, 2, "v1\n"),
        RunFact(rec.clock + 9_000, "bob", "submit", 3, 3, "v2\n"),
    ]
    end = rec.clock + 10_000
    summary = summarize(rec.entries, runs, start_ms=start, end_ms=end, members=["ada", "bob"])
    m = summary["metrics"]
    assert m["students"]["ada"]["active_typing_s"] == 2.0
    assert m["students"]["ada"]["chars_kept"] == 3
    assert m["students"]["bob"]["chars_kept"] == 1
    assert m["students"]["ada"]["share"] == 0.75
    assert m["longest_idle_s"] == 60.0
    assert (m["first_run_s"], m["first_pass_s"], m["runs"], m["submits"]) == (68.0, 72.0, 1, 1)
    assert summary["diffs"][0]["diff"][-2:] == ["-v1", "+v2"]


def test_the_stored_form_round_trips_and_is_compact():
    rec = Recorder()
    for n in range(50):
        rec.edit("ada" if n % 2 else "bob", lambda s: s.insert(len(s), "x"), step_ms=200)
    stored = codec.encode(rec.entries)
    assert codec.decode(stored) == rec.entries
    assert len(stored) < sum(len(e.update) for e in rec.entries) + 8 * len(rec.entries)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "must be a JSON object"),
        ({"entries": []}, '"batch"'),
        ({"batch": "b1", "entries": [[1, "a", "d"]]}, "entries[0]"),
        ({"batch": "b1", "entries": [[1, "a", "d", "%%%"]]}, "not base64"),
        ({"batch": "b1", "entries": [], "snapshot": {"x": 1}}, '"snapshot"'),
    ],
)
def test_a_malformed_batch_is_refused_with_a_message_naming_the_field(body, message):
    with pytest.raises(codec.BatchError, match=message.replace("[", r"\[")):
        codec.parse_batch(body)
