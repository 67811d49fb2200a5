"""The PeerPrep hub service: a JupyterHub-managed Tornado service.

Neighbours: ``app.py`` (the traitlets Application), ``auth.py`` (who is calling),
``handlers/`` (REST API). Tables and sessions live in ``jupyter_peerprep/db/``.
"""
