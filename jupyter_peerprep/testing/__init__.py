"""Helpers for tests that drive a real PeerPrep hub: ``hubclient`` (a logged-in student over
HTTP, the way a browser would) and ``ydoc`` (a Yjs collaboration client)."""
