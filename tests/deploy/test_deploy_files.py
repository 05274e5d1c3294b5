"""Static checks of the deployment files: Dockerfiles, docker-compose.yml (against the
vendored Compose Specification JSON schema), the PostgreSQL init script and the
Kubernetes manifests. No Docker, no network: the files must be right by construction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = ROOT / "deploy" / "schema" / "compose-spec.json"
K8S_DIR = ROOT / "deploy" / "k8s"

# name -> internal HTTP port
SERVICES = {"customers": 8101, "subscriptions": 8102, "billing": 8103, "notifications": 8104, "gateway": 8080}
BUSINESS = [name for name in SERVICES if name != "gateway"]
INFRA = {"kafka", "postgres", "mailpit"}
NON_ROOT_UID = "10001"


# --------------------------------------------------------------------------- helpers

_VAR = re.compile(r"\$(?:\$|\{(?P<braced>[^}]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")
_EXPR = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?", re.S)


class MissingDefault(AssertionError):
    pass


def interpolate(value: Any, env: Mapping[str, str] | None = None) -> Any:
    """Resolve Compose `${VAR...}` interpolation the way `docker compose` would with `env`.

    `${X:-d}` / `${X-d}` give d, `${X:?msg}` / `${X?msg}` give a dummy value (compose
    would refuse to start), `$$` is a literal `$`. A variable with neither a default nor a
    required marker raises, so the file never depends on an unset variable silently.
    """
    env = env or {}
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def resolve(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        expr = match.group("braced") if match.group("braced") is not None else match.group("bare")
        parsed = _EXPR.fullmatch(expr)
        assert parsed, f"unparseable interpolation ${{{expr}}} in {value!r}"
        name, op, arg = parsed["name"], parsed["op"], parsed["arg"]
        if name in env and op not in ("+", ":+"):
            return env[name]
        if op in (":-", "-"):
            return arg
        if op in (":?", "?"):
            return f"dummy-{name.lower()}-value-long-enough-for-production"
        raise MissingDefault(f"${{{expr}}} in {value!r} has neither a default (:-) nor a required marker (:?)")

    return _VAR.sub(resolve, value)


@cache
def compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


@cache
def compose_schema() -> dict[str, Any]:
    assert COMPOSE_SCHEMA.is_file(), f"{COMPOSE_SCHEMA} is missing (vendored Compose Specification schema)"
    return json.loads(COMPOSE_SCHEMA.read_text())


def services() -> dict[str, Any]:
    return compose()["services"]


def env_of(service: str) -> dict[str, str]:
    env = services()[service].get("environment", {})
    assert isinstance(env, dict), f"compose service {service}: write environment as a mapping"
    return {k: str(v) for k, v in env.items()}


def resolved_env_of(service: str) -> dict[str, str]:
    return interpolate(env_of(service))


def schema_errors(document: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(compose_schema())
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


def healthcheck_command(service: str) -> str:
    check = services()[service].get("healthcheck")
    assert check, f"compose service {service} has no healthcheck"
    test = check["test"]
    return " ".join(test) if isinstance(test, list) else test


def dockerfile_path(name: str) -> Path:
    return ROOT / "services" / name / "Dockerfile"


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    assert not pending, f"{path}: dangling line continuation"
    return instructions


def instructions_named(path: Path, keyword: str) -> list[str]:
    return [args for kw, args in dockerfile_instructions(path) if kw == keyword]


def k8s_files() -> list[Path]:
    files = sorted(K8S_DIR.glob("*.yaml")) + sorted(K8S_DIR.glob("*.yml"))
    assert files, f"no YAML under {K8S_DIR}"
    return files


@cache
def k8s_documents_by_file() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for path in k8s_files():
        docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
        assert docs, f"{path.name} holds no YAML document"
        out[path.name] = docs
    return out


def k8s_objects(kind: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, docs in k8s_documents_by_file().items():
        for doc in docs:
            if doc.get("kind") == "Kustomization":
                continue
            if kind is None or doc.get("kind") == kind:
                yield name, doc


def k8s_object(kind: str, name: str) -> dict[str, Any]:
    found = [doc for _, doc in k8s_objects(kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected exactly one {kind} named {name!r} under deploy/k8s, found {len(found)}"
    return found[0]


@cache
def kustomization() -> dict[str, Any]:
    path = K8S_DIR / "kustomization.yaml"
    assert path.is_file(), "deploy/k8s/kustomization.yaml is missing"
    return yaml.safe_load(path.read_text())


def only_container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"Deployment {deployment['metadata']['name']}: expected one container"
    return containers[0]


# --------------------------------------------------------------------------- interpolation helper


def test_interpolation_helper_follows_compose_rules() -> None:
    assert interpolate("${A:-x}:${B-y}") == "x:y"
    assert interpolate("${A:-x}", {"A": "set"}) == "set"
    assert interpolate("$$HOME") == "$HOME"
    assert interpolate("${T:?give T}").startswith("dummy-t-")
    assert interpolate({"k": ["${A:-1}", 2]}) == {"k": ["1", 2]}
    with pytest.raises(MissingDefault):
        interpolate("${UNSET}")
    with pytest.raises(MissingDefault):
        interpolate("$UNSET")


# --------------------------------------------------------------------------- compose


def test_vendored_schema_is_the_compose_specification() -> None:
    schema = compose_schema()
    assert schema.get("title") == "Compose Specification", "deploy/schema/compose-spec.json is not the Compose Specification schema"
    assert "draft-07" in schema.get("$schema", ""), "the Compose Specification schema declares JSON Schema draft 07"
    jsonschema.Draft7Validator.check_schema(schema)
    assert {"service", "healthcheck", "deployment"} <= set(schema["definitions"]), "schema looks truncated"


def test_schema_rejects_an_invalid_compose_file() -> None:
    """Guards against a schema that accepts anything."""
    bad = {"services": {"x": {"image": "busybox", "depends_on": {"y": {"restart": True}}, "bogus_key": 1}}}
    errors = schema_errors(bad)
    assert any("bogus_key" in e for e in errors), f"schema accepted an unknown service key: {errors}"
    assert any("depends_on" in e for e in errors), f"schema accepted depends_on without condition: {errors}"


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    errors = schema_errors(compose())
    assert not errors, "docker-compose.yml (raw) violates the Compose Specification:\n" + "\n".join(errors)


def test_compose_file_is_valid_after_interpolation() -> None:
    errors = schema_errors(interpolate(compose()))
    assert not errors, "docker-compose.yml (interpolated) violates the Compose Specification:\n" + "\n".join(errors)


def test_compose_uses_the_specification_format_and_defines_the_stack() -> None:
    assert "version" not in compose(), "drop the obsolete top-level `version:` key (Compose Specification)"
    assert set(services()) == INFRA | set(SERVICES), f"compose services are {sorted(services())}"
    images = {name: services()[name].get("image", "") for name in INFRA}
    assert images["kafka"] == "apache/kafka:3.9.0", images
    assert images["postgres"] == "postgres:16", images
    assert images["mailpit"].startswith("axllent/mailpit"), images


def test_every_service_has_a_healthcheck_and_restarts() -> None:
    for name, service in services().items():
        assert service.get("healthcheck", {}).get("test"), f"compose service {name} has no healthcheck"
        assert service.get("restart") == "unless-stopped", f"compose service {name}: restart should be unless-stopped"


def test_depends_on_names_defined_services_with_a_condition() -> None:
    for name, service in services().items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"compose service {name}: depends_on must be a mapping with conditions"
        for target, spec in depends.items():
            assert target in services(), f"compose service {name} depends on undefined service {target!r}"
            assert target != name, f"compose service {name} depends on itself"
            assert isinstance(spec, dict) and spec.get("condition"), f"{name} -> {target}: depends_on needs a condition"
            if spec["condition"] == "service_healthy":
                assert services()[target].get("healthcheck"), f"{name} waits for {target} healthy but {target} has no healthcheck"


def test_dependency_graph() -> None:
    for name in BUSINESS:
        depends = services()[name]["depends_on"]
        for infra in ("kafka", "postgres"):
            assert depends.get(infra, {}).get("condition") == "service_healthy", f"{name} must wait for {infra} healthy"
    assert services()["notifications"]["depends_on"].get("mailpit", {}).get("condition") == "service_healthy", (
        "notifications must wait for mailpit healthy"
    )
    gateway = services()["gateway"]["depends_on"]
    for target in [*BUSINESS, "postgres"]:
        assert gateway.get(target, {}).get("condition") == "service_healthy", f"gateway must wait for {target} healthy"


@pytest.mark.parametrize("name", list(SERVICES))
def test_built_service_in_compose(name: str) -> None:
    service = services()[name]
    build = service.get("build")
    assert isinstance(build, dict), f"compose service {name} must be built (build: {{context, dockerfile}})"
    assert build.get("context") == ".", f"{name}: the build context must be the repository root"
    dockerfile = ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
    assert dockerfile == dockerfile_path(name), f"{name}: build.dockerfile should be services/{name}/Dockerfile"
    assert dockerfile.is_file(), f"{dockerfile} does not exist"

    port = SERVICES[name]
    check = healthcheck_command(name)
    assert f"127.0.0.1:{port}/readyz" in check, f"{name}: compose healthcheck should probe http://127.0.0.1:{port}/readyz, got {check!r}"

    env = resolved_env_of(name)
    assert env.get("HTTP_HOST") == "0.0.0.0", f"{name}: HTTP_HOST must be 0.0.0.0 in a container"
    port_var = "PORTAL_GATEWAY_PORT" if name == "gateway" else "HTTP_PORT"
    assert env.get(port_var) == str(port), f"{name}: {port_var} should be {port}"
    url = env.get("DATABASE_URL", "")
    assert re.fullmatch(rf"postgresql://[^:@/]+:[^@/]+@postgres:5432/portal_{name}", url), (
        f"{name}: DATABASE_URL should point at its own database portal_{name} on postgres, got {url!r}"
    )
    assert env.get("PORTAL_ENV") == "production", f"{name}: PORTAL_ENV should default to production"
    if name == "gateway":
        assert "KAFKA_BOOTSTRAP" not in env, "the gateway does not use Kafka"
    else:
        assert env.get("KAFKA_BOOTSTRAP") == "kafka:9092", f"{name}: KAFKA_BOOTSTRAP should be kafka:9092"
        assert env.get("KAFKA_REPLICATION_FACTOR") == "1", f"{name}: a single broker needs replication factor 1"


def test_service_specific_settings() -> None:
    assert resolved_env_of("customers").get("PUBLIC_URL", "").startswith("http"), "customers needs PUBLIC_URL"
    assert resolved_env_of("notifications").get("SMTP_URL") == "smtp://mailpit:1025", "notifications should default to Mailpit"


def test_each_service_has_its_own_database() -> None:
    urls = [resolved_env_of(name)["DATABASE_URL"] for name in SERVICES]
    assert len(set(urls)) == len(urls), f"services share a database: {urls}"


def test_gateway_secrets_are_required_and_routes_match_services() -> None:
    raw = env_of("gateway")
    for var in ("PORTAL_OPERATOR_TOKEN", "PORTAL_TOKEN_SECRET"):
        assert re.fullmatch(rf"\$\{{{var}:\?[^}}]+\}}", raw.get(var, "")), (
            f"gateway {var} must be `${{{var}:?message}}` so compose refuses to start without it, got {raw.get(var)!r}"
        )
    env = resolved_env_of("gateway")
    for name in BUSINESS:
        var = f"{name.upper()}_URL"
        assert env.get(var) == f"http://{name}:{SERVICES[name]}", f"gateway {var} should be http://{name}:{SERVICES[name]}"


def test_only_the_gateway_is_published() -> None:
    ports = interpolate(services()["gateway"].get("ports", []))
    assert "8080:8080" in ports, f"gateway should publish ${{PORTAL_GATEWAY_PORT:-8080}}:8080, got {ports}"
    assert services()["gateway"]["ports"] == ["${PORTAL_GATEWAY_PORT:-8080}:8080"], "host port must follow PORTAL_GATEWAY_PORT"
    for name in [*BUSINESS, "kafka", "postgres"]:
        assert not services()[name].get("ports"), f"{name} must not be published on the host"


def test_kafka_is_a_single_kraft_node() -> None:
    kafka = services()["kafka"]
    env = {k: str(v) for k, v in kafka["environment"].items()}
    expected = {
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093",
        "KAFKA_ADVERTISED_LISTENERS": "PLAINTEXT://kafka:9092",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
    }
    for key, value in expected.items():
        assert env.get(key) == value, f"kafka {key} should be {value!r}, got {env.get(key)!r}"
    node = env.get("KAFKA_NODE_ID")
    assert node and env.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "").startswith(f"{node}@"), "quorum voter must be this node"
    protocols = dict(item.split(":") for item in env.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "").split(","))
    assert {"PLAINTEXT", "CONTROLLER"} <= set(protocols), f"listener security protocol map is incomplete: {protocols}"
    assert "kafka-broker-api-versions.sh --bootstrap-server localhost:9092" in healthcheck_command("kafka")
    log_dirs = env.get("KAFKA_LOG_DIRS")
    assert any(str(v).endswith(f":{log_dirs}") for v in kafka.get("volumes", [])), "kafka data (KAFKA_LOG_DIRS) must be on a volume"


def test_postgres_creates_the_five_databases() -> None:
    postgres = services()["postgres"]
    assert interpolate(postgres["environment"]["POSTGRES_PASSWORD"]) == "portal", "POSTGRES_PASSWORD should default from env"
    assert str(postgres["environment"]["POSTGRES_PASSWORD"]).startswith("${POSTGRES_PASSWORD"), "password must come from env"
    assert "pg_isready" in healthcheck_command("postgres")
    mounts = [str(v) for v in postgres.get("volumes", [])]
    init = [m for m in mounts if ":/docker-entrypoint-initdb.d/" in m]
    assert init, "postgres must mount deploy/postgres/init-databases.* into /docker-entrypoint-initdb.d"
    source = ROOT / init[0].split(":")[0]
    assert source.is_file(), f"init script {source} does not exist"
    created = set(re.findall(r"CREATE DATABASE\s+(\w+)", source.read_text(), re.I))
    wanted = {f"portal_{name}" for name in SERVICES}
    assert created == wanted, f"{source.name} creates {sorted(created)}, expected {sorted(wanted)}"
    used = {resolved_env_of(name)["DATABASE_URL"].rsplit("/", 1)[1] for name in SERVICES}
    assert used == created, f"compose DATABASE_URLs use {sorted(used)} but the init script creates {sorted(created)}"
    assert any(str(v).startswith("postgres-data:") for v in mounts) and "postgres-data" in compose().get("volumes", {})


# --------------------------------------------------------------------------- Dockerfiles


@pytest.mark.parametrize("name", list(SERVICES))
def test_dockerfile(name: str) -> None:
    path = dockerfile_path(name)
    assert path.is_file(), f"{path} is missing"
    rel = path.relative_to(ROOT)
    port = SERVICES[name]

    froms = instructions_named(path, "FROM")
    assert len(froms) >= 2, f"{rel} must be multi-stage (two FROM lines), found {froms}"
    assert all(f.split()[0] == "python:3.11-slim" for f in froms), f"{rel}: every stage should be python:3.11-slim, got {froms}"
    builder = froms[0].split()
    assert len(builder) == 3 and builder[1].upper() == "AS", f"{rel}: name the first stage (FROM ... AS builder)"
    copies_from = [c for c in instructions_named(path, "COPY") if c.startswith(f"--from={builder[2]} ")]
    assert copies_from == [f"--from={builder[2]} /opt/venv /opt/venv"], f"{rel}: the final stage must copy /opt/venv from the builder"

    runs = " ".join(instructions_named(path, "RUN"))
    assert re.search(rf"pip install \./shared \./services/{name}\b", runs), f"{rel}: builder must `pip install ./shared ./services/{name}`"
    assert " -e " not in f" {runs} " and "--editable" not in runs, f"{rel}: install non-editable"
    copies = instructions_named(path, "COPY")
    assert "shared/ shared/" in copies and f"services/{name}/ services/{name}/" in copies, f"{rel}: copy shared/ and services/{name}/"

    users = instructions_named(path, "USER")
    assert users, f"{rel} has no USER: the image would run as root"
    final_user = users[-1].split(":")[0]
    assert final_user not in {"root", "0"}, f"{rel}: final USER is {users[-1]!r}, must be non-root"
    assert final_user == NON_ROOT_UID, f"{rel}: run as uid {NON_ROOT_UID} (numeric, so runAsNonRoot can verify it)"
    assert f"--uid {NON_ROOT_UID}" in runs, f"{rel}: create the user with uid {NON_ROOT_UID}"

    env = " ".join(instructions_named(path, "ENV"))
    for setting in ("HTTP_HOST=0.0.0.0", "PYTHONUNBUFFERED=1", "PATH=/opt/venv/bin:$PATH"):
        assert setting in env, f"{rel}: ENV must set {setting}"
    assert instructions_named(path, "EXPOSE") == [str(port)], f"{rel}: EXPOSE {port}"

    healthchecks = instructions_named(path, "HEALTHCHECK")
    assert len(healthchecks) == 1, f"{rel} needs one HEALTHCHECK"
    assert "CMD [\"python\"" in healthchecks[0], f"{rel}: HEALTHCHECK should use python (no curl in slim)"
    assert "/healthz" in healthchecks[0] and f"'{port}'" in healthchecks[0], f"{rel}: HEALTHCHECK should probe /healthz on {port}"

    cmds = instructions_named(path, "CMD")
    assert len(cmds) == 1, f"{rel} needs exactly one CMD"
    assert json.loads(cmds[0]) == ["python", "-m", f"portal_{name}"], f"{rel}: CMD must be [\"python\", \"-m\", \"portal_{name}\"]"
    assert not instructions_named(path, "ENTRYPOINT"), f"{rel}: no ENTRYPOINT, so `migrate` can be passed as the command"

    package = ROOT / "services" / name / "src" / f"portal_{name}"
    assert (package / "__main__.py").is_file(), f"{package}/__main__.py missing: CMD runs `python -m portal_{name}`"
    assert (ROOT / "services" / name / "pyproject.toml").is_file(), f"services/{name}/pyproject.toml missing"


def test_dockerfiles_differ_only_by_name_and_port() -> None:
    def normalised(name: str) -> str:
        text = dockerfile_path(name).read_text()
        text = text.replace("PORTAL_GATEWAY_PORT", "HTTP_PORT")
        return text.replace(name, "<name>").replace(str(SERVICES[name]), "<port>")

    reference = normalised("customers")
    for name in SERVICES:
        assert normalised(name) == reference, f"services/{name}/Dockerfile drifted from services/customers/Dockerfile"


def test_dockerignore_keeps_the_context_small() -> None:
    path = ROOT / ".dockerignore"
    assert path.is_file(), ".dockerignore is missing at the repository root"
    patterns = {line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")}
    for needed in (".git", ".venv", ".portal", "**/__pycache__", "**/.pytest_cache", "bench/results"):
        assert needed in patterns, f".dockerignore should exclude {needed}"
    for needed_in_image in ("shared", "services", "services/*", "**/src", "**/pyproject.toml"):
        assert needed_in_image not in patterns, f".dockerignore must not exclude {needed_in_image}"


# --------------------------------------------------------------------------- Kubernetes


def test_k8s_documents_are_well_formed() -> None:
    for file, docs in k8s_documents_by_file().items():
        for doc in docs:
            assert isinstance(doc, dict), f"{file}: every document must be a mapping"
            assert doc.get("apiVersion"), f"{file}: a document has no apiVersion"
            assert doc.get("kind"), f"{file}: a document has no kind"
            if doc["kind"] == "Kustomization":
                continue
            assert doc.get("metadata", {}).get("name"), f"{file}: {doc['kind']} has no metadata.name"
            if doc["kind"] != "Namespace":
                assert doc["metadata"].get("namespace") == "partner-portal", f"{file}: {doc['kind']} must be in namespace partner-portal"
    assert k8s_object("Namespace", "partner-portal")


def test_kustomization_lists_existing_files() -> None:
    kust = kustomization()
    assert kust.get("kind") == "Kustomization" and kust.get("namespace") == "partner-portal"
    resources = kust.get("resources", [])
    assert resources, "kustomization.yaml lists no resources"
    for resource in resources:
        assert (K8S_DIR / resource).is_file(), f"kustomization.yaml lists {resource}, which does not exist"
    assert len(set(resources)) == len(resources), "kustomization.yaml lists a file twice"
    listed = set(resources)
    for path in k8s_files():
        if path.name == "kustomization.yaml":
            continue
        if ".example." in path.name:
            assert path.name not in listed, f"{path.name} is an example and must not be in kustomization resources"
        else:
            assert path.name in listed, f"{path.name} is not listed in kustomization.yaml resources"
    assert "secret.example.yaml" in {p.name for p in k8s_files()}, "deploy/k8s/secret.example.yaml is missing"


@pytest.mark.parametrize("name", list(SERVICES))
def test_k8s_deployment(name: str) -> None:
    deployment = k8s_object("Deployment", name)
    spec = deployment["spec"]
    pod = spec["template"]
    labels = pod["metadata"]["labels"]
    selector = spec["selector"]["matchLabels"]
    assert selector.items() <= labels.items(), f"Deployment {name}: selector {selector} does not match pod labels {labels}"
    assert spec.get("replicas", 1) >= 2, f"Deployment {name}: run at least 2 replicas"

    container = only_container(deployment)
    assert container["image"] == f"ghcr.io/partner-portal/{name}:0.1.0", f"Deployment {name}: image is {container['image']}"
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    assert ports.get("http") == SERVICES[name], f"Deployment {name}: container port 'http' should be {SERVICES[name]}"

    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
        get = container.get(probe, {}).get("httpGet", {})
        assert get.get("path") == path, f"Deployment {name}: {probe} should GET {path}, got {get}"
        assert get.get("port") in ("http", SERVICES[name]), f"Deployment {name}: {probe} should target the http port"

    resources = container.get("resources", {})
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources.get(kind, {})), f"Deployment {name}: resources.{kind} needs cpu and memory"

    pod_security = pod["spec"].get("securityContext", {})
    container_security = container.get("securityContext", {})
    assert pod_security.get("runAsNonRoot") is True or container_security.get("runAsNonRoot") is True, (
        f"Deployment {name}: set runAsNonRoot"
    )
    assert container_security.get("readOnlyRootFilesystem") is True, f"Deployment {name}: readOnlyRootFilesystem"
    assert container_security.get("allowPrivilegeEscalation") is False, f"Deployment {name}: allowPrivilegeEscalation false"
    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
    assert "/tmp" in mounts and "emptyDir" in volumes.get(mounts["/tmp"], {}), f"Deployment {name}: mount an emptyDir on /tmp"


@pytest.mark.parametrize("name", list(SERVICES))
def test_k8s_service_and_pdb_match_the_deployment(name: str) -> None:
    deployment = k8s_object("Deployment", name)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    container = only_container(deployment)
    container_ports = {p.get("name"): p["containerPort"] for p in container["ports"]}

    service = k8s_object("Service", name)
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP", f"Service {name} should be ClusterIP"
    selector = service["spec"].get("selector", {})
    assert selector and selector.items() <= pod_labels.items(), f"Service {name}: selector {selector} does not match pods {pod_labels}"
    [port] = service["spec"]["ports"]
    assert port["port"] == SERVICES[name], f"Service {name} should listen on {SERVICES[name]} (the URLs other processes use)"
    target = port.get("targetPort", port["port"])
    assert container_ports.get(target, target) == SERVICES[name], f"Service {name}: targetPort {target!r} is not the container port"

    pdb = k8s_object("PodDisruptionBudget", name)
    assert pdb["spec"].get("minAvailable") == 1, f"PodDisruptionBudget {name}: minAvailable 1"
    match = pdb["spec"]["selector"]["matchLabels"]
    assert match.items() <= pod_labels.items(), f"PodDisruptionBudget {name}: selector {match} does not match pods"


def test_k8s_configuration_and_secret_references() -> None:
    config = k8s_object("ConfigMap", "portal-config")["data"]
    assert config.get("PORTAL_ENV") == "production"
    assert config.get("KAFKA_REPLICATION_FACTOR") == "3", "a real Kafka cluster needs replication factor 3"
    assert re.fullmatch(r"[\w.-]+:\d+(,[\w.-]+:\d+)*", config.get("KAFKA_BOOTSTRAP", "")), "KAFKA_BOOTSTRAP must be host:port"
    for name in BUSINESS:
        assert config.get(f"{name.upper()}_URL") == f"http://{name}:{SERVICES[name]}", f"ConfigMap {name.upper()}_URL"

    secret_path = K8S_DIR / "secret.example.yaml"
    [secret] = list(yaml.safe_load_all(secret_path.read_text()))
    assert secret["kind"] == "Secret"
    secret_data = secret.get("stringData", {})
    for key, value in secret_data.items():
        assert "CHANGE_ME" in str(value), f"secret.example.yaml {key} must be a CHANGE_ME placeholder, not a real value"
    for name in SERVICES:
        assert f"{name.upper()}_DATABASE_URL" in secret_data, f"secret.example.yaml lacks {name.upper()}_DATABASE_URL"
    for key in ("PORTAL_OPERATOR_TOKEN", "PORTAL_TOKEN_SECRET", "SMTP_URL"):
        assert key in secret_data, f"secret.example.yaml lacks {key}"

    for name in SERVICES:
        container = only_container(k8s_object("Deployment", name))
        config_refs = [e["configMapRef"]["name"] for e in container.get("envFrom", []) if "configMapRef" in e]
        assert config_refs == ["portal-config"], (
            f"Deployment {name}: envFrom should load ConfigMap portal-config"
        )
        env: dict[str, Any] = {}
        for item in container.get("env", []):
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["name"] == secret["metadata"]["name"], f"Deployment {name}: {item['name']} reads unknown Secret {ref['name']}"
                assert ref["key"] in secret_data, f"Deployment {name}: {item['name']} reads key {ref['key']} missing from the Secret"
                env[item["name"]] = ("secret", ref["key"])
            else:
                env[item["name"]] = ("value", item.get("value"))
        assert env.get("DATABASE_URL") == ("secret", f"{name.upper()}_DATABASE_URL"), f"Deployment {name}: DATABASE_URL"
        port_var = "PORTAL_GATEWAY_PORT" if name == "gateway" else "HTTP_PORT"
        assert env.get(port_var) == ("value", str(SERVICES[name])), f"Deployment {name}: {port_var} should be {SERVICES[name]}"
        if name == "gateway":
            for var in ("PORTAL_OPERATOR_TOKEN", "PORTAL_TOKEN_SECRET"):
                assert env.get(var) == ("secret", var), f"Deployment gateway: {var} must come from the Secret"
        if name == "notifications":
            assert env.get("SMTP_URL") == ("secret", "SMTP_URL"), "Deployment notifications: SMTP_URL from the Secret"
        if name == "customers":
            assert "PUBLIC_URL" in env, "Deployment customers: PUBLIC_URL must be set"


def test_k8s_gateway_exposure_and_autoscaling() -> None:
    ingresses = [doc for _, doc in k8s_objects("Ingress")]
    assert ingresses, "an Ingress example for the gateway is missing"
    gateway_service = k8s_object("Service", "gateway")
    port_names = {p.get("name") for p in gateway_service["spec"]["ports"]} | {p["port"] for p in gateway_service["spec"]["ports"]}
    for ingress in ingresses:
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["name"] == "gateway", "the Ingress must route to the gateway only"
                port = backend["port"].get("name", backend["port"].get("number"))
                assert port in port_names, f"Ingress backend port {port!r} is not a port of Service gateway"
    for _, hpa in k8s_objects("HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] in SERVICES, f"HPA targets unknown {target}"
        assert hpa["spec"]["minReplicas"] >= 2, "HPA minReplicas should keep at least 2 pods"
        assert hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"]


# --------------------------------------------------------------------------- trust boundary (issue 15 finding 6)


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert not selector.get("matchExpressions"), "write pod selectors as matchLabels (checked here)"
    return selector.get("matchLabels", {}).items() <= labels.items()


def test_every_process_requires_the_service_token_keys() -> None:
    for name in SERVICES:
        raw = env_of(name).get("SERVICE_TOKEN_KEYS", "")
        assert re.fullmatch(r"\$\{SERVICE_TOKEN_KEYS:\?[^}]+\}", raw), (
            f"compose {name}: SERVICE_TOKEN_KEYS must be `${{SERVICE_TOKEN_KEYS:?message}}`, got {raw!r}"
        )
    [secret] = list(yaml.safe_load_all((K8S_DIR / "secret.example.yaml").read_text()))
    assert "SERVICE_TOKEN_KEYS" in secret["stringData"], "secret.example.yaml lacks SERVICE_TOKEN_KEYS"
    for name in SERVICES:
        env = {item["name"]: item for item in only_container(k8s_object("Deployment", name)).get("env", [])}
        ref = env.get("SERVICE_TOKEN_KEYS", {}).get("valueFrom", {}).get("secretKeyRef")
        assert ref == {"name": secret["metadata"]["name"], "key": "SERVICE_TOKEN_KEYS"}, (
            f"Deployment {name}: SERVICE_TOKEN_KEYS must come from the Secret"
        )


def test_k8s_network_policies_deny_ingress_and_let_only_the_gateway_reach_the_services() -> None:
    policies = [doc for _, doc in k8s_objects("NetworkPolicy")]
    assert "networkpolicies.yaml" in kustomization()["resources"], "the NetworkPolicies must be applied with the rest"
    assert any(p["spec"]["podSelector"] == {} and p["spec"].get("policyTypes") == ["Ingress"] and not p["spec"].get("ingress")
               for p in policies), "a default-deny ingress policy for every pod of the namespace is missing"
    pods = {name: k8s_object("Deployment", name)["spec"]["template"]["metadata"]["labels"] for name in SERVICES}
    for name, labels in pods.items():
        rules = [rule for p in policies if _selects(p["spec"]["podSelector"], labels) for rule in p["spec"].get("ingress", [])]
        assert rules, f"no NetworkPolicy lets anything reach {name}"
        for rule in rules:
            sources = rule.get("from")
            assert sources, f"{name}: an ingress rule without `from` admits every source"
            ports = [port.get("port") for port in rule.get("ports", [])]
            assert ports and all(port in (SERVICES[name], "http") for port in ports), f"{name}: rule opens {ports}"
            for source in sources:
                assert "ipBlock" not in source, f"{name}: an ipBlock source bypasses the pod selectors"
                if name == "gateway":
                    assert "namespaceSelector" in source and "podSelector" not in source, (
                        "the gateway is reached from the ingress controller's namespace only"
                    )
                    continue
                assert "namespaceSelector" not in source, f"{name}: only pods of this namespace may reach it"
                reached_by = {other for other, other_labels in pods.items() if _selects(source["podSelector"], other_labels)}
                assert reached_by == {"gateway"}, f"{name} is reachable from {sorted(reached_by)}, not only the gateway"
