"""The Helm chart (deploy/helm/townhall): linted and rendered by a real Helm, every manifest
validated against the Kubernetes schemas (strict, offline), and its promises checked.

Helm comes from `make .venv/bin/helm` (deploy/bin/install-helm). Without it these tests
skip, except with TOWNHALL_REQUIRE_HELM=1 (CI, `make test`) where they fail.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "townhall"
VARIANTS = {
    "default": [],
    "full": ["-f", str(CHART / "ci" / "full-values.yaml")],
    "minimal": ["-f", str(CHART / "ci" / "minimal-values.yaml")],
}
SECRET_NAMES = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_HOST_PASSWORD")


def helm_binary() -> str:
    for candidate in (os.environ.get("HELM"), str(ROOT / ".venv" / "bin" / "helm")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("helm")
    if found:
        return found
    message = "helm is not installed: make .venv/bin/helm (deploy/bin/install-helm)"
    if os.environ.get("TOWNHALL_REQUIRE_HELM"):
        pytest.fail(f"{message}; TOWNHALL_REQUIRE_HELM is set")
    pytest.skip(message)


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [helm_binary(), *args], capture_output=True, text=True, timeout=60, check=False
    )


@cache
def rendered_text(variant: str) -> str:
    result = helm("template", "th", str(CHART), "--namespace", "council", *VARIANTS[variant])
    assert result.returncode == 0, result.stderr
    return result.stdout


def rendered(variant: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(rendered_text(variant)) if doc]


def by_kind(variant: str, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in rendered(variant) if d["kind"] == kind}


def component(variant: str, name: str) -> dict[str, Any]:
    for doc in rendered(variant):
        labels = doc["metadata"].get("labels", {})
        if doc["kind"] == "Deployment" and labels.get("app.kubernetes.io/component") == name:
            return doc
    raise AssertionError(f"no {name} Deployment in {variant}")


def container(doc: dict[str, Any]) -> dict[str, Any]:
    containers = doc["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def validator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "validate_manifests", ROOT / "deploy" / "bin" / "validate-manifests.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def values(variant: str) -> dict[str, Any]:
    base = yaml.safe_load((CHART / "values.yaml").read_text())
    if variant != "default":
        base = merged(base, yaml.safe_load(Path(VARIANTS[variant][1]).read_text()))
    return dict(base)


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


# --- Helm itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_helm_lint_passes(variant: str) -> None:
    result = helm("lint", "--strict", str(CHART), *VARIANTS[variant])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variant", VARIANTS)
def test_rendered_manifests_validate_against_the_kubernetes_schemas(variant: str) -> None:
    module = validator()
    docs = rendered(variant)
    assert len(docs) >= 5
    assert module.problems(docs, module.default_versions()) == []


def test_the_validator_catches_a_misspelt_field() -> None:
    module = validator()
    web = yaml.safe_load(yaml.safe_dump(component("default", "web")))
    web["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    found = module.problems([web], ["1.30.0"])
    assert len(found) == 1 and "readinesProbe" in found[0]


def test_the_charts_schema_refuses_a_secret_in_the_config_map() -> None:
    for name in ("SECRET_KEY", "DATABASE_URL", "EMAIL_HOST_PASSWORD", "SMS_AUTH_TOKEN"):
        result = helm("template", "th", str(CHART), "--set", f"config.{name}=oops")
        assert result.returncode != 0, name
        assert name in result.stderr


def test_a_missing_existing_secret_or_a_second_scheduler_is_refused() -> None:
    assert helm("template", "th", str(CHART), "--set", "existingSecret=").returncode != 0
    assert helm("template", "th", str(CHART), "--set", "scheduler.replicas=2").returncode != 0
    assert helm("template", "th", str(CHART), "--set", "image.tag=latest").returncode != 0


# --- what the chart promises -----------------------------------------------------------------


@pytest.mark.parametrize("variant", ["default", "full"])
def test_web_asgi_and_worker_have_probes_and_resource_requests(variant: str) -> None:
    allowed = values(variant)["config"]["ALLOWED_HOSTS"].split(",")
    for name in ("web", "asgi", "worker"):
        spec = container(component(variant, name))
        assert spec["resources"]["requests"]["cpu"] and spec["resources"]["requests"]["memory"]
        assert spec["resources"]["limits"]["memory"]
        assert "livenessProbe" in spec, name
    for name in ("web", "asgi"):
        spec = container(component(variant, name))
        assert spec["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert spec["livenessProbe"]["httpGet"]["path"] == "/healthz"
        headers = {h["name"]: h["value"] for h in spec["readinessProbe"]["httpGet"]["httpHeaders"]}
        assert headers["X-Forwarded-Proto"] == "https"
        assert any(
            headers["Host"] == host or headers["Host"].endswith(host)
            for host in (h.strip() for h in allowed)
        ), headers
    worker = container(component(variant, "worker"))
    assert worker["livenessProbe"]["exec"]["command"][:2] == ["townhall", "shell"]
    assert "ensure_connection()" in worker["livenessProbe"]["exec"]["command"][-1]


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_scheduler_is_a_singleton(variant: str) -> None:
    scheduler = component(variant, "scheduler")
    assert scheduler["spec"]["replicas"] == 1
    assert scheduler["spec"]["strategy"] == {"type": "Recreate"}
    assert container(scheduler)["command"] == ["townhall", "scheduler"]
    targets = [
        h["spec"]["scaleTargetRef"]["name"]
        for h in rendered(variant)
        if h["kind"] == "HorizontalPodAutoscaler"
    ]
    assert scheduler["metadata"]["name"] not in targets


@pytest.mark.parametrize("variant", ["default", "full"])
def test_migrations_run_as_a_hook_job_before_install_and_upgrade(variant: str) -> None:
    jobs = by_kind(variant, "Job")
    assert len(jobs) == 1
    job = next(iter(jobs.values()))
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["containers"][0]["command"][:2] == ["townhall", "migrate"]
    # a hook runs before the release's ConfigMap and ServiceAccount exist on first install
    assert "configMapRef" not in str(pod) and "serviceAccountName" not in pod
    env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
    assert env["ALLOWED_HOSTS"] == values(variant)["config"]["ALLOWED_HOSTS"]
    assert "migrate" not in {component_of(d) for d in rendered("minimal")}


def component_of(doc: dict[str, Any]) -> str:
    return str(doc["metadata"].get("labels", {}).get("app.kubernetes.io/component", ""))


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_secret_value_is_rendered(variant: str) -> None:
    text = rendered_text(variant)
    docs = rendered(variant)
    assert not [d for d in docs if d["kind"] == "Secret"]
    for name in SECRET_NAMES:
        assert name not in text, f"{name} in the rendered chart"
    secret = values(variant)["existingSecret"]
    for doc in docs:
        if doc["kind"] == "Deployment":
            refs = [s["secretRef"]["name"] for s in container(doc)["envFrom"] if "secretRef" in s]
            assert refs == [secret]


def test_the_ledger_key_is_mounted_from_its_secret_in_the_worker_only() -> None:
    worker = component("full", "worker")
    volumes = {v["name"]: v for v in worker["spec"]["template"]["spec"]["volumes"]}
    assert volumes["ledger-key"]["secret"]["secretName"] == "townhall-ledger-key"
    env = {e["name"]: e.get("value") for e in container(worker)["env"]}
    assert env["TOWNHALL_LEDGER_KEY_FILE"] == "/etc/townhall/ledger/ledger-seal.key"
    web = component("full", "web")
    assert "ledger-key" not in str(web)
    assert "ledger-key" not in rendered_text("default")


def test_image_tag_defaults_to_the_charts_app_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert chart["appVersion"] == project["version"]
    images = {container(d)["image"] for d in rendered("default") if d["kind"] == "Deployment"}
    assert images == {f"townhall:{chart['appVersion']}"}
    full = {container(d)["image"] for d in rendered("full") if d["kind"] == "Deployment"}
    assert full == {"registry.example.org/council/townhall:0.1.0-council.3"}


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_pod_is_non_root_with_a_read_only_root_and_a_tmp_volume(variant: str) -> None:
    pods = [
        d["spec"]["template"]["spec"]
        for d in rendered(variant)
        if d["kind"] in {"Deployment", "Job"}
    ]
    assert pods
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for spec in pod["containers"]:
            assert spec["securityContext"]["readOnlyRootFilesystem"] is True
            assert spec["securityContext"]["allowPrivilegeEscalation"] is False
            mounts = {m["mountPath"]: m["name"] for m in spec["volumeMounts"]}
            assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == mounts["/tmp"])  # noqa: S108


def test_autoscaling_and_disruption_budgets() -> None:
    hpas = by_kind("full", "HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == {
        "th-townhall-web",
        "th-townhall-worker",
    }
    for hpa in hpas.values():
        assert hpa["apiVersion"] == "autoscaling/v2"
    assert "replicas" not in component("full", "web")["spec"]
    assert component("default", "web")["spec"]["replicas"] == 2
    assert not by_kind("default", "HorizontalPodAutoscaler")
    pdbs = {
        p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        for p in by_kind("full", "PodDisruptionBudget").values()
    }
    assert pdbs == {"web", "asgi", "worker"}
    assert not by_kind("minimal", "PodDisruptionBudget")


def test_ingress_sends_the_websocket_to_asgi_and_the_rest_to_web() -> None:
    assert not by_kind("default", "Ingress")
    (ingress,) = by_kind("full", "Ingress").values()
    (rule,) = ingress["spec"]["rules"]
    routes = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert routes == {"/ws/": "th-townhall-asgi", "/": "th-townhall-web"}
    assert ingress["spec"]["tls"][0]["secretName"] == "townhall-tls"
    services = by_kind("full", "Service")
    assert set(routes.values()) <= set(services)


def test_containers_run_commands_that_exist() -> None:
    commands = get_commands()
    for doc in rendered("full"):
        if doc["kind"] not in {"Deployment", "Job"}:
            continue
        for spec in doc["spec"]["template"]["spec"]["containers"]:
            argv = spec["command"]
            if argv[0] == "townhall":
                assert argv[1] in commands, argv
            else:
                assert argv[0] in {"gunicorn", "uvicorn"}, argv
                module = argv[1].split(":")[0]
                assert importlib.util.find_spec(module), module
        for probe in ("livenessProbe",):
            for spec in doc["spec"]["template"]["spec"]["containers"]:
                command = spec.get(probe, {}).get("exec", {}).get("command")
                if command:
                    assert command[1] in commands


def test_config_map_carries_the_config_values_as_strings() -> None:
    (config,) = by_kind("full", "ConfigMap").values()
    assert config["data"]["TOWNHALL_TRUSTED_PROXIES"] == "1"
    assert config["data"]["SECURE_SSL_REDIRECT"] == "false"
    assert config["data"]["TIME_ZONE"] == "Europe/London"


def test_the_chart_runs_as_the_images_user() -> None:
    user = next(
        line.split()[1]
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("USER ")
    )
    pod = yaml.safe_load((CHART / "values.yaml").read_text())["podSecurityContext"]
    assert user == f"{pod['runAsUser']}:{pod['runAsGroup']}"


def test_notes_render_and_warn_about_what_is_missing() -> None:
    def notes(*args: str) -> str:
        result = helm("install", "th", str(CHART), "--dry-run=client", *args)
        assert result.returncode == 0, result.stderr
        return result.stdout.split("NOTES:", 1)[1]

    default = notes()
    assert "scheduler (exactly 1)" in default
    assert "ledgerKey.existingSecret is empty" in default
    assert "still the example host name" in default
    full = notes(*VARIANTS["full"])
    assert "https://townhall.council.example.org/" in full
    assert "WARNING" not in full
