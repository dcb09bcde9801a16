"""The Dockerfile, .dockerignore, compose.yaml and compose.env.example, checked statically.

No Docker daemon or Compose runs on the development machine or in CI: the files are read
as text and YAML, compose.yaml's keys are checked against the ones the Compose
Specification defines for what it uses (a typo is an error, not a silently ignored key), and
every command the containers run is checked against Townhall's own commands and settings.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's build stages, each a list of instructions starting with its FROM."""
    result: list[list[tuple[str, str]]] = []
    for instruction in dockerfile_instructions():
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def build_args() -> dict[str, str]:
    args = {}
    for word, rest in dockerfile_instructions():
        if word == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            args[name] = value
    return args


def resolved_base(from_args: str) -> str:
    image = from_args.split()[0]
    return re.sub(r"\$\{(\w+)\}", lambda m: build_args()[m.group(1)], image)


def health_check_code(exec_form: str) -> str:
    command = json.loads(exec_form.removeprefix("CMD").strip())
    assert command[:2] == ["python", "-c"], command
    return str(command[2])


def test_multi_stage_on_pinned_python_311_slim() -> None:
    all_stages = stages()
    assert len(all_stages) >= 2, "a build stage and a runtime stage"
    for stage in all_stages:
        image = resolved_base(stage[0][1])
        assert image.startswith("python:3.11-slim"), image
        assert ":" in image and not image.endswith(":latest"), image
    assert " AS " in all_stages[0][0][1].upper()


def test_final_stage_runs_as_a_non_root_user_without_build_tools() -> None:
    final = stages()[-1]
    users = [rest for word, rest in final if word == "USER"]
    assert users, "the runtime stage sets USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert user.isdigit(), "numeric, so Kubernetes' runAsNonRoot can verify it"
    final_text = " ".join(rest for _, rest in final)
    for tool in ("build-essential", "gcc", "apt-get install", "curl", "wget"):
        assert tool not in final_text, f"{tool} in the runtime stage"
    assert any(word == "COPY" and "--from=build /opt/venv" in rest for word, rest in final)


def test_installs_townhall_with_the_constraints_and_collects_static_at_build() -> None:
    build = stages()[0]
    runs = [rest for word, rest in build if word == "RUN"]
    assert any(
        re.search(r"pip install .*-c requirements/constraints\.txt \.(\s|$)", r) for r in runs
    )
    assert not any("pip install -e" in r or "--editable" in r for r in runs)
    collect = [r for r in runs if "townhall collectstatic --noinput" in r]
    assert collect, "static files are collected at build time"
    assert "TOWNHALL_ENV=production" in collect[0] and "SECRET_KEY=" in collect[0]
    final = stages()[-1]
    assert any(word == "COPY" and "/app/var/static" in rest for word, rest in final)


def test_health_check_hits_healthz_with_python_and_is_valid_python() -> None:
    checks = [rest for word, rest in stages()[-1] if word == "HEALTHCHECK"]
    assert len(checks) == 1
    options, _, command = checks[0].partition("CMD")
    assert "--interval=" in options and "--timeout=" in options
    code = health_check_code("CMD" + command)
    compile(code, "<HEALTHCHECK>", "exec")
    assert "urllib" in code and "/healthz" in code and "curl" not in code
    # production refuses unknown hosts and redirects plain HTTP except /healthz
    assert "'Host'" in code and "X-Forwarded-Proto" in code


def test_default_command_is_gunicorn_on_port_8000() -> None:
    cmds = [json.loads(rest) for word, rest in stages()[-1] if word == "CMD"]
    assert cmds[-1][:2] == ["gunicorn", "townhall.wsgi"]
    assert "0.0.0.0:8000" in cmds[-1]
    expose = [rest for word, rest in stages()[-1] if word == "EXPOSE"]
    assert expose == ["8000"]


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes."""
    result = False
    for pattern in dockerignore():
        negate = pattern.startswith("!")
        pattern = pattern.removeprefix("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(
            fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p, "**/" + pattern) for p in prefixes
        ):
            result = not negate
    return result


@pytest.mark.parametrize("path", [".venv", "var", ".git", ".env", "compose.env", "secrets"])
def test_dockerignore_keeps_local_state_and_secrets_out(path: str) -> None:
    assert ignored(path), path


def test_every_file_the_build_copies_is_in_the_context() -> None:
    copies = [rest for word, rest in stages()[0] if word == "COPY" and "--from" not in rest]
    sources = [src for rest in copies for src in shlex.split(rest)[:-1]]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not ignored(source), f"{source} is copied but .dockerignore drops it"


def test_pip_install_dot_ships_every_runtime_file() -> None:
    """The image installs Townhall as a package (not editable): a template or data file
    whose extension is missing from package-data would be absent from the image."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["*"]
    tracked = subprocess.run(
        ["git", "ls-files", "townhall"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(tracked) > 100
    not_needed = ("townhall/portal/frontend/",)  # sources of the built CSS and JS
    missing = [
        path
        for path in tracked
        if not path.endswith((".py", ".md", "/LICENSE"))
        and not path.startswith(not_needed)
        and not any(fnmatch.fnmatch(Path(path).name, p) for p in patterns)
    ]
    assert missing == []


# --- compose.yaml ---------------------------------------------------------------------------

APP_SERVICES = {"web", "asgi", "worker", "scheduler", "migrate"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


# The keys the Compose Specification defines, for the parts of it compose.yaml uses.
TOP_KEYS = {"name", "services", "volumes", "networks", "configs", "secrets", "include"}
SERVICE_KEYS = {
    "image", "build", "command", "entrypoint", "environment", "env_file", "depends_on",
    "healthcheck", "ports", "expose", "volumes", "tmpfs", "read_only", "restart", "deploy",
    "user", "working_dir", "stop_grace_period", "stop_signal", "labels", "networks",
    "init", "shm_size", "ulimits", "cap_drop", "cap_add", "security_opt", "profiles",
    "logging", "secrets", "configs", "container_name", "hostname", "extra_hosts",
}  # fmt: skip
HEALTHCHECK_KEYS = {
    "test",
    "interval",
    "timeout",
    "retries",
    "start_period",
    "start_interval",
    "disable",
}
DEPENDS_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def compose_problems(compose: dict[str, Any]) -> list[str]:
    def unknown(keys: Any, known: set[str]) -> set[str]:  # x-…: extensions, allowed anywhere
        return {k for k in set(keys) - known if not k.startswith("x-")}

    problems = [f"top level: {k}" for k in unknown(compose, TOP_KEYS)]
    for name, service in compose.get("services", {}).items():
        problems += [f"{name}: {k}" for k in set(service) - SERVICE_KEYS]
        problems += [
            f"{name}.healthcheck: {k}"
            for k in set(service.get("healthcheck", {})) - HEALTHCHECK_KEYS
        ]
        depends = service.get("depends_on", {})
        if isinstance(depends, dict):
            for other, how in depends.items():
                if other not in compose["services"]:
                    problems.append(f"{name}.depends_on: no service {other}")
                if how.get("condition") not in DEPENDS_CONDITIONS:
                    problems.append(f"{name}.depends_on.{other}: condition {how.get('condition')}")
    return problems


def test_compose_file_uses_only_keys_of_the_compose_specification(compose: dict[str, Any]) -> None:
    assert compose_problems(compose) == []


def test_compose_key_check_catches_mistakes(compose: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["web"]["healthcheck"]["intervall"] = "30s"
    broken["services"]["worker"]["depends_on"]["postgres"]["condition"] = "service_ready"
    broken["services"]["web"]["enviroment"] = {}
    assert len(compose_problems(broken)) == 3


def test_compose_services_and_their_commands(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == APP_SERVICES | {"postgres", "redis"}
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    commands = get_commands()
    for name in APP_SERVICES:
        service = services[name]
        assert service["image"].startswith("${TOWNHALL_IMAGE:-townhall:"), name
        assert "latest" not in service["image"]
        command = service["command"]
        if command[0] == "townhall":
            assert command[1] in commands, f"{name}: no command townhall {command[1]}"
        assert service["environment"]["TOWNHALL_ENV"] == "production"
        assert service["env_file"] == [{"path": "compose.env", "required": True}]
        assert "media:/app/var/media" in service["volumes"]
        assert service["read_only"] is True and "/tmp" in service["tmpfs"]  # noqa: S108
    assert services["web"]["command"][:2] == ["gunicorn", "townhall.wsgi"]
    assert services["web"]["environment"]["WEB_CONCURRENCY"] != "1"
    assert services["asgi"]["command"][:2] == ["uvicorn", "townhall.asgi:application"]
    assert services["worker"]["command"] == ["townhall", "db_worker", "--no-reload"]
    assert services["scheduler"]["command"] == ["townhall", "scheduler"]
    assert services["migrate"]["command"][:2] == ["townhall", "migrate"]
    assert services["scheduler"]["deploy"]["replicas"] == 1
    assert services["worker"]["deploy"]["replicas"] >= 1
    assert services["migrate"]["restart"] == "no"
    assert set(compose["volumes"]) >= {"media", "pgdata"}


def test_compose_health_checks_and_start_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        check = service["healthcheck"]
        if name == "migrate":
            assert check == {"disable": True}
            continue
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert check["interval"] and check["retries"], name
    for name in ("web", "asgi"):
        code = services[name]["healthcheck"]["test"][3]
        compile(code, name, "exec")
        assert "/healthz" in code
    for name in APP_SERVICES - {"migrate"}:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_holds_no_secret_and_its_env_example_names_the_required_ones(
    compose: dict[str, Any],
) -> None:
    text = (ROOT / "compose.yaml").read_text()
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD", "DATABASE_URL", "EMAIL_HOST_PASSWORD"):
        assert name not in text, f"{name} belongs in compose.env, not compose.yaml"
    example = dict(
        line.split("=", 1)
        for line in (ROOT / "compose.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "POSTGRES_PASSWORD", "DATABASE_URL"):
        assert example.get(name), name
    password = example["POSTGRES_PASSWORD"]
    assert example["DATABASE_URL"] == f"postgres://townhall:{password}@postgres:5432/townhall"
    assert "" not in example.values(), "an empty value overrides a default with ''"
    secret = compose["secrets"]["ledger-seal.key"]["file"]
    assert ignored(secret.removeprefix("./"))
    assert (
        compose["x-townhall"]["environment"]["TOWNHALL_LEDGER_KEY_FILE"]
        == "/run/secrets/ledger-seal.key"
    )


@pytest.mark.django_db
def test_worker_and_scheduler_checks_fail_when_the_database_is_down(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    """`townhall check` alone passes with the database down; the check used connects."""
    check = compose["services"]["worker"]["healthcheck"]["test"]
    assert compose["services"]["scheduler"]["healthcheck"]["test"] == check
    assert check[:5] == ["CMD", "townhall", "shell", "--no-startup", "-c"]
    exec(check[5], {})  # noqa: S102 - the database is up: it passes
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "TOWNHALL_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "townhall.settings",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
    }
    argv = [sys.executable, "-m", "townhall", *check[2:]]
    down = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert down.returncode != 0
    assert "connection" in down.stderr.lower()


def test_every_runtime_dependency_is_pinned_by_the_constraints() -> None:
    """The image installs `pip install -c requirements/constraints.txt`: an unpinned
    dependency would make two builds of the same commit differ."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = {
        re.split(r"==", line)[0].strip().lower().replace("_", "-")
        for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    names = [re.split(r"[\[<>=!~ ;]", d)[0].lower().replace("_", "-") for d in dependencies]
    assert [name for name in names if name not in pinned] == []
