"""Sandbox backends for running untrusted code once: ``bwrap`` (default) and ``docker``."""

from __future__ import annotations

from .base import Sandbox, SandboxError, SandboxLimits, SandboxResult

__all__ = ["Sandbox", "SandboxError", "SandboxLimits", "SandboxResult"]
