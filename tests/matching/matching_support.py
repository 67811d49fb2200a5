"""Helpers for the matching tests: a small question bank written straight to the database,

The question-bank API is another feature; these tests only need rows to pick from, so they
insert ``Question`` + ``QuestionVersion`` the way publishing does (current version, not
retired).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker

from jupyter_peerprep import db
from jupyter_peerprep.db.models import Question, QuestionVersion

BANK = [
    ("two-sum", "Two Sum", "easy", ["arrays", "hash-maps"]),
    ("valid-parens", "Valid Parentheses", "easy", ["strings", "stacks-queues"]),
    ("longest-substring", "Longest Substring", "medium", ["strings", "sliding-window"]),
    ("num-islands", "Number of Islands", "medium", ["graphs", "matrix"]),
    ("merge-k-lists", "Merge k Lists", "hard", ["linked-lists", "heaps"]),
    ("edit-distance", "Edit Distance", "hard", ["dynamic-programming", "strings"]),
]


def add_question(
    factory: sessionmaker[Session],
    qid: str,
    title: str,
    difficulty: str,
    topics: list[str],
    *,
    retired: bool = False,
    versions: int = 1,
) -> None:
    with db.transaction(factory) as s:
        s.add(Question(id=qid, current_version=versions, retired=retired))
        s.flush()
        for v in range(1, versions + 1):
            s.add(
                QuestionVersion(
                    question_id=qid,
                    version=v,
                    title=title if v == versions else f"{title} (old v{v})",
                    difficulty=difficulty,
                    topics=topics,
                    spec={"id": qid},
                    notebook={},
                    checksum=f"{qid}-{v}",
                )
            )


def add_bank(factory: sessionmaker[Session]) -> None:
    for qid, title, difficulty, topics in BANK:
        add_question(factory, qid, title, difficulty, topics)


class EventStream:
    """A client of ``GET /api/match/{id}/events`` over a plain socket, so that a test can
    close it the way a browser tab closes (the Tornado client cannot abort a stream)."""

    def __init__(self, base_url: str, path: str, user: str, headers: dict[str, str] | None = None):
        url = urlsplit(f"{base_url.rstrip('/')}/{path.lstrip('/')}")
        self.host, self.port, self.path = url.hostname, url.port, url.path
        self.headers = {
            "Authorization": f"token test-token-{user}",
            "Accept": "text/event-stream",
            **(headers or {}),
        }
        self.status = 0
        self.response_headers: dict[str, str] = {}
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._buffer = b""
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.closed_by_server = False

    async def open(self) -> EventStream:
        assert self.host and self.port
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"GET {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await self._reader.readuntil(b"\r\n\r\n")
        first, *rest = head.decode().split("\r\n")
        self.status = int(first.split()[1])
        for line in rest:
            if ":" in line:
                k, v = line.split(":", 1)
                self.response_headers[k.strip().lower()] = v.strip()
        return self

    async def _read_chunk(self) -> bytes:
        assert self._reader is not None
        if self.response_headers.get("transfer-encoding") != "chunked":
            length = int(self.response_headers.get("content-length", "0"))
            data = await self._reader.readexactly(length) if length else b""
            self.closed_by_server = True
            return data
        size = int((await self._reader.readline()).strip(), 16)
        data = await self._reader.readexactly(size + 2)
        if size == 0:
            self.closed_by_server = True
        return data[:-2]

    async def next_event(self, timeout: float = 10.0) -> tuple[str, dict[str, Any]] | None:
        """The next event, or None when the server ended the stream."""
        async with asyncio.timeout(timeout):
            while b"\n\n" not in self._buffer:
                if self.closed_by_server:
                    return None
                self._buffer += await self._read_chunk()
        raw, self._buffer = self._buffer.split(b"\n\n", 1)
        fields = dict(line.split(": ", 1) for line in raw.decode().splitlines())
        event = (fields["event"], json.loads(fields["data"]))
        self.events.append(event)
        return event

    async def until(self, states: set[str], timeout: float = 10.0) -> dict[str, Any]:
        """Read events until one in ``states``; its ticket."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.next_event(timeout)
                if event is None:
                    raise AssertionError(f"stream ended before {states}: {self.events}")
                if event[0] in states:
                    return event[1]

    async def body(self) -> bytes:
        return await self._read_chunk()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
