"""The record's two forms: the batch a pair server sends, and the compact bytes stored.

An *entry* is one Yjs update of one document of a room, with the hub user whose connection
sent it (``""``: the document as the server loaded it) and when (ms since the epoch).

Stored form (``encode``/``decode``): zlib of a small JSON header (the user and document
names) and, per entry, varints (time since the previous entry, user index, document index,
update length) followed by the update's bytes. A keystroke costs its update plus ~5 bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass
from typing import Any

MAGIC = b"PPR1"


@dataclass(frozen=True)
class Entry:
    """One recorded Yjs update."""

    at_ms: int
    user: str
    doc: str
    update: bytes


class BatchError(ValueError):
    """A batch from a pair server is malformed; the message names what is wrong."""


def _varint(value: int, out: bytearray) -> None:
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("record data ends inside a number")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def encode(entries: list[Entry]) -> bytes:
    """The compact stored form of ``entries`` (in time order)."""
    users: dict[str, int] = {}
    docs: dict[str, int] = {}
    body = bytearray()
    start = entries[0].at_ms if entries else 0
    previous = start
    for entry in entries:
        user = users.setdefault(entry.user, len(users))
        doc = docs.setdefault(entry.doc, len(docs))
        _varint(max(0, entry.at_ms - previous), body)
        previous = max(previous, entry.at_ms)
        _varint(user, body)
        _varint(doc, body)
        _varint(len(entry.update), body)
        body += entry.update
    header = json.dumps({"start": start, "users": list(users), "docs": list(docs)}).encode()
    out = bytearray()
    _varint(len(header), out)
    return MAGIC + zlib.compress(bytes(out) + header + bytes(body), 6)


def decode(data: bytes) -> list[Entry]:
    """The entries ``encode`` stored."""
    if not data.startswith(MAGIC):
        raise ValueError("not PeerPrep record data")
    raw = zlib.decompress(data[len(MAGIC) :])
    size, pos = _read_varint(raw, 0)
    header = json.loads(raw[pos : pos + size])
    pos += size
    users, docs = header["users"], header["docs"]
    at = int(header["start"])
    entries = []
    while pos < len(raw):
        delta, pos = _read_varint(raw, pos)
        user, pos = _read_varint(raw, pos)
        doc, pos = _read_varint(raw, pos)
        length, pos = _read_varint(raw, pos)
        at += delta
        entries.append(Entry(at, users[user], docs[doc], raw[pos : pos + length]))
        pos += length
    return entries


def batch_json(batch_id: str, entries: list[Entry], snapshot: Any = None) -> dict[str, Any]:
    """What a pair server POSTs: entries as ``[ms, user, doc, base64 update]``."""
    return {
        "batch": batch_id,
        "entries": [[e.at_ms, e.user, e.doc, base64.b64encode(e.update).decode()] for e in entries],
        "snapshot": snapshot,
    }


def parse_batch(body: Any) -> tuple[str, list[Entry], dict[str, Any] | None]:
    """(batch id, entries, notebook snapshot or None) of a POSTed batch, or BatchError."""
    if not isinstance(body, dict):
        raise BatchError("A record batch must be a JSON object.")
    batch_id = body.get("batch")
    if not isinstance(batch_id, str) or not 0 < len(batch_id) <= 64:
        raise BatchError('"batch" must be a string of 1 to 64 characters.')
    raw = body.get("entries")
    if not isinstance(raw, list):
        raise BatchError('"entries" must be a list of [ms, user, doc, base64 update].')
    entries = []
    for index, item in enumerate(raw):
        if not (
            isinstance(item, list)
            and len(item) == 4
            and isinstance(item[0], int)
            and all(isinstance(x, str) for x in item[1:])
        ):
            raise BatchError(f"entries[{index}] must be [ms, user, doc, base64 update].")
        try:
            update = base64.b64decode(item[3], validate=True)
        except binascii.Error:
            raise BatchError(f"entries[{index}]: the update is not base64.") from None
        entries.append(Entry(item[0], item[1], item[2], update))
    snapshot = body.get("snapshot")
    if snapshot is not None and not (
        isinstance(snapshot, dict) and isinstance(snapshot.get("cells"), list)
    ):
        raise BatchError('"snapshot" must be a notebook (an object with "cells") or null.')
    return batch_id, entries, snapshot
