"""Fixtures of the matching tests.

``make_service`` here wraps the plugin's factory and stops the rooms capability right after
start: these tests check matching, and without a hub (``FakeHubIdentity``) the rooms loop would
mark every new room failed and free its members while a test still looks at them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest


async def stop_rooms(service: Any) -> None:
    rooms = getattr(service, "rooms", None)
    if rooms is not None:
        await rooms.stop()


@pytest.fixture
def make_service(make_service: Callable[..., Awaitable[tuple[Any, Any]]]):
    async def factory(**traits: Any) -> tuple[Any, Any]:
        service, client = await make_service(**traits)
        await stop_rooms(service)
        return service, client

    return factory
