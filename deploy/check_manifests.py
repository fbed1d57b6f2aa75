"""Checks the Kubernetes manifests under deploy/ without a cluster.

    .venv/bin/python deploy/check_manifests.py

Every YAML file must parse; every Deployment must have probes, resources and a locked-down
security context, plus its Service, HorizontalPodAutoscaler and PodDisruptionBudget; the
KafkaTopic resources must be exactly the topics declared in shared/contracts/topics.py, each
consumed topic with its `.dlq` twin. When kubectl is installed, the overlays are also rendered
(`kubectl kustomize`) and the Deployment checks run on the result, so a patch cannot strip them.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent
REPO = DEPLOY.parent

# The list at the time the manifests were written; used while shared/contracts/topics.py
# still declares fewer topics than the services will use.
KNOWN_TOPICS = [
    "carrier.inbound.v1",
    "carrier.status.v1",
    "carrier.rejected.v1",
    "conversation.message_received.v1",
    "conversation.message_sent.v1",
    "conversation.delivery_failed.v1",
    "conversation.assigned.v1",
    "conversation.note_added.v1",
    "conversation.status_changed.v1",
    "conversation.merged.v1",
    "customer.changed.v1",
    "sms.outbound_requested.v1",
    "sms.outbound_status.v1",
    "messaging.send_requested.v1",
    "dms.events.v1",
    "dms.events.rejected.v1",
    "export.requested.v1",
    "export.completed.v1",
]
NOT_CONSUMED = {"carrier.rejected.v1", "dms.events.rejected.v1"}
KNOWN_TOPIC_NAMES = sorted(
    [*KNOWN_TOPICS, *(f"{name}.dlq" for name in KNOWN_TOPICS if name not in NOT_CONSUMED)]
)

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


def expected_topics() -> list[str]:
    sys.path.insert(0, str(REPO))
    try:
        from shared.contracts.topics import all_topic_names

        declared = sorted(all_topic_names())
    # Any import problem (a contract module half-written) means "not usable yet".
    except Exception as exc:
        print(
            f"warning: cannot read shared/contracts/topics.py ({exc!r}); "
            "checking against the list in this script"
        )
        return KNOWN_TOPIC_NAMES
    if set(declared) < set(KNOWN_TOPIC_NAMES):
        print(
            f"warning: shared/contracts/topics.py declares {len(declared)} of the "
            f"{len(KNOWN_TOPIC_NAMES)} topics the manifests know; checking against the "
            "list in this script"
        )
        return KNOWN_TOPIC_NAMES
    return declared


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
            env = {item["name"]: item for item in container.get("env", [])}
            for variable in ("SERVICE_NAME", "HTTP_PORT", "JWT_SECRET", "DATABASE_URL"):
                if variable not in env:
                    fail(f"{where_c}: env {variable} missing")
            if not env.get("DATABASE_URL", {}).get("value", "").startswith("postgresql+asyncpg://"):
                fail(f"{where_c}: DATABASE_URL does not use the asyncpg dialect")
        for kind in ("Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
            if name not in by_kind.get(kind, {}):
                fail(f"{label}: no {kind} named {name}")


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
    wanted = set(expected_topics())
    if missing := sorted(wanted - set(found)):
        fail(f"topics without a KafkaTopic: {missing}")
    if extra := sorted(set(found) - wanted):
        fail(f"KafkaTopic for undeclared topics: {extra}")


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
        check_deployments(where, [doc for doc in yaml.safe_load_all(result.stdout) if doc])


def main() -> int:
    documents = load_all()
    check_deployments("deploy/base", [doc for path, doc in documents if "base" in path.parts])
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
