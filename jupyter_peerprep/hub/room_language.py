"""The language of a room, of the questions on offer, and of the kernels this host provides.

Hooks for matching, rooms and runs (kept out of those modules while they are being split):

- ``offered_languages()``: Python always; JavaScript and TypeScript when the Deno kernel spec
  (``kernels/peerprep-deno``) is installed and a Deno binary is found, so the lobby never
  offers a language a room could not run;
- ``room_language(factory, room_id)``: a room's language is its tickets' (both students asked
  for the same one: matching pairs only equal languages); Python for a room without tickets;
  ``language_in(session, room_id)`` the same inside an open session (remembered per room: a
  room's tickets never change, and both room panels poll the room every second);
- ``in_language(session, questions, language)``: the candidate questions that have a starter
  in that language (all of them when none has, so a pair is never left without a question).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..db.models import QuestionVersion, Ticket
from ..questions.languages import BASE_LANGUAGE
from ..questions.vocabulary import LANGUAGES

DENO_KERNEL = "peerprep-deno"


def offered_languages(specs: Any = None) -> list[str]:
    """The languages rooms can run here (derived from the kernel specs present, as
    ``specs``, a KernelSpecManager, finds them)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    from ..sandbox.runtimes import find_deno

    try:
        (specs or KernelSpecManager()).get_kernel_spec(DENO_KERNEL)
    except NoSuchKernel:
        return [BASE_LANGUAGE]
    if not find_deno():
        return [BASE_LANGUAGE]
    return list(LANGUAGES)


# Room id -> language, for rooms that have tickets (room ids are random and never reused).
_KNOWN: OrderedDict[str, str] = OrderedDict()
KNOWN_SIZE = 4096


def language_in(s: Session, room_id: str) -> str:
    known = _KNOWN.get(room_id)
    if known is not None:
        return known
    language = s.scalar(select(Ticket.language).where(Ticket.room_id == room_id).limit(1))
    if language is None:
        return BASE_LANGUAGE  # not remembered: a room without tickets is rare (seeded ones)
    _KNOWN[room_id] = language
    while len(_KNOWN) > KNOWN_SIZE:
        _KNOWN.popitem(last=False)
    return language


def room_language(factory: sessionmaker[Session], room_id: str) -> str:
    with factory() as s:
        return language_in(s, room_id)


def question_languages(
    s: Session, keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], set[str]]:
    """(question id, version) -> the languages it can be solved in."""
    if not keys:
        return {}
    wanted = set(keys)
    rows = s.execute(
        select(
            QuestionVersion.question_id,
            QuestionVersion.version,
            QuestionVersion.spec["languages"],
        ).where(QuestionVersion.question_id.in_({k[0] for k in keys}))
    ).all()
    return {
        (qid, version): {BASE_LANGUAGE, *(langs or {})}
        for qid, version, langs in rows
        if (qid, version) in wanted
    }


def in_language(s: Session, questions: Sequence[Any], language: str | None) -> Sequence[Any]:
    if not language or language == BASE_LANGUAGE:
        return questions
    offered = question_languages(s, [(q.question_id, q.version) for q in questions])
    kept = [q for q in questions if language in offered.get((q.question_id, q.version), ())]
    return kept or questions
