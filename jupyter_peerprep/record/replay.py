"""Replaying a room's notebook from its record: the cells at any moment, who wrote each
character, the pastes, and the steps a browser needs to play it back.

The record's updates are applied one by one to a fresh pycrdt document shaped like
jupyter-collaboration's notebook (``cells``: an array of maps whose ``source`` is a text).
Each update's changes come back as deltas (insert/delete/retain); every inserted character is
credited to the update's author, so concurrent typing in one cell is attributed exactly as the
CRDT merged it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pycrdt

from .codec import Entry

NOTEBOOK_DOC_PREFIX = "json:notebook:"
# Who wrote text that was there before anyone connected: the question as it started.
QUESTION = ""


@dataclass
class Cell:
    cell_type: str
    source: str
    authors: list[str]


@dataclass(frozen=True)
class Paste:
    """One change that inserted more than the paste threshold at once."""

    at_ms: int
    user: str
    cell: int
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"at_ms": self.at_ms, "user": self.user, "cell": self.cell, "text": self.text}


@dataclass
class NotebookReplay:
    """A notebook rebuilt from record entries (those of one notebook document)."""

    paste_chars: int = 200
    cells: list[Cell] = field(default_factory=list)
    pastes: list[Paste] = field(default_factory=list)
    # Browser replay steps: [ms, user index, cell index or -1, change]; see ``_step``.
    steps: list[list[Any]] = field(default_factory=list)
    users: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._doc: pycrdt.Doc[Any] = pycrdt.Doc()
        self._ycells = self._doc.get("cells", type=pycrdt.Array)
        self._ycells.observe_deep(self._on_events)
        self._entry: Entry | None = None

    def apply(self, entry: Entry) -> None:
        """Apply one recorded update, crediting its changes to ``entry.user``."""
        self._entry = entry
        if entry.user not in self.users:
            self.users.append(entry.user)
        try:
            self._doc.apply_update(entry.update)
        finally:
            self._entry = None
        self._reconcile(entry)

    def sources(self) -> list[str]:
        return [cell.source for cell in self.cells]

    def kept_by_author(self, cell_type: str = "code") -> dict[str, int]:
        """Characters of the current ``cell_type`` cells per author (``""``: the question)."""
        counts: dict[str, int] = {}
        for cell in self.cells:
            if cell.cell_type == cell_type:
                for author in cell.authors:
                    counts[author] = counts.get(author, 0) + 1
        return counts

    # -- applying deltas ---------------------------------------------------------------------

    def _step(self, cell: int, change: Any) -> None:
        assert self._entry is not None
        user = self.users.index(self._entry.user)
        self.steps.append([self._entry.at_ms, user, cell, change])

    def _on_events(self, events: list[Any]) -> None:
        # pycrdt's event classes set their attributes at run time (no stubs for them).
        if self._entry is None:
            return
        # Paths are those after the transaction: apply the cell list's changes first.
        ordered = sorted(events, key=lambda e: len(e.path) != 0)
        for event in ordered:
            path = list(event.path)
            info: Any = event
            if not path and isinstance(event, pycrdt.ArrayEvent):
                self._cells_changed(info.delta)
            elif len(path) == 2 and path[1] == "source" and isinstance(event, pycrdt.TextEvent):
                self._text_changed(int(path[0]), info.delta)
            elif len(path) == 1 and isinstance(event, pycrdt.MapEvent):
                keys = set(info.keys)
                if keys & {"source", "cell_type"}:
                    self._cell_replaced(int(path[0]))

    def _cells_changed(self, delta: list[dict[str, Any]]) -> None:
        assert self._entry is not None
        user = self._entry.user
        index = 0
        for op in delta:
            if "retain" in op:
                index += int(op["retain"])
            elif "delete" in op:
                del self.cells[index : index + int(op["delete"])]
                self._step(-1, {"delete": int(op["delete"]), "at": index})
            elif "insert" in op:
                new = [self._cell_from(ymap, user) for ymap in op["insert"]]
                self.cells[index:index] = new
                self._step(
                    -1,
                    {"insert": [[c.cell_type, c.source] for c in new], "at": index},
                )
                for offset, cell in enumerate(new):
                    if user != QUESTION and len(cell.source) > self.paste_chars:
                        self.pastes.append(
                            Paste(self._entry.at_ms, user, index + offset, cell.source)
                        )
                index += len(new)

    @staticmethod
    def _cell_from(ymap: Any, user: str) -> Cell:
        source = str(ymap.get("source", ""))
        return Cell(str(ymap.get("cell_type", "code")), source, [user] * len(source))

    def _text_changed(self, index: int, delta: list[dict[str, Any]]) -> None:
        assert self._entry is not None
        if index >= len(self.cells):
            return  # _reconcile repairs it
        cell, user = self.cells[index], self._entry.user
        pos = 0
        for op in delta:
            if "retain" in op:
                pos += int(op["retain"])
            elif "delete" in op:
                count = int(op["delete"])
                cell.source = cell.source[:pos] + cell.source[pos + count :]
                del cell.authors[pos : pos + count]
            elif "insert" in op:
                text = str(op["insert"])
                cell.source = cell.source[:pos] + text + cell.source[pos:]
                cell.authors[pos:pos] = [user] * len(text)
                if user != QUESTION and len(text) > self.paste_chars:
                    self.pastes.append(Paste(self._entry.at_ms, user, index, text))
                pos += len(text)
        self._step(index, delta)

    def _cell_replaced(self, index: int) -> None:
        assert self._entry is not None
        if index >= len(self.cells):
            return
        ymap = self._ycells[index]
        fresh = self._cell_from(ymap, self._entry.user)
        self.cells[index] = fresh
        self._step(index, {"set": fresh.source, "type": fresh.cell_type})

    def _reconcile(self, entry: Entry) -> None:
        """Repair the mirror where a change was not understood: keep the authors of the
        characters that stayed, credit new ones to this entry's user."""
        actual = [(str(c.get("cell_type", "code")), str(c.get("source", ""))) for c in self._ycells]
        if [(c.cell_type, c.source) for c in self.cells] == actual:
            return
        repaired = []
        for position, (cell_type, source) in enumerate(actual):
            old = self.cells[position] if position < len(self.cells) else Cell(cell_type, "", [])
            authors = _carry_authors(old.source, old.authors, source, entry.user)
            repaired.append(Cell(cell_type, source, authors))
        self.cells = repaired
        self.steps.append(
            [entry.at_ms, self.users.index(entry.user), -1, {"reset": [list(a) for a in actual]}]
        )


def _carry_authors(old: str, authors: list[str], new: str, user: str) -> list[str]:
    result = [user] * len(new)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for block in matcher.get_matching_blocks():
        result[block.b : block.b + block.size] = authors[block.a : block.a + block.size]
    return result


def notebook_entries(entries: Iterable[Entry]) -> list[Entry]:
    """The entries of the room's notebook document (the first one recorded)."""
    listed = list(entries)
    first = next((e.doc for e in listed if e.doc.startswith(NOTEBOOK_DOC_PREFIX)), None)
    return [e for e in listed if e.doc == first]


def replay(
    entries: Iterable[Entry], *, until_ms: int | None = None, paste_chars: int = 200
) -> NotebookReplay:
    """The notebook replayed from its entries, up to ``until_ms`` (inclusive) if given."""
    result = NotebookReplay(paste_chars=paste_chars)
    for entry in notebook_entries(entries):
        if until_ms is not None and entry.at_ms > until_ms:
            break
        result.apply(entry)
    return result
