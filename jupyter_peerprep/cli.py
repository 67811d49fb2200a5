"""``jupyter peerprep``: the command line of PeerPrep.

Subcommands (``jupyter peerprep <cmd> --help`` for each):

- ``service``: run the hub service (JupyterHub does this for you);
- ``db upgrade``: run the database migrations (for a separate migration job);
- ``questions``: validate, publish, list, export and import question notebooks.

Feature modules register their subcommands in ``PeerPrepApp.subcommands``.
"""

from __future__ import annotations

import sys

from jupyter_core.application import JupyterApp
from traitlets import Unicode
from traitlets.config import Application

from ._version import __version__


class DBUpgradeApp(Application):
    """Run the service database migrations up to the newest revision."""

    name = "jupyter-peerprep-db-upgrade"
    description = "Run the PeerPrep service database migrations (Alembic) and exit."
    db_url = Unicode("", help="Database URL; defaults to the service's.").tag(config=True)
    aliases = {"db-url": "DBUpgradeApp.db_url"}

    def start(self) -> None:
        from . import db
        from .hub.app import PeerPrepService

        url = self.db_url or PeerPrepService(config=self.config).db_url
        try:
            engine = db.make_engine(url)
        except db.DatabaseError as e:
            print(f"error: {e}", file=sys.stderr)
            self.exit(1)
        db.upgrade(engine)
        print(f"Database at {db.mask_url(url)} is at revision {db.current_revision(engine)}")


class DBApp(Application):
    name = "jupyter-peerprep-db"
    description = "Manage the PeerPrep service database."
    subcommands = {"upgrade": (DBUpgradeApp, DBUpgradeApp.description)}

    def start(self) -> None:
        if self.subapp is None:
            self.print_subcommands()
            self.exit(2)
        else:
            self.subapp.start()


class PeerPrepApp(JupyterApp):
    name = "jupyter-peerprep"
    version = __version__
    description = "PeerPrep: practise technical interviews in pairs on JupyterHub."
    subcommands = {
        "service": ("jupyter_peerprep.hub.app.PeerPrepService", "Run the PeerPrep hub service."),
        "db": (DBApp, DBApp.description),
        "questions": (
            "jupyter_peerprep.questions.cli.QuestionsApp",
            "Validate, publish, list, export and import (otter, nbgrader) question notebooks.",
        ),
    }

    def start(self) -> None:
        if self.subapp is None:
            print("A subcommand is required: " + ", ".join(sorted(self.subcommands)))
            self.print_subcommands()
            self.exit(2)
        else:
            self.subapp.start()


def main() -> None:
    PeerPrepApp.launch_instance()


if __name__ == "__main__":
    main()
