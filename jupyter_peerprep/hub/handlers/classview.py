"""The class view API, for instructors only (403 for anyone else):

- ``GET /api/class``: per question, per student and the live rooms of the caller's class;
- ``GET /api/class/export.csv``: the per-student rows as CSV for a gradebook;
- ``POST /api/class/rooms/{id}/open``: share a live room's server with the instructor (Hub
  Shares API), announce it to the students in the room, log it; answers the room's URL.

The class is the students of the caller's course groups (``course-<id>``, set by an LMS
log-in), instructors excepted; an instructor in no course group (native log-in) sees every
student.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from tornado import web

from .. import classview
from ..hubapi import HubAPIError
from ..rooms import observers
from .base import authenticated
from .rooms import RoomHandlerBase


class ClassHandlerBase(RoomHandlerBase):
    async def class_roster(self) -> tuple[list[str], set[str] | None]:
        """The caller's course groups and their students (None: every student)."""
        self.require_instructor()
        courses = sorted(
            g for g in self.identity.groups if g.startswith(classview.COURSE_GROUP_PREFIX)
        )
        api = self.service.hub_api
        if not courses or api is None:
            return courses, None
        try:
            teachers = set(await api.get_group_members(self.service.instructor_group))
            students: set[str] = set()
            for course in courses:
                students.update(await api.get_group_members(course))
        except HubAPIError as e:
            raise web.HTTPError(
                502, f"The hub did not list your course's students ({e}); try again shortly."
            ) from None
        return courses, students - teachers - {self.identity.name}


def class_body(factory: sessionmaker[Session], students: set[str] | None) -> dict[str, Any]:
    """The class view's figures (run in a worker thread: a large class takes a while)."""
    with factory() as s:
        found = classview.attempts(s, students)
        return {
            "questions": classview.question_rows(s, found),
            "students": classview.student_rows(s, found, students),
            "live": classview.live_rooms(s, students),
        }


def student_rows(factory: sessionmaker[Session], students: set[str] | None) -> list[Any]:
    with factory() as s:
        return classview.student_rows(s, classview.attempts(s, students), students)


class ClassHandler(ClassHandlerBase):
    @authenticated
    async def get(self) -> None:
        courses, students = await self.class_roster()
        body = await asyncio.to_thread(class_body, self.db, students)
        self.write_json({"courses": courses, **body})


class ClassExportHandler(ClassHandlerBase):
    @authenticated
    async def get(self) -> None:
        _, students = await self.class_roster()
        rows = await asyncio.to_thread(student_rows, self.db, students)
        self.set_header("Content-Type", "text/csv; charset=UTF-8")
        self.set_header("Content-Disposition", 'attachment; filename="peerprep-class.csv"')
        self.finish(classview.gradebook_csv(rows))


class OpenRoomHandler(ClassHandlerBase):
    @authenticated
    async def post(self, room_id: str) -> None:
        _, students = await self.class_roster()
        me = self.identity.name
        url, names = await observers.open_for_observer(self.rooms, room_id, me, students)
        self.service.log.info("Class view: %s opened room %s of %s", me, room_id, ", ".join(names))
        self.write_json({"room_id": room_id, "url": url})


class_handlers: list[tuple[str, type, dict[str, Any]] | tuple[str, type]] = [
    (r"api/class", ClassHandler),
    (r"api/class/export\.csv", ClassExportHandler),
    (r"api/class/rooms/([^/]+)/open", OpenRoomHandler),
]
