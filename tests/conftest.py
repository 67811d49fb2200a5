"""Shared test configuration: PeerPrep's own pytest plugin provides the fixtures."""

pytest_plugins = ["jupyter_peerprep.pytest_plugin"]
