"""The Kubernetes manifests validate offline against the Kubernetes schemas, the
kustomization takes all of them, and the pieces fit: probes, ports, labels, config names,
and KEDA scaling on the workers' real consumer groups."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from engine.settings import HOPS, Settings
from tests.deploy.settings_env import names_a_setting

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
BASE = K8S / "base"
EXAMPLE_SECRET = K8S / "secret.example.yaml"
#: Oldest Kubernetes release the manifests must validate against (schemas shipped with
#: kubernetes-validate, so no network).
KUBERNETES_VERSION = "1.30.0"
#: Kinds defined by CustomResourceDefinitions: no schema in kubernetes-validate; their
#: shape is checked by the tests below.
CUSTOM_KINDS = {("keda.sh/v1alpha1", "ScaledObject")}

Manifest = dict[str, Any]


def documents(path: Path) -> list[Manifest]:
    """The non-empty YAML documents of a file."""
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def kustomization() -> Manifest:
    return documents(BASE / "kustomization.yaml")[0]


def build() -> list[Manifest]:
    """What `kustomize build deploy/k8s/base` gives, as far as these tests need: the listed
    resources, in the kustomization's namespace."""
    spec = kustomization()
    out = []
    for name in spec["resources"]:
        for doc in documents(BASE / name):
            doc = copy.deepcopy(doc)
            if doc["kind"] != "Namespace":
                doc["metadata"]["namespace"] = spec["namespace"]
            out.append(doc)
    return out


def the(kind: str, name: str | None = None) -> Manifest:
    """The one object of a kind (and name) in the build."""
    found = [d for d in build() if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def builtin_manifests() -> list[tuple[str, Manifest]]:
    """(file, object) for every object of a built-in kind under deploy/k8s/."""
    found = []
    for path in sorted(K8S.rglob("*.yaml")):
        for doc in documents(path):
            if doc["kind"] == "Kustomization" or (doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS:
                continue
            found.append((str(path.relative_to(K8S)), doc))
    return found


def container(deployment: Manifest) -> Manifest:
    [only] = deployment["spec"]["template"]["spec"]["containers"]
    return dict(only)


def config() -> dict[str, str]:
    return dict(the("ConfigMap")["data"])


def port_named(c: Manifest, name: str) -> int:
    [port] = [p["containerPort"] for p in c["ports"] if p["name"] == name]
    return int(port)


def test_the_kustomization_lists_every_manifest_beside_it() -> None:
    """Every YAML file in deploy/k8s/base is a resource of its kustomization, and each exists."""
    listed = set(kustomization()["resources"])
    present = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present


@pytest.mark.parametrize(("path", "manifest"), builtin_manifests(),
                         ids=lambda v: v if isinstance(v, str) else v["kind"])
def test_every_builtin_manifest_validates_strictly(path: str, manifest: Manifest) -> None:
    """Each object of a built-in kind validates against the Kubernetes schemas, unknown fields refused."""
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_strict_validation_refuses_a_misspelt_field() -> None:
    """A Deployment with `replica` for `replicas` fails: validation is strict and can fail."""
    broken = copy.deepcopy(the("Deployment", "gatehound-worker"))
    broken["spec"]["replica"] = broken["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def has_schema(manifest: Manifest) -> bool:
    """Whether kubernetes-validate knows the object's kind (valid or not)."""
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return False
    except kubernetes_validate.ValidationError:
        pass
    return True


def test_only_the_keda_scaler_goes_unvalidated() -> None:
    """The kinds without a Kubernetes schema are exactly the custom ones checked by hand: a
    misspelt apiVersion of a built-in kind cannot slip through as "custom"."""
    unknown = {(d["apiVersion"], d["kind"]) for d in build() if not has_schema(d)}
    assert unknown == CUSTOM_KINDS
    typo = {**the("PodDisruptionBudget"), "apiVersion": "policy/v2"}
    assert not has_schema(typo)


def test_workers_are_probed_on_their_metrics_port_and_have_resources() -> None:
    """Readiness, liveness and startup probes GET /metrics on the port the config serves it on;
    requests and limits are set."""
    c = container(the("Deployment", "gatehound-worker"))
    assert c["args"] == ["worker"]
    port = port_named(c, "metrics")
    assert port == int(config()["GATEHOUND_WORKER__METRICS_PORT"])
    assert config()["GATEHOUND_WORKER__METRICS_ADDR"] == "0.0.0.0"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert c[probe]["httpGet"]["path"] == "/metrics", probe
        assert c[probe]["httpGet"]["port"] in ("metrics", port), probe
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(c["resources"][kind]), kind


def test_the_ops_centre_is_probed_on_healthz_and_served() -> None:
    """The ops centre's probes GET /healthz on its web port, and its Service selects its pods."""
    deployment = the("Deployment", "gatehound-ops")
    c = container(deployment)
    assert c["args"] == ["ops"]
    assert port_named(c, "http") == int(config()["GATEHOUND_OPS__PORT"])
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"path": "/healthz", "port": "http"}, probe
    service = the("Service", "gatehound-ops")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_selectors_match_the_pods_they_mean() -> None:
    """Each Deployment's selector matches its pods; the PDB and the metrics Service select workers."""
    worker = the("Deployment", "gatehound-worker")["spec"]
    worker_labels = worker["template"]["metadata"]["labels"]
    for deployment in (d for d in build() if d["kind"] == "Deployment"):
        spec = deployment["spec"]
        assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    assert the("PodDisruptionBudget")["spec"]["selector"]["matchLabels"].items() <= worker_labels.items()
    assert the("Service", "gatehound-worker-metrics")["spec"]["selector"].items() <= worker_labels.items()
    assert the("PodDisruptionBudget")["spec"]["maxUnavailable"] == 1


def test_workloads_read_the_configmap_and_the_secret_by_their_names() -> None:
    """Both Deployments take their environment from the ConfigMap and the Secret the example shapes."""
    [secret] = documents(EXAMPLE_SECRET)
    for name in ("gatehound-worker", "gatehound-ops"):
        sources = container(the("Deployment", name))["envFrom"]
        assert {"configMapRef": {"name": the("ConfigMap")["metadata"]["name"]}} in sources
        assert {"secretRef": {"name": secret["metadata"]["name"]}} in sources
        assert the("Deployment", name)["spec"]["template"]["spec"]["serviceAccountName"] == the(
            "ServiceAccount")["metadata"]["name"]


def test_no_secret_value_is_in_the_base() -> None:
    """The base has no Secret; the example secret's values are all marked EXAMPLE."""
    assert [d for d in build() if d["kind"] == "Secret"] == []
    [secret] = documents(EXAMPLE_SECRET)
    assert "EXAMPLE ONLY" in EXAMPLE_SECRET.read_text(encoding="utf-8")
    assert all("EXAMPLE" in v for v in secret["stringData"].values())


def test_every_variable_set_names_a_setting() -> None:
    """Each GATEHOUND_* key of the ConfigMap and the example Secret is a setting the engine reads."""
    [secret] = documents(EXAMPLE_SECRET)
    keys = [*config(), *secret["stringData"]]
    assert [k for k in keys if not names_a_setting(k)] == []
    assert not names_a_setting("GATEHOUND_KAFKA_BOOTSTRAP_SERVERS")  # a single "_" would be ignored


def test_keda_scales_the_workers_on_their_consumer_groups_lag() -> None:
    """The ScaledObject targets the worker Deployment, reads lag of real hop consumer groups on
    the configured cluster, and stops at one worker per partition."""
    scaled = the("ScaledObject")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    spec = scaled["spec"]
    assert spec["scaleTargetRef"]["name"] == the("Deployment", "gatehound-worker")["metadata"]["name"]
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
    assert spec["maxReplicaCount"] == int(config()["GATEHOUND_TOPICS__PARTITIONS"])
    groups = {f"{Settings().worker.app_id}-{hop}" for hop in HOPS}
    assert spec["triggers"], "no triggers"
    for trigger in spec["triggers"]:
        meta = trigger["metadata"]
        assert trigger["type"] == "kafka"
        assert meta["consumerGroup"] in groups
        assert meta["bootstrapServers"] == config()["GATEHOUND_KAFKA__BOOTSTRAP_SERVERS"]
        assert int(meta["lagThreshold"]) > 0
        assert meta["allowIdleConsumers"] == "false"


def test_kubectl_kustomize_builds_the_same_objects() -> None:
    """Where kubectl is installed, its kustomize build gives the objects this file's build gives."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed; the build above stands in for it")
    done = subprocess.run([kubectl, "kustomize", str(BASE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    theirs = {(d["kind"], d["metadata"]["name"], d["metadata"].get("namespace"))
              for d in yaml.safe_load_all(done.stdout) if d}
    ours = {(d["kind"], d["metadata"]["name"], d["metadata"].get("namespace")) for d in build()}
    assert theirs == ours
