-- First start of the compose PostgreSQL: the service database (peerprep) is created by the
-- image from POSTGRES_DB; this adds the hub's own database, owned by the same role.
CREATE DATABASE jupyterhub OWNER peerprep;
