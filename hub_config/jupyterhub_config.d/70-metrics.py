# Prometheus may read the hub's own metrics (/hub/metrics) with a token of its own.
#
# It reads:
#   PEERPREP_HUB_METRICS_TOKEN  when set, a hub service "prometheus" with this API token and
#                               only the read:metrics scope; Prometheus sends it as a bearer
#                               token (monitoring/prometheus.yml, docs/how-to/monitor.md)
import os

c = get_config()

_metrics_token = os.environ.get("PEERPREP_HUB_METRICS_TOKEN", "")
if _metrics_token:
    c.JupyterHub.services.append({"name": "prometheus", "api_token": _metrics_token})
    c.JupyterHub.load_roles.append(
        {
            "name": "prometheus",
            "description": "Read the hub's Prometheus metrics, nothing else.",
            "scopes": ["read:metrics"],
            "services": ["prometheus"],
        }
    )
