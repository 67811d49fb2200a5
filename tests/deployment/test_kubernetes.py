"""The Kubernetes tier, validated offline: Zero to JupyterHub values against the chart's schema,
every manifest against the Kubernetes API schemas of a pinned version, and the properties the
design depends on (no privileged pods, limits everywhere, pair pods without egress, autoscaling
on CPU and on the queue, probes on the health endpoint)."""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from traitlets.config import Config, PyFileConfigLoader

from jupyter_peerprep.grader import Grader
from jupyter_peerprep.hub.app import PeerPrepService

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "hub_config" / "kubernetes"
SCHEMA = Path(__file__).parent / "data" / "z2jh-values.schema.yaml"
# The oldest Kubernetes the manifests are written for (HPA autoscaling/v2, PDB policy/v1).
KUBERNETES_VERSION = "1.33.0"
MANIFESTS = ["peerprep-service.yaml", "networkpolicies.yaml"]


def without_required(node: Any) -> Any:
    """The chart schema checks merged values (defaults + ours); ours are an overlay, so keep
    the checks of names and types and drop the "required" lists."""
    if isinstance(node, dict):
        return {k: without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [without_required(v) for v in node]
    return node


@pytest.fixture(scope="module")
def values_validator() -> jsonschema.Draft7Validator:
    schema = yaml.safe_load(SCHEMA.read_text())
    return jsonschema.Draft7Validator(without_required(schema))


@pytest.fixture(scope="module")
def values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((K8S / "values.yaml").read_text())
    return loaded


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    docs = []
    for name in MANIFESTS:
        docs += [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    return docs


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise AssertionError(f"no {kind} {name}")


def pod_specs(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (obj["metadata"]["name"], obj["spec"]["template"]["spec"])
        for obj in objects
        if obj["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}
    ]


def test_values_match_the_chart_schema(values, values_validator):
    errors = [f"{list(e.path)}: {e.message}" for e in values_validator.iter_errors(values)]
    assert errors == []


def test_values_check_catches_a_misspelt_key(values, values_validator):
    broken = copy.deepcopy(values)
    broken["singleuser"]["memmory"] = {"limit": "1G"}
    broken["hub"]["db"]["type"] = "postgresql"
    broken["singleuser"]["memory"]["limit"] = ["1G"]
    messages = [e.message for e in values_validator.iter_errors(broken)]
    assert any("memmory" in m for m in messages)
    assert any("'postgresql' is not one of" in m for m in messages)
    assert any("['1G'] is not of type" in m for m in messages)


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifests_validate_against_kubernetes_schemas(name):
    docs = [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_manifest_check_catches_a_wrong_field(objects):
    deployment = copy.deepcopy(find(objects, "Deployment", "peerprep-service"))
    deployment["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    deployment = copy.deepcopy(find(objects, "Deployment", "peerprep-service"))
    deployment["spec"]["template"]["spec"]["containers"][0]["resourcez"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_no_privileged_pods_and_limits_everywhere(objects):
    for name, spec in pod_specs(objects):
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert not spec.get("hostNetwork") and not spec.get("hostPID"), name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert not context.get("privileged"), name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert not context["capabilities"].get("add"), name
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), name
            assert "memory" in resources["limits"], name
        for volume in spec.get("volumes", []):
            assert "hostPath" not in volume, f"{name} mounts a host path"


def test_service_runs_several_replicas_with_probes_on_health(objects, values):
    deployment = find(objects, "Deployment", "peerprep-service")
    assert deployment["spec"]["replicas"] >= 2
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    prefix = env["JUPYTERHUB_SERVICE_PREFIX"]["value"]
    assert prefix == "/services/peerprep/"
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == prefix + "api/health"
    # The hub-generated token of the service registered in values.yaml.
    token = env["JUPYTERHUB_API_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert token == {"name": "hub", "key": "hub.services.peerprep.apiToken"}
    assert "secretKeyRef" in env["PEERPREP_DB_URL"]["valueFrom"]
    # Replicas share the cookie secret (PeerPrepService.cookie_secret).
    assert "secretKeyRef" in env["PEERPREP_COOKIE_SECRET"]["valueFrom"]
    # The Service the hub and the proxy route to is the one values.yaml names.
    service = find(objects, "Service", "peerprep")
    port = service["spec"]["ports"][0]["port"]
    assert values["hub"]["services"]["peerprep"]["url"] == f"http://peerprep:{port}"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    budget = find(objects, "PodDisruptionBudget", "peerprep-service")
    assert budget["spec"]["minAvailable"] < deployment["spec"]["replicas"]


def test_service_config_map_is_valid_service_configuration(objects, tmp_path):
    config_map = find(objects, "ConfigMap", "peerprep-service-config")
    (tmp_path / "peerprep_config.py").write_text(config_map["data"]["peerprep_config.py"])
    config = PyFileConfigLoader("peerprep_config.py", path=str(tmp_path)).load_config()
    service = PeerPrepService(config=config)
    service.check_unknown_config()
    assert service.run_migrations is False and service.log_style == "json"
    assert Grader(config=config).backend == "bwrap"
    job = find(objects, "Job", "peerprep-db-migrate")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"][-2:] == ["db", "upgrade"]


def test_autoscaling_on_cpu_and_queue_length(objects):
    hpa = find(objects, "HorizontalPodAutoscaler", "peerprep-service")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "peerprep-service"
    assert hpa["spec"]["minReplicas"] >= 2
    kinds = {m["type"]: m for m in hpa["spec"]["metrics"]}
    assert kinds["Resource"]["resource"]["name"] == "cpu"
    # The metric the service exports at /services/peerprep/metrics (hub/metrics.py).
    assert kinds["External"]["external"]["metric"]["name"] == "peerprep_queue_length"
    rules = yaml.safe_load((K8S / "prometheus-adapter-rules.yaml").read_text())
    assert rules["external"][0]["name"]["as"] == "peerprep_queue_length"


def test_pair_pods_have_no_egress_but_hub_service_and_dns(objects, values):
    policy = find(objects, "NetworkPolicy", "peerprep-pair-egress")
    selector = policy["spec"]["podSelector"]["matchLabels"]
    assert selector["peerprep.io/role"] == "pair"
    assert policy["spec"]["policyTypes"] == ["Egress"]
    allowed = []
    for rule in policy["spec"]["egress"]:
        assert rule.get("to"), "an egress rule without 'to' would allow every destination"
        for peer in rule["to"]:
            assert "ipBlock" not in peer, "no address ranges: only named pods"
            allowed.append(peer["podSelector"]["matchLabels"])
        assert rule.get("ports"), "every allowed destination names its ports"
    assert allowed == [
        {"component": "hub"},
        {"app.kubernetes.io/name": "peerprep-service"},
        {"k8s-app": "kube-dns"},
    ]
    # The chart's own single-user policy must not allow more (policies add up).
    rules = values["singleuser"]["networkPolicy"]["egressAllowRules"]
    assert values["singleuser"]["networkPolicy"]["enabled"] is True
    assert not rules["nonPrivateIPs"] and not rules["privateIPs"]
    assert not rules["cloudMetadataServer"]
    # The pair profile labels pods the way the policy selects them.
    pair = next(p for p in values["singleuser"]["profileList"] if p["slug"] == "pair")
    assert pair["kubespawner_override"]["extra_labels"]["peerprep.io/role"] == "pair"


def extra_config(values: dict[str, Any]) -> Config:
    """The hub's configuration after the values' extraConfig snippets, run in order."""
    config = Config()
    config.KubeSpawner.profile_list = values["singleuser"]["profileList"]
    config.KubeSpawner.environment = {}
    namespace = {"c": config}
    for name, source in sorted(values["hub"]["extraConfig"].items()):
        exec(compile(source, f"extraConfig/{name}", "exec"), namespace)
    return config


def test_profiles_follow_the_user_name(values):
    """The extraConfig picks the pair profile for pair-<id> users, the student one otherwise."""
    config = extra_config(values)
    choose = config.KubeSpawner.profile_list
    pair = choose(SimpleNamespace(user=SimpleNamespace(name="pair-0123456789ab")))
    student = choose(SimpleNamespace(user=SimpleNamespace(name="alice")))
    assert [p["slug"] for p in pair] == ["pair"]
    assert [p["slug"] for p in student] == ["student"]
    assert pair[0]["kubespawner_override"]["mem_limit"] == "1G"
    url = config.KubeSpawner.environment["PEERPREP_SERVICE_URL"]
    assert url == "http://peerprep:10101/services/peerprep/"


def test_pair_servers_load_no_jupyter_config_or_extension_from_their_home(values):
    """A pair pod's Jupyter config and data directories are the image's read-only ones."""
    config = extra_config(values)
    hook = config.KubeSpawner.pre_spawn_hook
    for name in ("pair-0123456789ab", "alice"):
        spawner = SimpleNamespace(user=SimpleNamespace(name=name), environment={}, args=[])
        hook(spawner)
        if name.startswith("pair-"):
            assert spawner.environment["JUPYTER_CONFIG_DIR"] == "/opt/peerprep/etc/jupyter"
            assert spawner.environment["JUPYTER_DATA_DIR"] == "/opt/peerprep/share/jupyter"
        else:
            assert spawner.environment == {} and spawner.args == []


def test_servers_are_served_on_subdomains_with_a_wildcard_certificate(values):
    subdomain_host = values["hub"]["config"]["JupyterHub"]["subdomain_host"]
    assert subdomain_host.startswith("https://")
    host = subdomain_host.removeprefix("https://")
    https = values["proxy"]["https"]
    assert f"*.{host}" in https["hosts"] and host in https["hosts"]
    # Let's Encrypt's HTTP challenge cannot issue the wildcard; a TLS Secret provides it.
    assert https["type"] == "secret" and https["secret"]["name"]


def test_pair_servers_ask_the_hub_again_after_one_second(values):
    """A share revoked at End stops working within about a second on Kubernetes too: pair
    servers cache the hub's answer about a token for 1 s, not JupyterHub's 300 s."""
    pair = next(p for p in values["singleuser"]["profileList"] if p["slug"] == "pair")
    assert "--HubOAuth.cache_max_age=1" in pair["kubespawner_override"]["args"]
    student = next(p for p in values["singleuser"]["profileList"] if p["slug"] == "student")
    assert "args" not in student.get("kubespawner_override", {})
