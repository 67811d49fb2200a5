"""Rooms: a match becomes a shared pair server, is watched, and ends into history.

- ``manager.py``: ``RoomManager``, the loop that prepares, watches and ends rooms;
- ``pairservers.py``: pair servers at the hub and the warm pool;
- ``state.py``: each state change of a room, one short transaction;
- ``access.py``: membership (one check, one answer) and the grading lock;
- ``views.py``: the room's JSON views; ``history.py``: a student's finished rooms;
- ``observers.py``: an instructor opens a live room from the class view.

Why it works this way: ``docs/explanation/rooms.md``.
"""

from __future__ import annotations

from .manager import RoomManager
from .pairservers import PairServerError, RoomError

__all__ = ["PairServerError", "RoomError", "RoomManager"]
