"""Test-only entry point: a real PeerPrep service in its own process, identities from
``FakeHubIdentity`` (named so: no hub runs in these tests; a token ``test-token-<name>``
belongs to <name>). Used to put two service processes on one PostgreSQL.

    python tests/matching/service_process.py DB_URL PORT [Class.trait=value ...]
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from traitlets.config import Config

from jupyter_peerprep.hub.app import PeerPrepService
from jupyter_peerprep.pytest_plugin import FakeHubIdentity, install_fake_hub

sys.path.insert(0, str(Path(__file__).parent))
from conftest import stop_rooms


def main(argv: list[str]) -> None:
    db_url, port, *settings = argv
    config = Config()
    config.PeerPrepService.db_url = db_url
    config.PeerPrepService.port = int(port)
    config.PeerPrepService.api_token = ""
    config.PeerPrepService.config_file = ""
    for setting in settings:
        key, value = setting.split("=", 1)
        cls, name = key.split(".", 1)
        setattr(config[cls], name, float(value) if "." in value else int(value))
    service = PeerPrepService(config=config)
    service.initialize([])
    install_fake_hub(service, FakeHubIdentity())
    asyncio.run(serve(service))


async def serve(service: PeerPrepService) -> None:
    stopped = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stopped.set)
    await service.start_async()
    await stop_rooms(service)  # matching only, as in conftest.py
    await stopped.wait()
    await service.stop_async()


if __name__ == "__main__":
    main(sys.argv[1:])
