"""The manifests are proven against the schemas the cluster will apply (issue 15, item 3), not only
parsed: every object of every rendered overlay (and of the base) against Kubernetes' own OpenAPI
schemas for the oldest supported and the newest release (kubernetes-validate, which bundles them,
strict: an unknown field is an error, as with `kubectl apply --validate=strict`), and the Strimzi
and CloudNativePG custom resources against those operators' published CRD schemas (vendored in
crd_schemas/, see SOURCES.md there), also strict: a misspelt field would otherwise be pruned by
the API server without a word."""

import copy
import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CRD_SCHEMAS = Path(__file__).resolve().parent / "crd_schemas"
# deploy/README.md: Kubernetes 1.30+ (the preStop `sleep` action); and the newest release known.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
OVERLAYS = sorted(path.name for path in (DEPLOY / "overlays").iterdir() if path.is_dir())


def _strict(schema: dict) -> dict:
    """A CRD's structural schema with unknown fields refused where the API server would prune
    them: every object with `properties` and no other rule for extra keys."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    # The API server checks metadata itself; the CRD schema only says it is an object.
    schema["properties"]["metadata"] = {"type": "object"}
    return schema


@cache
def _crd_validator(api_version: str, kind: str):
    group, version = api_version.split("/")
    path = CRD_SCHEMAS / f"{group}_{kind}_{version}.json"
    if not path.exists():
        return None
    schema = _strict(json.loads(path.read_text()))
    return jsonschema.Draft7Validator(schema)


def _validate(document: dict) -> list[str]:
    """Every problem of one object, as `Kind/name: problem`."""
    label = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
    api_version = document.get("apiVersion", "")
    if "strimzi.io" in api_version or "cnpg.io" in api_version:
        validator = _crd_validator(api_version, document["kind"])
        if validator is None:
            return [f"{label}: no vendored CRD schema for {api_version} {document['kind']} (update.py)"]
        return [
            f"{label}: {'.'.join(map(str, error.absolute_path)) or '<root>'}: {error.message[:300]}"
            for error in validator.iter_errors(document)
        ]
    problems = []
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(map(str, error.path)) or "<root>"
            problems.append(f"{label} (Kubernetes {version}): {path}: {error.message[:300]}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{label}: Kubernetes {version} has no schema for {api_version}")
    return problems


def _base_documents() -> list[dict]:
    documents = []
    for path in sorted((DEPLOY / "base").rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") != "Kustomization":
                documents.append(document)
    return documents


def test_the_base_files_are_valid_objects():
    documents = _base_documents()
    assert {"Deployment", "Kafka", "KafkaNodePool", "KafkaTopic", "Cluster"} <= {d["kind"] for d in documents}
    problems = [problem for document in documents for problem in _validate(document)]
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed: overlays not rendered")
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_of_the_rendered_overlay_is_valid(overlay):
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    documents = [document for document in yaml.safe_load_all(rendered) if document]
    assert len(documents) > 50
    problems = [problem for document in documents for problem in _validate(document)]
    assert not problems, "\n".join(problems)


def test_a_misspelt_field_is_caught_in_both_kinds_of_schema():
    """The checks are not vacuous: one unknown field in a Deployment and in each operator's
    resource is reported."""
    by_kind = {document["kind"]: document for document in _base_documents()}
    for kind, where in (
        ("Deployment", ("spec", "template", "spec")),
        ("Kafka", ("spec", "kafka")),
        ("KafkaTopic", ("spec",)),
        ("Cluster", ("spec",)),
    ):
        document = copy.deepcopy(by_kind[kind])
        node = document
        for key in where:
            node = node[key]
        node["replicaz"] = 3
        assert any("replicaz" in problem for problem in _validate(document)), kind
