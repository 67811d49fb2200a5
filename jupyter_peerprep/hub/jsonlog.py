"""Structured logs: one JSON object per line (``PeerPrepService.log_style = "json"``).

Each line has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message`` (the formatted
message, lazy ``%s`` arguments filled in), plus ``exception`` with the traceback when there is
one. Values passed with ``extra={...}`` (say ``ticket``, ``room``, ``run`` ids) become fields,
so a log collector can filter on them without parsing the message.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "highlevel"}


class JSONFormatter(logging.Formatter):
    """Format a log record as a single line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)
