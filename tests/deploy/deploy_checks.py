"""The rules the deployment files keep, as functions that return what breaks them (empty: nothing).

The facts come from the code: each module's descriptor (name, depends_on, route_prefixes, database), the API
prefix, the health and docs paths, the body limit, the correlation header and the `run` command's options. The
tests feed the real files through these functions, and broken copies of them, so each rule is shown to bite.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bootstrap.app import API_PREFIX, MAX_BODY_BYTES
from bootstrap.catalog import available_modules, load_descriptor
from kernel.correlation import HEADER as CORRELATION_HEADER
from kernel.http.docs_ui import DOCS_PATH
from kernel.settings import KNOWN_DEFAULT_PASSWORDS

REPO = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO / "compose"
KUBERNETES_DIR = REPO / "deploy" / "kubernetes"
DOCKERFILE = REPO / "Dockerfile"
GATEWAY_CONF = COMPOSE_DIR / "gateway" / "nginx.conf"

# The old topology's ports (docs/architecture.md §9): a new module needs one here, and then everywhere else.
OLD_PORTS = {"auth": 3001, "user": 3003, "customer": 3004, "carrier": 3005, "pricing": 3006}
# The MySQL database of each module in the hybrid layout (docs/databases.md); auth and user share one.
DATABASES = {
    "auth": "shared_user_db",
    "user": "shared_user_db",
    "customer": "customer_service_db",
    "carrier": "carrier_service_db",
    "pricing": "pricing_service_db",
}
# Modules that run more than one replica on Kubernetes.
REPLICATED = {"pricing"}
APP_UID = 10001
SINGLE_PROCESS_PORT = 8000

LIVE_PATH = f"{API_PREFIX}/health/live"
READY_PATH = f"{API_PREFIX}/health/ready"
HEALTH_PATH = f"{API_PREFIX}/health"

# Setting names whose values are secrets: never written inline in a manifest.
SECRET_NAME = re.compile(r"(DATABASE_URL|REDIS_URL|PASSWORD|SECRET|TOKEN|PRIVATE_KEY)$")


@dataclass(frozen=True)
class ModuleFacts:
    name: str
    port: int
    depends_on: tuple[str, ...]
    route_prefixes: tuple[str, ...]
    database: str

    @property
    def api_prefixes(self) -> tuple[str, ...]:
        return tuple(API_PREFIX + prefix for prefix in self.route_prefixes)

    @property
    def target(self) -> str:
        """Where the module answers in the split topologies: its service name and old port."""
        return f"{self.name}:{self.port}"


def module_facts(names: Iterable[str] | None = None) -> list[ModuleFacts]:
    """Every module's facts; a module with no old port or no database here is a KeyError naming it."""
    facts = []
    for name in names or available_modules():
        descriptor = load_descriptor(name)
        facts.append(
            ModuleFacts(
                name=name,
                port=OLD_PORTS[name],
                depends_on=tuple(sorted(descriptor.depends_on)),
                route_prefixes=tuple(descriptor.route_prefixes),
                database=DATABASES[name],
            )
        )
    return facts


# --- routes: the gateway and the Ingress ------------------------------------------------------------------

_LOCATION = re.compile(
    r"location\s+~\s+\^(?P<base>/[^\s(]*)(?:\((?P<alternatives>[^)]*)\))?\(/\|\$\)\s*\{(?P<body>[^}]*)\}"
)
_TARGET = re.compile(r"set\s+\$module\s+(?P<target>[\w.-]+:\d+)\s*;")


def strip_nginx_comments(conf: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in conf.splitlines())


def gateway_routes(conf: str) -> dict[str, str]:
    """`/api/v1/users` -> `user:3003` for every `location ~ ^/base(a|b)(/|$) { set $module host:port; ... }`."""
    routes: dict[str, str] = {}
    for match in _LOCATION.finditer(strip_nginx_comments(conf)):
        body = match.group("body")
        target = _TARGET.search(body)
        if target is None or "proxy_pass http://$module" not in body:
            continue
        alternatives = (match.group("alternatives") or "").split("|")
        for alternative in alternatives:
            routes[match.group("base") + alternative] = target.group("target")
    return routes


def route_problems(routes: Mapping[str, str], facts: Sequence[ModuleFacts], where: str) -> list[str]:
    """Every route prefix of every module goes to that module; health and docs go to some module; nothing
    goes anywhere else."""
    problems = []
    targets = {f.target for f in facts}
    for module in facts:
        for prefix in module.api_prefixes:
            routed = routes.get(prefix)
            if routed is None:
                problems.append(f"{where}: no route for {prefix} (module {module.name})")
            elif routed != module.target:
                problems.append(f"{where}: {prefix} goes to {routed}, not to {module.target}")
    for path in (HEALTH_PATH, DOCS_PATH):
        if path not in routes:
            problems.append(f"{where}: no route for {path}")
    for prefix, routed in sorted(routes.items()):
        if routed not in targets:
            problems.append(f"{where}: {prefix} goes to {routed}, which is no module")
    return problems


def _size_bytes(value: str) -> int:
    """An nginx size (`512k`, `2m`) in bytes; 0 when it is none."""
    match = re.fullmatch(r"(\d+)([kKmMgG]?)", value)
    if match is None:
        return 0
    return int(match.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]


def gateway_problems(conf: str, facts: Sequence[ModuleFacts]) -> list[str]:
    problems = route_problems(gateway_routes(conf), facts, "gateway")
    text = strip_nginx_comments(conf)
    directives = {m.group(1): m.group(2).strip() for m in re.finditer(r"^\s*([a-z_]+)\s+([^;{]*);", text, re.M)}
    headers = {
        m.group(1).lower(): m.group(2) for m in re.finditer(r"^\s*proxy_set_header\s+(\S+)\s+([^;]*);", text, re.M)
    }
    if headers.get("x-forwarded-for") not in {"$remote_addr", "$proxy_add_x_forwarded_for"}:
        problems.append("gateway: X-Forwarded-For is not set from the client's address")
    if CORRELATION_HEADER not in headers:
        problems.append(f"gateway: {CORRELATION_HEADER} is not passed on")
    body = directives.get("client_max_body_size")
    if body is None or _size_bytes(body) < MAX_BODY_BYTES:
        problems.append(f"gateway: client_max_body_size must be set and at least the API's {MAX_BODY_BYTES} bytes")
    for timeout in ("proxy_connect_timeout", "proxy_read_timeout", "proxy_send_timeout"):
        if timeout not in directives:
            problems.append(f"gateway: {timeout} is not set")
    return problems


def ingress_routes(documents: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """`/api/v1/users` -> `user:3003` for every Ingress path, resolving named Service ports."""
    service_ports = {
        (doc["metadata"]["name"], port.get("name")): port["port"]
        for doc in documents
        if doc.get("kind") == "Service"
        for port in doc["spec"]["ports"]
    }
    routes: dict[str, str] = {}
    for doc in documents:
        if doc.get("kind") != "Ingress":
            continue
        for rule in doc["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                service = path["backend"]["service"]
                port = service["port"].get("number") or service_ports.get(
                    (service["name"], service["port"].get("name"))
                )
                routes[path["path"]] = f"{service['name']}:{port}"
    return routes


# --- compose ----------------------------------------------------------------------------------------------


def _environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def _published(service: Mapping[str, Any]) -> list[str]:
    """Published ports as `host_ip:published:target` (empty host_ip: every interface)."""
    published = []
    for port in service.get("ports") or []:
        if isinstance(port, Mapping):
            published.append(f"{port.get('host_ip', '')}:{port.get('published', '')}:{port['target']}")
            continue
        parts = str(port).split("/", 1)[0].split(":")
        host_ip, host, target = ([""] * (3 - len(parts)) + parts)[-3:]
        published.append(f"{host_ip}:{host}:{target}")
    return published


def _command(service: Mapping[str, Any]) -> str:
    command = service.get("command") or ""
    return " ".join(command) if isinstance(command, list) else str(command)


def _healthcheck(service: Mapping[str, Any]) -> str:
    test = (service.get("healthcheck") or {}).get("test") or ""
    return " ".join(test) if isinstance(test, list) else str(test)


def _depends(service: Mapping[str, Any]) -> dict[str, str]:
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return dict.fromkeys(depends, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in depends.items()}


def _mounts(service: Mapping[str, Any]) -> list[tuple[str, str]]:
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, Mapping):
            mounts.append((str(volume.get("source", "")), str(volume["target"])))
        else:
            source, _, rest = str(volume).partition(":")
            mounts.append((source, rest.split(":", 1)[0]))
    return mounts


def _redis_problems(services: Mapping[str, Any]) -> list[str]:
    redis = services.get("redis")
    if redis is None:
        return ["compose: no redis service"]
    problems = []
    if "--appendonly yes" not in _command(redis):
        problems.append("redis: not started with --appendonly yes")
    if not any(target == "/data" for _, target in _mounts(redis)):
        problems.append("redis: /data is not on a volume")
    return problems


def _mysql_databases(service: Mapping[str, Any]) -> dict[str, str]:
    """What a MySQL service creates: database -> user, from FREIGHTDESK_DATABASES (`database=name` pairs)."""
    pairs = _environment(service).get("FREIGHTDESK_DATABASES", "").split()
    return {pair.partition("=")[0]: "freightdesk_" + pair.partition("=")[2] for pair in pairs}


def _mysql_problems(name: str, service: Mapping[str, Any]) -> list[str]:
    problems = []
    if not re.fullmatch(r"mysql:8\.\d+(\.\d+)?", str(service.get("image", ""))):
        problems.append(f"{name}: image {service.get('image')!r} is not MySQL 8")
    if not any(target.startswith("/docker-entrypoint-initdb.d/") for _, target in _mounts(service)):
        problems.append(f"{name}: no init script under /docker-entrypoint-initdb.d/")
    env = _environment(service)
    for database, user in _mysql_databases(service).items():
        variable = f"FREIGHTDESK_{user.removeprefix('freightdesk_').upper()}_DB_PASSWORD"
        if not env.get(variable):
            problems.append(f"{name}: {database} has no password ({variable})")
    if "MYSQL_ROOT_PASSWORD" in env:
        problems.append(f"{name}: a root password in the environment (use MYSQL_RANDOM_ROOT_PASSWORD)")
    return problems


def _database_url_problems(
    where: str, module: ModuleFacts, url: str | None, mysql: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    setting = f"{module.name.upper()}_DATABASE_URL"
    if not url:
        return [f"{where}: {setting} is not set"]
    parts = urlsplit(url)
    problems = []
    if not parts.scheme.startswith("mysql"):
        problems.append(f"{where}: {setting} is not a MySQL URL")
    if parts.path.strip("/") != module.database:
        problems.append(f"{where}: {setting} names {parts.path.strip('/')!r}, not {module.database!r}")
    if (parts.password or "") in KNOWN_DEFAULT_PASSWORDS:
        problems.append(f"{where}: {setting} has an empty or documented default password")
    server = mysql.get(parts.hostname or "")
    if server is None:
        problems.append(f"{where}: {setting} points at {parts.hostname!r}, which is no MySQL service")
    else:
        databases = _mysql_databases(server)
        if databases.get(module.database) != parts.username:
            problems.append(f"{where}: {setting} logs in as {parts.username!r}, not as {module.database}'s own user")
        variable = f"FREIGHTDESK_{(parts.username or '').removeprefix('freightdesk_').upper()}_DB_PASSWORD"
        if _environment(server).get(variable) != parts.password:
            problems.append(f"{where}: {setting} has another password than {parts.hostname} gives its user")
    return problems


def _published_problems(services: Mapping[str, Any], public: str) -> list[str]:
    problems = []
    for name, service in services.items():
        published = _published(service)
        if name != public and published:
            problems.append(f"{name}: publishes {published}; only {public} may")
    public_ports = _published(services.get(public, {}))
    if public_ports != [f"127.0.0.1:{SINGLE_PROCESS_PORT}:{SINGLE_PROCESS_PORT}"]:
        problems.append(f"{public}: publishes {public_ports}, expected 127.0.0.1:8000:8000 by default")
    return problems


def _long_running_problems(name: str, service: Mapping[str, Any], probe: str) -> list[str]:
    problems = []
    if service.get("restart") != "unless-stopped":
        problems.append(f"{name}: restart is {service.get('restart')!r}, not 'unless-stopped'")
    if probe not in _healthcheck(service):
        problems.append(f"{name}: its healthcheck does not call {probe}")
    return problems


def _migration_problems(
    name: str, service: Mapping[str, Any], migration: str, migrated: Sequence[ModuleFacts], services: Mapping[str, Any]
) -> list[str]:
    if _depends(service).get(migration) != "service_completed_successfully":
        return [f"{name}: does not wait for {migration} to complete successfully"]
    step = services.get(migration)
    if step is None:
        return [f"{name}: depends on {migration}, which does not exist"]
    problems = []
    if "freightdesk db upgrade" not in _command(step):
        problems.append(f"{migration}: does not run freightdesk db upgrade")
    env, hosted_env = _environment(step), _environment(service)
    modules = [m for m in env.get("FREIGHTDESK_MODULES", "").split(",") if m]
    for module in migrated:
        if modules and module.name not in modules:
            problems.append(f"{migration}: does not migrate {module.name}")
        setting = f"{module.name.upper()}_DATABASE_URL"
        if env.get(setting) != hosted_env.get(setting):
            problems.append(f"{migration}: migrates another {setting} than {name} uses")
    return problems


def single_compose_problems(config: Mapping[str, Any], facts: Sequence[ModuleFacts]) -> list[str]:
    """compose/docker-compose.yml, as `docker-compose config` resolved it."""
    services: Mapping[str, Any] = config.get("services") or {}
    app = services.get("freightdesk")
    if app is None:
        return ["compose: no freightdesk service"]
    mysql = {name: s for name, s in services.items() if str(s.get("image", "")).startswith("mysql")}
    problems = _redis_problems(services) + _published_problems(services, "freightdesk")
    problems += _long_running_problems("freightdesk", app, LIVE_PATH)
    if len(mysql) != 1:
        problems.append(f"compose: {len(mysql)} MySQL services, expected one holding every database")
    for name, server in mysql.items():
        problems += _mysql_problems(name, server)
    env = _environment(app)
    if env.get("FREIGHTDESK_MODULES"):
        problems.append("freightdesk: FREIGHTDESK_MODULES is set; the single process hosts every module")
    for module in facts:
        problems += _database_url_problems("freightdesk", module, env.get(f"{module.name.upper()}_DATABASE_URL"), mysql)
    problems += _migration_problems("freightdesk", app, "migrate", facts, services)
    return problems


def hybrid_compose_problems(config: Mapping[str, Any], facts: Sequence[ModuleFacts]) -> list[str]:
    """compose/docker-compose.hybrid.yml, as `docker-compose config` resolved it."""
    services: Mapping[str, Any] = config.get("services") or {}
    mysql = {name: s for name, s in services.items() if str(s.get("image", "")).startswith("mysql")}
    problems = _redis_problems(services) + _published_problems(services, "gateway")
    databases = {m.database for m in facts}
    if len(mysql) != len(databases):
        problems.append(f"compose: {len(mysql)} MySQL services for {len(databases)} databases")
    for name, server in mysql.items():
        problems += _mysql_problems(name, server)
        if len(_mysql_databases(server)) != 1:
            problems.append(f"{name}: holds {sorted(_mysql_databases(server))}, expected one database")

    gateway = services.get("gateway")
    if gateway is None:
        problems.append("compose: no gateway service")
    else:
        if not str(gateway.get("image", "")).startswith("nginx:"):
            problems.append(f"gateway: image {gateway.get('image')!r} is not the official nginx")
        if not any(s.endswith("gateway/nginx.conf") and t == "/etc/nginx/nginx.conf" for s, t in _mounts(gateway)):
            problems.append("gateway: compose/gateway/nginx.conf is not mounted as /etc/nginx/nginx.conf")

    for module in facts:
        service = services.get(module.name)
        if service is None:
            problems.append(f"compose: no service for module {module.name}")
            continue
        env = _environment(service)
        where = module.name
        problems += _long_running_problems(where, service, LIVE_PATH)
        if env.get("FREIGHTDESK_MODULES") != module.name:
            problems.append(f"{where}: FREIGHTDESK_MODULES is {env.get('FREIGHTDESK_MODULES')!r}")
        if env.get("PORT") != str(module.port):
            problems.append(f"{where}: PORT is {env.get('PORT')!r}, not the old topology's {module.port}")
        if env.get("FREIGHTDESK_EVENT_TRANSPORT") != "redis":
            problems.append(f"{where}: FREIGHTDESK_EVENT_TRANSPORT is not redis")
        if not env.get("REDIS_URL", "").startswith("redis://redis:"):
            problems.append(f"{where}: REDIS_URL does not name the shared redis service")
        if not env.get("FREIGHTDESK_SERVICE_SECRET"):
            problems.append(f"{where}: FREIGHTDESK_SERVICE_SECRET is not set")
        for dependency in module.depends_on:
            expected = f"http://{dependency}:{OLD_PORTS[dependency]}"
            if env.get(f"{dependency.upper()}_SERVICE_URL") != expected:
                problems.append(f"{where}: {dependency.upper()}_SERVICE_URL is not {expected}")
        holds_private_key = "FREIGHTDESK_JWT_PRIVATE_KEY_FILE" in env
        if holds_private_key != (module.name == "auth"):
            problems.append(f"{where}: only auth may hold the signing key (FREIGHTDESK_JWT_PRIVATE_KEY_FILE)")
        problems += _database_url_problems(where, module, env.get(f"{module.name.upper()}_DATABASE_URL"), mysql)
        migrations = [n for n, c in _depends(service).items() if n.startswith("migrate")]
        if len(migrations) != 1:
            problems.append(f"{where}: depends on {migrations}, expected the one migration of its database")
        else:
            problems += _migration_problems(where, service, migrations[0], [module], services)
    return problems


# --- Kubernetes -------------------------------------------------------------------------------------------


def _containers(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    pod = doc["spec"]["template"]["spec"]
    return [*pod.get("initContainers", []), *pod["containers"]]


def _env_vars(container: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


def _secret_ref(variable: Mapping[str, Any] | None) -> tuple[str, str] | None:
    ref = ((variable or {}).get("valueFrom") or {}).get("secretKeyRef")
    return (ref["name"], ref["key"]) if ref else None


def _probe_problems(where: str, container: Mapping[str, Any], port: int) -> list[str]:
    problems = []
    names = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    for probe, path in (("readinessProbe", READY_PATH), ("livenessProbe", LIVE_PATH)):
        http = (container.get(probe) or {}).get("httpGet") or {}
        probed = names.get(http.get("port"), http.get("port"))
        if http.get("path") != path or probed != port:
            problems.append(f"{where}: {probe} must GET {path} on port {port}")
    return problems


def _security_problems(where: str, doc: Mapping[str, Any]) -> list[str]:
    pod = doc["spec"]["template"]["spec"]
    problems = []
    for container in _containers(doc):
        context = {**(pod.get("securityContext") or {}), **(container.get("securityContext") or {})}
        user = context.get("runAsUser")
        if context.get("runAsNonRoot") is not True:
            problems.append(f"{where}: {container['name']} does not set runAsNonRoot")
        if not isinstance(user, int) or isinstance(user, bool) or user != APP_UID:
            problems.append(f"{where}: {container['name']} does not run as the image's numeric user {APP_UID}")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: {container['name']} allows privilege escalation")
        if context.get("readOnlyRootFilesystem") is True:
            writable = {m["mountPath"] for m in container.get("volumeMounts", [])}
            if "/app/var" not in writable:
                problems.append(f"{where}: read-only root without a volume for the data dir /app/var")
        resources = container.get("resources") or {}
        for kind in ("requests", "limits"):
            if not {"cpu", "memory"} <= set(resources.get(kind) or {}):
                problems.append(f"{where}: {container['name']} has no cpu and memory {kind}")
    return problems


def _inline_secret_problems(documents: Sequence[Mapping[str, Any]]) -> list[str]:
    problems = []
    for doc in documents:
        kind, name = doc.get("kind"), doc.get("metadata", {}).get("name")
        if kind == "Secret" and (doc.get("data") or doc.get("stringData")):
            problems.append(f"Secret {name}: holds values; secrets are created by the operator, not committed")
        if kind == "ConfigMap":
            for key in doc.get("data") or {}:
                if SECRET_NAME.search(key):
                    problems.append(f"ConfigMap {name}: {key} is a secret")
        if kind in {"Deployment", "Job", "StatefulSet", "DaemonSet", "CronJob"}:
            for container in _containers(doc):
                for variable in container.get("env", []):
                    if SECRET_NAME.search(variable["name"]) and "value" in variable:
                        problems.append(f"{kind} {name}: {variable['name']} is written inline, not a secretKeyRef")
    return problems


def kubernetes_problems(documents: Sequence[Mapping[str, Any]], facts: Sequence[ModuleFacts]) -> list[str]:
    """The manifests in deploy/kubernetes (every document of every file, migrations included)."""
    problems: list[str] = []
    by_kind: dict[str, dict[str, Mapping[str, Any]]] = {}
    for doc in documents:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    namespaces = set(by_kind.get("Namespace", {}))
    if len(namespaces) != 1:
        return [f"expected one Namespace, found {sorted(namespaces)}"]
    namespace = namespaces.pop()
    for doc in documents:
        if doc["kind"] != "Namespace" and doc["metadata"].get("namespace") != namespace:
            problems.append(f"{doc['kind']} {doc['metadata']['name']}: not in the namespace {namespace}")
    problems += _inline_secret_problems(documents)
    deployments, services = by_kind.get("Deployment", {}), by_kind.get("Service", {})
    jobs = list(by_kind.get("Job", {}).values())

    for module in facts:
        where = f"Deployment {module.name}"
        deployment, service = deployments.get(module.name), services.get(module.name)
        if deployment is None or service is None:
            problems.append(f"module {module.name}: needs a Deployment and a Service named {module.name}")
            continue
        problems += _security_problems(where, deployment)
        replicas = deployment["spec"].get("replicas", 1)
        if module.name in REPLICATED and replicas < 2:
            problems.append(f"{where}: {replicas} replica(s); {module.name} runs at least two")
        template_labels = deployment["spec"]["template"]["metadata"].get("labels", {})
        if deployment["spec"]["selector"]["matchLabels"].items() - template_labels.items():
            problems.append(f"{where}: its selector does not match its pods")
        if not service["spec"]["selector"].items() <= template_labels.items():
            problems.append(f"Service {module.name}: its selector does not match the module's pods")
        ports = service["spec"]["ports"]
        if [p["port"] for p in ports] != [module.port]:
            problems.append(f"Service {module.name}: port {[p['port'] for p in ports]}, not the old {module.port}")
        container = next(c for c in deployment["spec"]["template"]["spec"]["containers"])
        container_ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
        if list(container_ports.values()) != [module.port]:
            problems.append(f"{where}: container port {list(container_ports.values())}, not {module.port}")
        target = ports[0].get("targetPort") if ports else None
        if container_ports.get(target, target) != module.port:
            problems.append(f"Service {module.name}: targetPort {target!r} is not the container's {module.port}")
        problems += _probe_problems(where, container, module.port)
        env = _env_vars(container)
        if (env.get("FREIGHTDESK_MODULES") or {}).get("value") != module.name:
            problems.append(f"{where}: FREIGHTDESK_MODULES is not {module.name}")
        if (env.get("PORT") or {}).get("value") != str(module.port):
            problems.append(f"{where}: PORT is not {module.port}")
        for dependency in module.depends_on:
            expected = f"http://{dependency}:{OLD_PORTS[dependency]}"
            if (env.get(f"{dependency.upper()}_SERVICE_URL") or {}).get("value") != expected:
                problems.append(f"{where}: {dependency.upper()}_SERVICE_URL is not {expected}")
        setting = f"{module.name.upper()}_DATABASE_URL"
        database_secret = _secret_ref(env.get(setting))
        if database_secret is None:
            problems.append(f"{where}: {setting} does not come from a Secret")
        migrated = [
            job
            for job in jobs
            for c in _containers(job)
            if module.name in (_env_vars(c).get("FREIGHTDESK_MODULES") or {}).get("value", "").split(",")
            and "freightdesk db upgrade" in " ".join(c.get("command", []) + c.get("args", []))
            and _secret_ref(_env_vars(c).get(setting)) == database_secret
        ]
        if not migrated:
            problems.append(f"module {module.name}: no Job runs freightdesk db upgrade on its database")
    for job in jobs:
        problems += _security_problems(f"Job {job['metadata']['name']}", job)
    problems += route_problems(ingress_routes(documents), facts, "Ingress")
    return problems


def kustomization_problems(directory: Path, kustomization: Mapping[str, Any]) -> list[str]:
    listed = set(kustomization.get("resources") or [])
    present = {p.name for p in directory.glob("*.yaml") if p.name != "kustomization.yaml"}
    present |= {p.name for p in directory.iterdir() if (p / "kustomization.yaml").is_file()} & listed
    return [f"{directory.name}/kustomization.yaml: does not list {name}" for name in sorted(present - listed)] + [
        f"{directory.name}/kustomization.yaml: lists {name}, which does not exist" for name in sorted(listed - present)
    ]


# --- Dockerfile -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def dockerfile_stages(text: str) -> list[list[Instruction]]:
    """The instructions of each stage (continuation lines joined, comments dropped)."""
    logical: list[str] = []
    parts: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):  # comment lines end nothing, even inside a continuation
            continue
        parts.append(stripped.removesuffix("\\").strip())
        if not stripped.endswith("\\"):
            logical.append(" ".join(parts))
            parts = []
    stages: list[list[Instruction]] = []
    for entry in logical:
        keyword, _, arguments = entry.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(Instruction(keyword.upper(), arguments.strip()))
    return stages


def dockerfile_problems(text: str, run_options: Iterable[str]) -> list[str]:
    """Multi-stage, dependencies installed by uv in a builder only, a numeric non-root user, a liveness
    HEALTHCHECK, production mode, and a CMD that uses options `freightdesk run` has."""
    stages = dockerfile_stages(text)
    if len(stages) < 2:
        return [f"Dockerfile: {len(stages)} stage(s); expected a builder and a runtime stage"]
    builders, final = stages[:-1], stages[-1]
    problems = []
    if not any(
        i.keyword == "RUN" and "uv sync" in i.arguments and "--frozen" in i.arguments and "--no-dev" in i.arguments
        for stage in builders
        for i in stage
    ):
        problems.append("Dockerfile: no builder stage runs uv sync --frozen --no-dev")
    for instruction in final:
        if instruction.keyword == "RUN" and re.search(
            r"\b(uv sync|uv pip|pip install|apt-get install)\b", instruction.arguments
        ):
            problems.append(f"Dockerfile: the runtime stage installs packages ({instruction.arguments[:40]}…)")
    if not any(i.keyword == "COPY" and "--from=" in i.arguments and ".venv" in i.arguments for i in final):
        problems.append("Dockerfile: the runtime stage does not copy the virtual environment from the builder")
    users = [i.arguments for i in final if i.keyword == "USER"]
    if not users:
        problems.append("Dockerfile: the runtime stage sets no USER")
    else:
        user = re.fullmatch(r"(\d+)(?::(\d+))?", users[-1])
        if user is None:
            problems.append(f"Dockerfile: USER {users[-1]} is not numeric")
        elif int(user.group(1)) != APP_UID or int(user.group(2) or APP_UID) != APP_UID:
            problems.append(f"Dockerfile: USER {users[-1]} is not {APP_UID}:{APP_UID}")
    healthchecks = [i.arguments for i in final if i.keyword == "HEALTHCHECK"]
    if not healthchecks or LIVE_PATH not in healthchecks[-1] or "curl" in healthchecks[-1]:
        problems.append(f"Dockerfile: no HEALTHCHECK calling {LIVE_PATH} with what the image has (no curl)")
    environment = " ".join(i.arguments for i in final if i.keyword == "ENV")
    if not re.search(r"\bFREIGHTDESK_ENV=production\b", environment):
        problems.append("Dockerfile: the image does not default to FREIGHTDESK_ENV=production")
    commands = [i.arguments for i in final if i.keyword == "CMD"]
    if not commands:
        problems.append("Dockerfile: no CMD")
    else:
        words = shlex.split(commands[-1]) if not commands[-1].startswith("[") else []
        words = [w for w in words if w != "exec"]
        if words[:2] != ["freightdesk", "run"] or "--host" not in words or "--port" not in words:
            problems.append(f"Dockerfile: CMD {commands[-1]!r} is not `freightdesk run --host … --port …`")
        else:
            if words[words.index("--host") + 1] != "0.0.0.0":  # noqa: S104 (a container listens on every interface)
                problems.append("Dockerfile: CMD does not listen on 0.0.0.0")
            if words[words.index("--port") + 1] != f"${{PORT:-{SINGLE_PROCESS_PORT}}}":
                problems.append("Dockerfile: CMD does not take its port from PORT (default 8000)")
            unknown = [w for w in words[2:] if w.startswith("--") and w not in set(run_options)]
            if unknown:
                problems.append(f"Dockerfile: CMD passes {unknown}, which freightdesk run does not have")
    if not re.search(rf"chown\s+(-R\s+)?{APP_UID}:{APP_UID}\s+/app/var", " ".join(i.arguments for i in final)):
        problems.append(f"Dockerfile: the data dir /app/var is not made writable for {APP_UID}")
    return problems
