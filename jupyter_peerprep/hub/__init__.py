"""The PeerPrep hub service: a JupyterHub-managed Tornado service.

Neighbours: ``app.py`` (the traitlets Application), ``db.py`` (engine, sessions, migrations),
``models.py`` (SQLAlchemy tables), ``auth.py`` (who is calling), ``handlers/`` (REST API).
"""
