"""The session record: every Yjs update of a room with the student who made it and when.

Pure parts only (no I/O): ``codec`` (the compact stored form and the wire batch),
``replay`` (rebuilding the notebook at any moment, who wrote each character, pastes) and
``summary`` (collaboration metrics and diffs between runs). The pair server side is
``jupyter_peerprep/record_hook.py``; the service side ``hub/record_api.py``.
"""
