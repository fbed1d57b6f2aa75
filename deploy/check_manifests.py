"""Checks the Kubernetes manifests under deploy/ without a cluster.

    .venv/bin/python deploy/check_manifests.py

Every YAML file must parse; every Deployment must have probes, resources and a locked-down
security context, plus its Service, HorizontalPodAutoscaler and PodDisruptionBudget; every
variable a service gets (env and ConfigMaps, the shared ones included) must be one of its settings
(services/*/*/settings.py) and validate there, the settings whose defaults only suit a laptop must
be set, secret settings must come from a Secret, a service with a database must build an asyncpg
DATABASE_URL, and every service with JWT_SECRET must read it from the same Secret; a production
overlay behind TLS must turn Strict-Transport-Security on; the KafkaTopic
resources must be exactly the topics
declared in shared/contracts/topics.py (the single source), each consumed topic with its `.dlq`
twin. When kubectl is installed, the overlays are also rendered (`kubectl kustomize`) and the
Deployment and settings checks run on the result, so a patch cannot strip or break them.
"""

import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent
REPO = DEPLOY.parent
# The declared topics and every service's settings class are read from the code itself.
sys.path[:0] = [str(REPO), *(str(path) for path in sorted((REPO / "services").iterdir()) if path.is_dir())]

SERVICES = ("ingest", "routing", "notifier", "search", "exporter", "web")
# Variables the containers use that are not settings: the database URL is built from the
# CloudNativePG Secret's parts; the rest are for Python and fontconfig themselves.
NOT_SETTINGS = {
    "DB_HOST",
    "DB_USER",
    "DB_PASSWORD",
    "DB_NAME",
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "XDG_CACHE_HOME",
}
# A shared ConfigMap gives every key to every service that reads it, so each key must be a
# setting of each of them. The exceptions, by ConfigMap: PUBLIC_BASE_URL is one value for
# ingest, exporter and notifier, kept in the map of the database-and-Kafka services so that an
# overlay sets it once; routing and search receive it unread. (web does not get that map at all:
# it has no Kafka or database settings, and this rule would fail on them.)
SHARED_UNREAD = {"switchboard-data-config": {"PUBLIC_BASE_URL"}}
# Settings whose defaults are only right on a laptop but that the rule in
# `must_be_set` below cannot see from the default alone.
ALSO_REQUIRED = {"notifier": {"smtp_port", "smtp_starttls"}, "web": {"cookie_secure"}}
# Values a deployment must have, whatever the overlay.
REQUIRED_VALUES = {
    # The session cookie holds the person's token: HTTPS only.
    "web": {"cookie_secure": True},
}
LAPTOP_DEFAULT = re.compile(r"127\.0\.0\.1|localhost|\.test\b|dev-only")

FOREVER = -1
THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")

errors: list[str] = []


def fail(message: str) -> None:
    errors.append(message)


def load_all() -> list[tuple[Path, dict]]:
    documents = []
    for path in sorted(DEPLOY.rglob("*.y*ml")):
        try:
            with path.open() as stream:
                loaded = [doc for doc in yaml.safe_load_all(stream) if doc is not None]
        except yaml.YAMLError as exc:
            fail(f"{path.relative_to(REPO)}: does not parse: {exc}")
            continue
        # kustomization.yaml files are build instructions, not objects.
        documents.extend((path, doc) for doc in loaded if doc.get("kind") != "Kustomization")
    return documents


def expected_topics() -> list[str] | None:
    """The declared list, the single source; None (and an error) when it cannot be read."""
    try:
        from shared.contracts.topics import all_topic_names

        return sorted(all_topic_names())
    # Any import problem (a contract module half-written) is the failure to report.
    except Exception as exc:
        fail(f"cannot read the declared topics in shared/contracts/topics.py: {exc!r}")
        return None


def check_deployments(where: str, docs: list[dict]) -> None:
    by_kind: dict[str, dict[str, dict]] = {}
    for doc in docs:
        by_kind.setdefault(doc.get("kind", ""), {})[doc["metadata"]["name"]] = doc
    deployments = by_kind.get("Deployment", {})
    if not deployments:
        fail(f"{where}: no Deployment found")
    for name, deployment in deployments.items():
        label = f"{where}: Deployment {name}"
        pod = deployment["spec"]["template"]["spec"]
        pod_security = pod.get("securityContext", {})
        if not pod_security.get("runAsNonRoot"):
            fail(f"{label}: pod securityContext.runAsNonRoot is not true")
        if not pod.get("topologySpreadConstraints"):
            fail(f"{label}: no topologySpreadConstraints")
        for container in pod["containers"]:
            where_c = f"{label}, container {container['name']}"
            for probe, path in (
                ("livenessProbe", "/healthz"),
                ("readinessProbe", "/readyz"),
                ("startupProbe", "/healthz"),
            ):
                if probe not in container:
                    fail(f"{where_c}: no {probe}")
                elif container[probe].get("httpGet", {}).get("path") != path:
                    fail(f"{where_c}: {probe} is not GET {path}")
            resources = container.get("resources", {})
            for part in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(resources.get(part, {})):
                    fail(f"{where_c}: resources.{part} lacks cpu or memory")
            security = container.get("securityContext", {})
            if not security.get("readOnlyRootFilesystem"):
                fail(f"{where_c}: root filesystem is writable")
            if security.get("capabilities", {}).get("drop") != ["ALL"]:
                fail(f"{where_c}: capabilities are not all dropped")
            # DATABASE_URL and the secrets depend on the service's settings: check_settings.
            env = {item["name"]: item for item in container.get("env", [])}
            for variable in ("SERVICE_NAME", "HTTP_PORT"):
                if variable not in env:
                    fail(f"{where_c}: env {variable} missing")
            ports = {port.get("name"): port.get("containerPort") for port in container.get("ports", [])}
            scrape = deployment["spec"]["template"].get("metadata", {}).get("annotations", {})
            listens = str(env.get("HTTP_PORT", {}).get("value"))
            if str(ports.get("http")) != listens or scrape.get("prometheus.io/port") != listens:
                fail(
                    f"{where_c}: HTTP_PORT {listens}, containerPort http {ports.get('http')} and "
                    f"prometheus.io/port {scrape.get('prometheus.io/port')} differ"
                )
        for kind in ("Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
            if name not in by_kind.get(kind, {}):
                fail(f"{label}: no {kind} named {name}")


def settings_class(service: str) -> type:
    """The service's settings: the class its settings module defines (a ServiceSettings, or for
    web, which has no database or Kafka, an HttpProcessSettings)."""
    from shared.settings import HttpProcessSettings

    module = importlib.import_module(f"{service}.settings")
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, HttpProcessSettings)
        and value.__module__ == module.__name__
    ]
    if len(classes) != 1:
        raise LookupError(f"{service}.settings defines {len(classes)} settings classes")
    return classes[0]


def must_be_set(service: str, settings: type) -> set[str]:
    """Fields whose default would be wrong in a cluster: a laptop address or a test value, a
    relative path (the root filesystem is read-only), a public URL left unset."""
    wanted = set(ALSO_REQUIRED.get(service, set()))
    for name, field in settings.model_fields.items():
        default = field.default
        text = default.get_secret_value() if hasattr(default, "get_secret_value") else default
        laptop_value = isinstance(text, str) and bool(LAPTOP_DEFAULT.search(text) or text.startswith("."))
        unset_url = default is None and name.endswith("_url")
        if laptop_value or unset_url:
            wanted.add(name)
    return wanted


def container_environment(
    container: dict, config_maps: dict[str, dict[str, str]], where: str
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """What the container's process sees (secrets replaced by stand-ins, `$(VAR)` expanded as
    the kubelet does), and which names came from which ConfigMap."""
    environment: dict[str, str] = {}
    sources: dict[str, list[str]] = {}
    for source in container.get("envFrom", []):
        name = source.get("configMapRef", {}).get("name")
        if name not in config_maps:
            fail(f"{where}: envFrom ConfigMap {name!r} is not in the manifests")
            continue
        environment.update(config_maps[name])
        sources[name] = list(config_maps[name])
    for item in container.get("env", []):
        if "value" in item:
            value = re.sub(
                r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                lambda match: environment.get(match.group(1), match.group(0)),
                str(item["value"]),
            )
        elif "secretKeyRef" in item.get("valueFrom", {}):
            # Stand-in long enough for any length check; letters only (it lands in URLs).
            value = "secret" * 8
        else:
            value = "from-the-cluster"
        environment[item["name"]] = value
    return environment, sources


def generator_name(map_name: str) -> str:
    """A ConfigMap's name in the kustomization, without the hash kustomize appends."""
    return re.sub(r"-[a-z0-9]{10}$", "", map_name)


def secret_fields(settings: type) -> set[str]:
    from pydantic import SecretStr

    return {
        name
        for name, field in settings.model_fields.items()
        if field.annotation is SecretStr or SecretStr in getattr(field.annotation, "__args__", ())
    }


def check_settings(where: str, docs: list[dict]) -> None:
    """Every variable a service gets is one of its settings (pydantic ignores unknown names, so a
    typo would silently fall back to the default), the values validate, the settings whose
    defaults only suit a laptop are set, secrets come from Secrets (each key for one setting),
    and all services share one JWT secret."""
    config_maps = {
        doc["metadata"]["name"]: {key: str(value) for key, value in (doc.get("data") or {}).items()}
        for doc in docs
        if doc.get("kind") == "ConfigMap"
    }
    jwt_sources: dict[str, tuple] = {}
    fields_of: dict[str, set[str]] = {}
    shared_keys: dict[str, set[str]] = {}
    secret_keys: dict[tuple, set[str]] = {}
    for doc in docs:
        if doc.get("kind") != "Deployment":
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:
            service = container["name"]
            label = f"{where}: Deployment {doc['metadata']['name']}, container {service}"
            if service not in SERVICES:
                fail(f"{label}: not one of the services {SERVICES}")
                continue
            try:
                settings = settings_class(service)
            except Exception as exc:
                fail(f"{label}: cannot read its settings class: {exc!r}")
                continue
            fields = set(settings.model_fields)
            fields_of[service] = fields
            environment, sources = container_environment(container, config_maps, label)
            secrets = secret_fields(settings)
            for map_name, keys in sources.items():
                unread_allowed = SHARED_UNREAD.get(generator_name(map_name), set())
                for key in keys:
                    if key in unread_allowed:
                        shared_keys.setdefault(map_name, set()).add(key)
                    elif key.lower() not in fields and key not in NOT_SETTINGS:
                        fail(f"{label}: ConfigMap {map_name} sets {key}, which is not a {service} setting")
                    elif key.lower() in secrets:
                        fail(f"{label}: {key} is a secret and comes from ConfigMap {map_name}, not a Secret")
            env = {item["name"]: item for item in container.get("env", [])}
            for name, item in env.items():
                if name.lower() not in fields and name not in NOT_SETTINGS:
                    fail(f"{label}: env {name} is not a {service} setting")
                elif name.lower() in secrets:
                    reference = item.get("valueFrom", {}).get("secretKeyRef")
                    if reference is None:
                        fail(f"{label}: {name} does not come from a Secret")
                    else:
                        source = (reference.get("name"), reference.get("key"))
                        secret_keys.setdefault(source, set()).add(name)
                        if name == "JWT_SECRET":
                            jwt_sources[service] = source
            for name in sorted(must_be_set(service, settings)):
                if name.upper() not in environment:
                    fail(f"{label}: {name.upper()} is not set (its default only suits a laptop)")
            if "database_url" in fields and not env.get("DATABASE_URL", {}).get("value", "").startswith(
                "postgresql+asyncpg://"
            ):
                fail(f"{label}: DATABASE_URL is not built with the asyncpg dialect")
            built = validate_settings(label, settings, environment)
            for name, wanted in REQUIRED_VALUES.get(service, {}).items():
                if built is not None and getattr(built, name) != wanted:
                    fail(f"{label}: {name.upper()} is {getattr(built, name)!r}, must be {wanted!r}")
    if len(set(jwt_sources.values())) > 1:
        fail(f"{where}: JWT_SECRET differs between services (tokens would not verify): {jwt_sources}")
    for (secret, key), names in sorted(secret_keys.items()):
        if len(names) > 1:
            fail(f"{where}: Secret {secret} key {key} is used for {sorted(names)}; each needs its own")
    every_field = set().union(*fields_of.values()) if fields_of else set()
    for map_name, keys in shared_keys.items():
        for key in sorted(keys):
            if key.lower() not in every_field and key not in NOT_SETTINGS:
                fail(f"{where}: ConfigMap {map_name} sets {key}, which no service reads")


def validate_settings(label: str, settings: type, environment: dict[str, str]):
    """Builds the settings from exactly this environment, as the service will at start-up; None
    (and an error) when they do not validate."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(environment)
        return settings()
    except Exception as exc:
        fail(f"{label}: its settings do not validate: {exc}")
        return None
    finally:
        os.environ.clear()
        os.environ.update(saved)


def generated_config_maps(kustomization: Path) -> list[dict]:
    """The ConfigMaps a kustomization's configMapGenerator makes (literals only), for checking the
    base without kubectl."""
    with kustomization.open() as stream:
        spec = yaml.safe_load(stream) or {}
    maps = []
    for generator in spec.get("configMapGenerator", []):
        data = dict(literal.split("=", 1) for literal in generator.get("literals", []))
        maps.append({"kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data})
    return maps


def check_topics(documents: list[tuple[Path, dict]]) -> None:
    topics = [doc for _, doc in documents if doc.get("kind") == "KafkaTopic"]
    found: list[str] = []
    for topic in topics:
        name = topic["metadata"]["name"]
        real = topic["spec"].get("topicName", name)
        found.append(real)
        if not DNS_LABEL.match(name) or name != re.sub(r"[._]", "-", real):
            fail(f"KafkaTopic {name}: metadata.name should be {re.sub(r'[._]', '-', real)!r}")
        spec = topic["spec"]
        if spec.get("partitions") != 6 or spec.get("replicas") != 3:
            fail(f"KafkaTopic {real}: wants partitions 6 and replicas 3")
        config = spec.get("config", {})
        if config.get("min.insync.replicas") != 2:
            fail(f"KafkaTopic {real}: min.insync.replicas is not 2")
        retention = THIRTY_DAYS_MS if real.endswith(".dlq") else FOREVER
        if config.get("retention.ms") != retention:
            fail(f"KafkaTopic {real}: retention.ms should be {retention}")
    duplicates = sorted({name for name in found if found.count(name) > 1})
    if duplicates:
        fail(f"KafkaTopic declared twice: {duplicates}")
    declared = expected_topics()
    if declared is None:
        return
    wanted = set(declared)
    if missing := sorted(wanted - set(found)):
        fail(f"topics without a KafkaTopic: {missing}")
    if extra := sorted(set(found) - wanted):
        fail(f"KafkaTopic for undeclared topics: {extra}")


def served_over_https(docs: list[dict]) -> bool:
    """Every Ingress terminates TLS: clients reach the services over HTTPS only."""
    ingresses = [doc for doc in docs if doc.get("kind") == "Ingress"]
    return bool(ingresses) and all(doc["spec"].get("tls") for doc in ingresses)


def check_hsts(where: str, docs: list[dict]) -> None:
    """A production environment served over HTTPS turns Strict-Transport-Security on (the API
    services' STRICT_TRANSPORT_SECURITY, in the ConfigMap every process reads); a browser that
    once reached it then never tries plain HTTP, where a token or cookie could be read."""
    from pydantic import TypeAdapter, ValidationError

    shared = [
        doc.get("data") or {}
        for doc in docs
        if doc.get("kind") == "ConfigMap" and generator_name(doc["metadata"]["name"]) == "switchboard-config"
    ]
    if len(shared) != 1:
        fail(f"{where}: expected one switchboard-config ConfigMap, found {len(shared)}")
        return
    config = shared[0]
    if config.get("ENVIRONMENT") != "production" or not served_over_https(docs):
        return
    try:
        on = TypeAdapter(bool).validate_python(str(config.get("STRICT_TRANSPORT_SECURITY", "false")))
    except ValidationError:
        on = False
    if not on:
        fail(
            f"{where}: production behind TLS, but switchboard-config does not set "
            "STRICT_TRANSPORT_SECURITY=true"
        )


def check_overlays() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("note: kubectl not found, overlays not rendered")
        return
    for overlay in sorted((DEPLOY / "overlays").iterdir()):
        result = subprocess.run(
            [kubectl, "kustomize", str(overlay)], capture_output=True, text=True, check=False
        )
        where = str(overlay.relative_to(REPO))
        if result.returncode != 0:
            fail(f"{where}: kubectl kustomize failed: {result.stderr.strip()}")
            continue
        rendered = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
        check_deployments(where, rendered)
        check_settings(where, rendered)
        check_hsts(where, rendered)


def main() -> int:
    documents = load_all()
    base = [doc for path, doc in documents if "base" in path.parts]
    check_deployments("deploy/base", base)
    check_settings("deploy/base", base + generated_config_maps(DEPLOY / "base" / "kustomization.yaml"))
    check_topics(documents)
    check_overlays()
    for message in errors:
        print(f"error: {message}")
    if errors:
        return 1
    print(f"ok: {len(documents)} manifests checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
