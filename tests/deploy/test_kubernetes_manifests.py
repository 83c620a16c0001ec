"""Every manifest in deploy/kubernetes is a valid object of the Kubernetes version we target (the schemas
kubernetes-validate bundles, offline, strict: unknown fields fail), and the set keeps our rules: each module
has a Deployment and a Service on its old port, probes on the health routes, the image's numeric non-root
user, requests and limits, its secrets by secretKeyRef only, a migration Job for its database, and an
Ingress route for each of its prefixes (tests/deploy/deploy_checks.py)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.deploy_checks import KUBERNETES_DIR, kubernetes_problems, kustomization_problems, module_facts

# The oldest Kubernetes minor the manifests must apply to (all its fields exist in later ones).
KUBERNETES_VERSION = "1.32.0"

MANIFESTS = sorted(p for p in KUBERNETES_DIR.rglob("*.yaml") if p.name != "kustomization.yaml")
KUSTOMIZATIONS = sorted(KUBERNETES_DIR.rglob("kustomization.yaml"))


def load(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def all_documents() -> list[dict[str, Any]]:
    return [doc for path in MANIFESTS for doc in load(path)]


def test_the_manifests_are_there() -> None:
    assert {p.relative_to(KUBERNETES_DIR).as_posix() for p in MANIFESTS} >= {
        "namespace.yaml",
        "configmap.yaml",
        "ingress.yaml",
        "migrate/jobs.yaml",
        *(f"{m.name}.yaml" for m in module_facts()),
    }


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.relative_to(KUBERNETES_DIR).as_posix())
def test_manifest_is_valid_for_kubernetes(path: Path) -> None:
    documents = load(path)
    assert documents
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_a_broken_manifest_is_invalid() -> None:
    deployment = copy.deepcopy(load(KUBERNETES_DIR / "pricing.yaml")[0])
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    deployment = copy.deepcopy(load(KUBERNETES_DIR / "pricing.yaml")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}  # a misspelt field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_manifests_keep_our_rules() -> None:
    assert kubernetes_problems(all_documents(), module_facts()) == []


@pytest.mark.parametrize("path", KUSTOMIZATIONS, ids=lambda p: p.relative_to(KUBERNETES_DIR).as_posix())
def test_each_kustomization_lists_every_manifest_beside_it(path: Path) -> None:
    assert kustomization_problems(path.parent, yaml.safe_load(path.read_text(encoding="utf-8"))) == []


def test_a_kustomization_that_forgets_a_manifest_fails() -> None:
    kustomization = yaml.safe_load((KUBERNETES_DIR / "kustomization.yaml").read_text(encoding="utf-8"))
    kustomization["resources"].remove("pricing.yaml")
    assert kustomization_problems(KUBERNETES_DIR, kustomization) == [
        "kubernetes/kustomization.yaml: does not list pricing.yaml"
    ]


Change = Callable[[list[dict[str, Any]]], None]


def _find(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name)


def _container(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    container: dict[str, Any] = _find(documents, kind, name)["spec"]["template"]["spec"]["containers"][0]
    return container


def _env(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in _container(documents, kind, name)["env"]}


def _drop(kind: str, name: str) -> Change:
    def change(documents: list[dict[str, Any]]) -> None:
        documents.remove(_find(documents, kind, name))

    return change


def _root_user(documents: list[dict[str, Any]]) -> None:
    _find(documents, "Deployment", "carrier")["spec"]["template"]["spec"]["securityContext"]["runAsUser"] = 0


def _named_user(documents: list[dict[str, Any]]) -> None:
    _find(documents, "Deployment", "auth")["spec"]["template"]["spec"]["securityContext"]["runAsUser"] = "freightdesk"


def _no_readiness(documents: list[dict[str, Any]]) -> None:
    del _container(documents, "Deployment", "user")["readinessProbe"]


def _liveness_on_ready(documents: list[dict[str, Any]]) -> None:
    _container(documents, "Deployment", "customer")["livenessProbe"]["httpGet"]["path"] = "/api/v1/health/ready"


def _one_pricing_replica(documents: list[dict[str, Any]]) -> None:
    _find(documents, "Deployment", "pricing")["spec"]["replicas"] = 1


def _inline_database_url(documents: list[dict[str, Any]]) -> None:
    variable = _env(documents, "Deployment", "carrier")["CARRIER_DATABASE_URL"]
    variable.pop("valueFrom")
    variable["value"] = "mysql+asyncmy://freightdesk_carrier:s3cret-password@mysql:3306/carrier_service_db"


def _committed_secret(documents: list[dict[str, Any]]) -> None:
    documents.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "freightdesk-redis", "namespace": "freightdesk"},
            "stringData": {"url": "redis://:hunter2@redis:6379/0"},
        }
    )


def _secret_in_configmap(documents: list[dict[str, Any]]) -> None:
    _find(documents, "ConfigMap", "freightdesk-config")["data"]["FREIGHTDESK_SERVICE_SECRET"] = "abc"


def _wrong_service_port(documents: list[dict[str, Any]]) -> None:
    _find(documents, "Service", "customer")["spec"]["ports"][0]["port"] = 8000


def _no_limits(documents: list[dict[str, Any]]) -> None:
    del _container(documents, "Deployment", "pricing")["resources"]["limits"]


def _missing_service_url(documents: list[dict[str, Any]]) -> None:
    container = _container(documents, "Deployment", "pricing")
    container["env"] = [e for e in container["env"] if e["name"] != "CARRIER_SERVICE_URL"]


def _no_migration(documents: list[dict[str, Any]]) -> None:
    _drop("Job", "migrate-customer")(documents)


def _no_ingress_route(documents: list[dict[str, Any]]) -> None:
    paths = _find(documents, "Ingress", "freightdesk")["spec"]["rules"][0]["http"]["paths"]
    paths[:] = [p for p in paths if p["path"] != "/api/v1/profiles"]


def _writable_nothing(documents: list[dict[str, Any]]) -> None:
    container = _container(documents, "Deployment", "auth")
    container["volumeMounts"] = [m for m in container["volumeMounts"] if m["mountPath"] != "/app/var"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            _drop("Deployment", "carrier"), "module carrier: needs a Deployment and a Service", id="no-deployment"
        ),
        pytest.param(_drop("Service", "user"), "module user: needs a Deployment and a Service", id="no-service"),
        pytest.param(
            _root_user, "Deployment carrier: freightdesk does not run as the image's numeric user", id="root-user"
        ),
        pytest.param(
            _named_user, "Deployment auth: freightdesk does not run as the image's numeric user", id="named-user"
        ),
        pytest.param(_no_readiness, "Deployment user: readinessProbe must GET /api/v1/health/ready", id="no-readiness"),
        pytest.param(
            _liveness_on_ready, "Deployment customer: livenessProbe must GET /api/v1/health/live", id="liveness-with-io"
        ),
        pytest.param(_one_pricing_replica, "Deployment pricing: 1 replica(s)", id="single-pricing"),
        pytest.param(
            _inline_database_url, "Deployment carrier: CARRIER_DATABASE_URL is written inline", id="inline-secret"
        ),
        pytest.param(_committed_secret, "Secret freightdesk-redis: holds values", id="committed-secret"),
        pytest.param(
            _secret_in_configmap,
            "ConfigMap freightdesk-config: FREIGHTDESK_SERVICE_SECRET is a secret",
            id="secret-in-configmap",
        ),
        pytest.param(_wrong_service_port, "Service customer: port [8000], not the old 3004", id="wrong-port"),
        pytest.param(_no_limits, "Deployment pricing: freightdesk has no cpu and memory limits", id="no-limits"),
        pytest.param(
            _missing_service_url,
            "Deployment pricing: CARRIER_SERVICE_URL is not http://carrier:3005",
            id="dependency-unreachable",
        ),
        pytest.param(_no_migration, "module customer: no Job runs freightdesk db upgrade", id="no-migration"),
        pytest.param(_no_ingress_route, "Ingress: no route for /api/v1/profiles (module user)", id="no-ingress-route"),
        pytest.param(
            _writable_nothing,
            "Deployment auth: read-only root without a volume for the data dir",
            id="read-only-data-dir",
        ),
    ],
)
def test_a_broken_manifest_set_fails(change: Change, expected: str) -> None:
    documents = copy.deepcopy(all_documents())
    change(documents)
    problems = kubernetes_problems(documents, module_facts())
    assert any(p.startswith(expected) for p in problems), problems
