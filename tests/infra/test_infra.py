"""infra/: what can be validated without a Docker engine is validated here — the compose file against the
Compose specification, the Kubernetes manifests against the Kubernetes schemas, the image definition with
hadolint — plus the promises they must keep (probes, replicas, secrets only from the environment)."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
BIN = Path(sys.executable).parent
MANIFESTS = sorted((INFRA / "k8s").glob("*.yaml"))
RESOURCES = [m for m in MANIFESTS if m.name != "kustomization.yaml"]


def run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120)


def test_compose_file_follows_the_compose_specification():
    result = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", INFRA / "compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_validator_does_catch_mistakes(tmp_path):
    broken = tmp_path / "compose.yaml"
    broken.write_text((INFRA / "compose.yaml").read_text().replace("    deploy:\n", "    deploymnt:\n", 1))
    result = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", broken)
    assert result.returncode != 0


def test_kubernetes_manifests_validate_strictly():
    result = run(BIN / "kubernetes-validate", "--strict", *RESOURCES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == sum(len(list(yaml.safe_load_all(m.read_text()))) for m in RESOURCES)


def test_the_kubernetes_validator_does_catch_mistakes(tmp_path):
    broken = tmp_path / "web.yaml"
    broken.write_text((INFRA / "k8s" / "web.yaml").read_text().replace("replicas: 2", "replicas: two"))
    assert run(BIN / "kubernetes-validate", "--strict", broken).returncode != 0


def test_dockerfile_passes_hadolint():
    result = run(BIN / "hadolint", INFRA / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_image_for_web_worker_scheduler_and_migrate():
    compose = yaml.safe_load((INFRA / "compose.yaml").read_text())
    services = compose["services"]
    trede = {name: s for name, s in services.items() if s.get("build", {}).get("dockerfile") == "infra/Dockerfile"}
    assert {name: s["command"][0] for name, s in trede.items()} == {
        "migrate": "migrate", "web": "serve", "worker": "worker", "scheduler": "scheduler",
    }  # fmt: skip
    assert len({s["image"] for s in trede.values()}) == 1
    assert services["web"]["deploy"]["replicas"] == 2
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert {"postgres", "rabbitmq", "minio", "minio-buckets", "keycloak", "mailpit", "proxy"} <= set(services)


def test_probes_are_wired_to_the_health_endpoints():
    web = next(d for d in yaml.safe_load_all((INFRA / "k8s" / "web.yaml").read_text()) if d["kind"] == "Deployment")
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert web["spec"]["replicas"] == 2
    for manifest in RESOURCES:
        for doc in yaml.safe_load_all(manifest.read_text()):
            if doc["kind"] in ("Deployment", "Job"):
                for c in doc["spec"]["template"]["spec"]["containers"]:
                    assert c["resources"]["requests"], (manifest.name, c["name"])
                    assert {"secretRef": {"name": "trede-secrets"}} in c["envFrom"], (manifest.name, c["name"])


def test_web_processes_believe_forwarded_headers_only_from_their_proxy():
    compose = yaml.safe_load((INFRA / "compose.yaml").read_text())
    proxy_address = compose["services"]["proxy"]["networks"]["default"]["ipv4_address"]
    assert compose["services"]["web"]["environment"]["FORWARDED_ALLOW_IPS"] == proxy_address
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy_address) in ipaddress.ip_network(subnet)
    config = yaml.safe_load((INFRA / "k8s" / "configmap.yaml").read_text())
    assert ipaddress.ip_network(config["data"]["FORWARDED_ALLOW_IPS"]).is_private


SECRET_WORDS = ("PASSWORD", "SECRET", "_PASS")


def test_compose_takes_every_secret_from_the_environment():
    compose = yaml.safe_load((INFRA / "compose.yaml").read_text())
    checked = 0
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        for key, value in environment.items():
            if any(word in key.upper() for word in SECRET_WORDS) or "://" in str(value) and "@" in str(value):
                assert "${" in str(value), f"{name}: {key} holds a literal secret"
                checked += 1
    assert checked >= 8


def test_kubernetes_manifests_hold_no_secret_values():
    for manifest in RESOURCES:
        for doc in yaml.safe_load_all(manifest.read_text()):
            assert doc["kind"] != "Secret", f"{manifest.name}: secrets are created outside the repository"


def test_keycloak_realm_takes_secrets_from_the_environment():
    realm = json.loads((INFRA / "keycloak" / "trede-realm.json").read_text())
    assert all(c["secret"].startswith("${") for c in realm["clients"])
    for user in realm["users"]:
        assert all(cred["value"].startswith("${") for cred in user["credentials"]), user["username"]


def test_keycloak_realm_has_the_trede_client_and_a_provider_user_with_a_kvk_claim():
    realm = json.loads((INFRA / "keycloak" / "trede-realm.json").read_text())
    [client] = realm["clients"]
    assert client["clientId"] == "trede" and client["attributes"]["pkce.code.challenge.method"] == "S256"
    [mapper] = client["protocolMappers"]
    assert mapper["config"]["claim.name"] == "urn:etoegang:core:LegalSubjectID"
    assert any(u.get("attributes", {}).get("kvk") == ["90000001"] for u in realm["users"])
