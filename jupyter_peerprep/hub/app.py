"""The PeerPrep hub service application.

JupyterHub starts it as a managed service (``hub_config/jupyterhub_config.d/10-peerprep.py``);
it reads ``JUPYTERHUB_*`` environment variables for where to listen and how to reach the Hub,
and an optional config file (``peerprep_config.py``) for everything else. Every setting is a
trait below; ``jupyter peerprep service --help-all`` lists them.

Start-up order: check config, connect to the database (fail fast with the URL, password masked),
run Alembic migrations, build the Tornado app, then start background work (matching loop,
rooms) registered by feature modules.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging
import math
import os
import signal
from typing import Any
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuth
from jupyterhub.utils import url_path_join
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from tornado import web
from tornado.httpserver import HTTPServer
from traitlets import (
    Bool,
    Enum,
    Float,
    Integer,
    TraitError,
    Unicode,
    default,
    observe,
    validate,
)
from traitlets.config import Application, catch_config_error

from .. import db
from .._version import __version__
from ..grader import Grader
from ..questions.bank import QuestionBank
from ..questions.student import student_notebook
from . import metrics
from .handlers import default_handlers
from .handlers.base import OAuthCallbackHandler
from .hubapi import HubAPI
from .matching import Matchmaker
from .metrics import LoopLagMonitor
from .ratelimit import RateLimiter
from .record_api import SessionRecord
from .rooms import RoomManager
from .talk.handlers import talk_handlers
from .talk.settings import TalkSettings


def settle_heap() -> None:
    """Keep what start-up allocated out of the garbage collector's full collections.

    Start-up leaves a few hundred thousand long-lived objects (modules, SQLAlchemy's mappers
    and compiled statements, traitlets). A full collection walks all of them: about 70 ms on a
    2-core machine, a pause that every request in flight waits out, which made the slowest
    matches wait tens of milliseconds. ``gc.freeze`` moves them to a generation that is never
    collected; what is allocated later is collected as usual.
    """
    gc.collect()
    gc.freeze()


class PeerPrepService(Application):
    """The PeerPrep hub service: profiles, question bank, matching, rooms, grading, history."""

    name = "jupyter-peerprep-service"
    version = __version__
    description = "The PeerPrep hub service (run by JupyterHub as a managed service)."

    aliases = {
        "config": "PeerPrepService.config_file",
        "db-url": "PeerPrepService.db_url",
        "state-dir": "PeerPrepService.state_dir",
        "port": "PeerPrepService.port",
        "ip": "PeerPrepService.ip",
        "log-level": "Application.log_level",
    }
    flags = {
        "debug": ({"Application": {"log_level": logging.DEBUG}}, "Log at debug level."),
    }

    @default("log_level")
    def _default_log_level(self) -> int:
        # One INFO line per state change of a ticket, room or run is the service's audit trail.
        return logging.INFO

    config_file = Unicode(
        "peerprep_config.py",
        help="Python config file to load (relative to the working directory). Missing is fine.",
    ).tag(config=True)

    state_dir = Unicode(
        help="""Directory for the service's state: the SQLite database (embedded default),
        room archives. Defaults to $PEERPREP_STATE_DIR, else ./.peerprep.""",
    ).tag(config=True)

    @default("state_dir")
    def _default_state_dir(self) -> str:
        return os.environ.get("PEERPREP_STATE_DIR", os.path.abspath(".peerprep"))

    db_url = Unicode(
        help="""SQLAlchemy URL of the service database. SQLite file in state_dir by default;
        for production use PostgreSQL, e.g. postgresql+psycopg://peerprep:PASSWORD@db/peerprep.
        Defaults to $PEERPREP_DB_URL when set.""",
    ).tag(config=True)

    sqlite_checkpoint_interval = Float(
        0.25,
        help="""Seconds between checkpoints of a SQLite database's write-ahead log, done by a
        background thread so that no request waits for one. Short intervals keep each
        checkpoint's disk flush small (a long one stalls concurrent commits on the same disk);
        a checkpoint with nothing to copy costs nothing. Ignored for PostgreSQL. Set to 0 to
        leave checkpoints to SQLite, inside commits.""",
    ).tag(config=True)

    db_lock_timeout = Float(
        1.0,
        help="""Seconds a database statement may wait for a lock (SQLite's busy timeout,
        PostgreSQL's lock_timeout) before it fails; a new PostgreSQL connection may take twice
        as long (at least 2 s). The service's database calls run on its event loop, so a wait
        holds up every request: keep this short. A request that hits it is answered 503 with
        Retry-After and nothing is half-written; background loops retry on their next pass.""",
    ).tag(config=True)

    loop_lag_interval = Float(
        0.5,
        help="""Seconds between two measurements of the event loop's lag (the metric
        peerprep_event_loop_lag_seconds). 0 turns the measurement off.""",
    ).tag(config=True)

    @validate("sqlite_checkpoint_interval")
    def _validate_checkpoint_interval(self, proposal: dict[str, Any]) -> float:
        value: float = proposal["value"]
        if value < 0:
            raise TraitError(
                f"PeerPrepService.sqlite_checkpoint_interval must be >= 0 (0 = inside commits), "
                f"got {value}"
            )
        return value

    @default("db_url")
    def _default_db_url(self) -> str:
        return db.default_url(self.state_dir)

    @validate("db_url")
    def _validate_db_url(self, proposal: dict[str, Any]) -> str:
        url: str = proposal["value"]
        scheme = url.split(":", 1)[0].split("+", 1)[0]
        if scheme not in {"sqlite", "postgresql", "postgres"}:
            raise TraitError(
                f"PeerPrepService.db_url must be a sqlite:/// or postgresql:// URL, "
                f"got {db.mask_url(url)!r}"
            )
        return url

    ip = Unicode(
        help="IP to listen on. Defaults to the host of $JUPYTERHUB_SERVICE_URL, else 127.0.0.1.",
    ).tag(config=True)

    @default("ip")
    def _default_ip(self) -> str:
        url = os.environ.get("JUPYTERHUB_SERVICE_URL")
        return (urlparse(url).hostname if url else None) or "127.0.0.1"

    port = Integer(
        help="Port to listen on. Defaults to the port of $JUPYTERHUB_SERVICE_URL, else 10101.",
    ).tag(config=True)

    @default("port")
    def _default_port(self) -> int:
        url = os.environ.get("JUPYTERHUB_SERVICE_URL")
        return (urlparse(url).port if url else None) or 10101

    @validate("port")
    def _validate_port(self, proposal: dict[str, Any]) -> int:
        port: int = proposal["value"]
        if not 0 < port < 65536:
            raise TraitError(f"PeerPrepService.port must be between 1 and 65535, got {port}")
        return port

    base_url = Unicode(
        help="URL prefix the service is served under. Defaults to $JUPYTERHUB_SERVICE_PREFIX.",
    ).tag(config=True)

    @default("base_url")
    def _default_base_url(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/peerprep/")

    hub_api_url = Unicode(
        help="The Hub's REST API URL. Defaults to $JUPYTERHUB_API_URL.",
    ).tag(config=True)

    @default("hub_api_url")
    def _default_hub_api_url(self) -> str:
        return os.environ.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api")

    api_token = Unicode(
        help="The service's Hub API token. Defaults to $JUPYTERHUB_API_TOKEN (set by the Hub).",
    ).tag(config=True)

    @default("api_token")
    def _default_api_token(self) -> str:
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    instructor_group = Unicode(
        "instructors",
        help="Hub group whose members may publish, replace and retire questions.",
    ).tag(config=True)

    run_migrations = Bool(
        True,
        help="""Run Alembic migrations on start. Turn off when migrations are run by a separate
        job (several service replicas on one PostgreSQL).""",
    ).tag(config=True)

    log_style = Enum(
        ["text", "json"],
        "text",
        help="""How log lines look: "text" (human-readable, the default) or "json" (one JSON
        object per line with time, level, logger and message, for log collectors such as Loki
        or Elasticsearch). Defaults to $PEERPREP_LOG_STYLE when set.""",
    ).tag(config=True)

    @default("log_style")
    def _default_log_style(self) -> str:
        return os.environ.get("PEERPREP_LOG_STYLE", "text")

    @observe("log_style")
    def _log_style_changed(self, change: dict[str, Any]) -> None:
        self._configure_logging()

    def get_default_logging_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_default_logging_config()
        if self.log_style == "json" and "formatters" in config:
            config["formatters"]["console"] = {"()": "jupyter_peerprep.hub.jsonlog.JSONFormatter"}
        return config

    metrics_token = Unicode(
        help="""Bearer token Prometheus must send to read /services/peerprep/metrics
        (``Authorization: Bearer <token>``). Empty: the metrics are readable without a token
        (they are aggregate counts, no user names). Defaults to $PEERPREP_METRICS_TOKEN.""",
    ).tag(config=True)

    @default("metrics_token")
    def _default_metrics_token(self) -> str:
        return os.environ.get("PEERPREP_METRICS_TOKEN", "")

    cookie_secret = Unicode(
        help="""Secret (hex) that signs the service's login cookies. Several replicas behind
        one address must share it, or a browser logged in by one replica is refused by the
        next. Defaults to $PEERPREP_COOKIE_SECRET; empty: a random secret per process (fine
        for a single service process). Generate with `openssl rand -hex 32`.""",
    ).tag(config=True)

    @default("cookie_secret")
    def _default_cookie_secret(self) -> str:
        return os.environ.get("PEERPREP_COOKIE_SECRET", "")

    @validate("cookie_secret")
    def _validate_cookie_secret(self, proposal: dict[str, Any]) -> str:
        value: str = proposal["value"].strip()
        try:
            if value and len(bytes.fromhex(value)) < 16:
                raise ValueError("too short")
        except ValueError:
            raise TraitError(
                "PeerPrepService.cookie_secret must be at least 32 hex characters "
                "(openssl rand -hex 32)."
            ) from None
        return value

    max_body_bytes = Integer(
        256 * 1024,
        help="""Largest request body (bytes) the API reads: runs, matches, profiles. A request
        that declares a larger Content-Length is answered 413 before its body is read; a
        chunked body that grows past it has its connection closed. A solution is at most 64 KB,
        so the default leaves room for JSON escaping.""",
    ).tag(config=True)

    max_upload_bytes = Integer(
        8 * 1024 * 1024,
        help="""Largest request body (bytes) of the question API, where instructors upload
        whole notebooks; 413 above it, as for max_body_bytes.""",
    ).tag(config=True)

    max_json_depth = Integer(
        64,
        help="""How deeply lists and objects may nest in a JSON request body. Deeper is a 400
        saying so (never a parser's RecursionError). PeerPrep's own bodies nest a few levels;
        test arguments in an uploaded question count too.""",
    ).tag(config=True)

    @validate("max_body_bytes", "max_upload_bytes", "max_json_depth")
    def _validate_positive_limit(self, proposal: dict[str, Any]) -> int:
        value: int = proposal["value"]
        if value < 1:
            raise TraitError(
                f"PeerPrepService.{proposal['trait'].name} must be a positive number, got {value}"
            )
        return value

    # Set in initialize()
    engine: Engine
    session_factory: sessionmaker[Session]
    hub_api: HubAPI | None
    tornado_app: web.Application
    http_server: HTTPServer | None = None
    matchmaker: Matchmaker | None = None
    rooms: RoomManager | None = None
    loop_lag: LoopLagMonitor | None = None
    question_bank: QuestionBank | None = None
    grader: Grader
    rate_limits: RateLimiter

    @property
    def classes(self) -> list[type]:  # type: ignore[override]
        return [PeerPrepService, *self.feature_classes()]

    def feature_classes(self) -> list[type]:
        """Configurable classes of feature modules, for --help-all and config checking."""
        return [
            Matchmaker,
            RoomManager,
            TalkSettings,
            QuestionBank,
            RateLimiter,
            Grader,
            *Grader.sandbox_classes(),
            SessionRecord,
        ]

    @catch_config_error
    def initialize(self, argv: list[str] | None = None) -> None:
        super().initialize(argv)
        if self.config_file and os.path.exists(self.config_file):
            self.load_config_file(self.config_file)
        self.check_unknown_config()
        self.init_logging()
        self.grader = Grader(parent=self)
        self.rate_limits = RateLimiter(parent=self)
        metrics.instrument_grader(self.grader)
        self.init_db()
        self.init_hub_api()
        self.init_tornado()

    def check_unknown_config(self) -> None:
        """Fail on a misspelt setting instead of silently ignoring it."""
        for cls in self.classes:
            section = self.config.get(cls.__name__)
            if not section:
                continue
            known = set(cls.class_trait_names(config=True))  # type: ignore[attr-defined]
            unknown = sorted(set(section) - known)
            if unknown:
                allowed = ", ".join(sorted(known))
                raise TraitError(
                    f"Unknown setting(s) {', '.join(cls.__name__ + '.' + u for u in unknown)}. "
                    f"{cls.__name__} accepts: {allowed}"
                )

    def init_logging(self) -> None:
        self.log.propagate = False
        logging.getLogger("tornado.access").setLevel(logging.WARNING)

    def init_db(self) -> None:
        self.engine = db.make_engine(
            self.db_url,
            sqlite_checkpoint_interval=self.sqlite_checkpoint_interval or None,
            lock_timeout=self.db_lock_timeout,
            # A connection attempt waits on the event loop too (PostgreSQL): keep it short.
            connect_timeout=max(2, math.ceil(2 * self.db_lock_timeout)),
        )
        if self.run_migrations:
            db.upgrade(self.engine)
        self.session_factory = db.session_factory(self.engine)
        self.log.info("Database ready at %s", db.mask_url(self.db_url))

    def init_hub_api(self) -> None:
        self.hub_api = HubAPI(self.hub_api_url, self.api_token) if self.api_token else None

    def init_tornado(self) -> None:
        prefix = self.base_url
        handlers: list[Any] = [
            (url_path_join(prefix, "oauth_callback"), OAuthCallbackHandler),
        ]
        for entry in [*default_handlers, *talk_handlers]:
            path, kwargs = entry[0], dict(entry[2]) if len(entry) > 2 else {}
            cls: type[web.RequestHandler] = entry[1]
            # Handlers get the service as a route argument (their ``initialize``), never
            # through the application's settings.
            if "service" in inspect.signature(cls.initialize).parameters:
                kwargs["service"] = self
            handlers.append((url_path_join(prefix, path), cls, kwargs))
        hub_auth = HubOAuth(
            api_token=self.api_token or "unset",
            api_url=self.hub_api_url,
            base_url=prefix,
            cache_max_age=60,
        )
        self.tornado_app = web.Application(
            handlers,
            hub_auth=hub_auth,
            cookie_secret=bytes.fromhex(self.cookie_secret) or os.urandom(32),
            log_function=self._log_request,
        )

    def _log_request(self, handler: web.RequestHandler) -> None:
        status = handler.get_status()
        level = logging.INFO if status < 400 else logging.WARNING
        if status >= 500:
            level = logging.ERROR
        self.log.log(
            level,
            "%s %s %s %.1fms",
            status,
            handler.request.method,
            handler.request.uri,
            1000.0 * handler.request.request_time(),
        )

    async def start_async(self) -> None:
        self.question_bank = QuestionBank(parent=self)
        self.matchmaker = Matchmaker(parent=self, session_factory=self.session_factory)
        await self.matchmaker.start()
        self.rooms = RoomManager(
            parent=self,
            session_factory=self.session_factory,
            hub_api=self.hub_api,
            notebook_factory=student_notebook,
            port=self.port,
        )
        self.matchmaker.notifier.watchers.append(self.rooms.wake)
        await self.rooms.start()
        self.loop_lag = LoopLagMonitor(self.loop_lag_interval)
        self.loop_lag.start()
        settle_heap()
        # API handlers stream their bodies and set their own, smaller limit (handlers/base.py);
        # this bounds everything else.
        self.http_server = HTTPServer(
            self.tornado_app,
            xheaders=True,
            max_body_size=max(self.max_body_bytes, self.max_upload_bytes),
        )
        self.http_server.listen(self.port, self.ip)
        self.log.info(
            "PeerPrep service %s listening on http://%s:%s%s",
            __version__,
            self.ip,
            self.port,
            self.base_url,
        )

    async def stop_async(self) -> None:
        if self.http_server:
            self.http_server.stop()
        if self.loop_lag is not None:
            await self.loop_lag.stop()
        if self.rooms is not None:
            await self.rooms.stop()
        if self.matchmaker is not None:
            await self.matchmaker.stop()
        if self.question_bank is not None:
            await self.question_bank.stop()
        self.engine.dispose()

    def start(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        stopped = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopped.set)

        async def main() -> None:
            await self.start_async()
            # The service process (not an embedding test) publishes the shipped bank.
            if self.question_bank is not None:
                self.question_bank.start(self.session_factory, self.question_bank.get_grader())
            await stopped.wait()
            self.log.info("PeerPrep service stopping")
            await self.stop_async()

        loop.run_until_complete(main())


main = PeerPrepService.launch_instance

if __name__ == "__main__":
    main()
