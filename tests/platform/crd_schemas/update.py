"""Regenerates the vendored CRD schemas in this folder from the operators' own release sources.

    python tests/platform/crd_schemas/update.py <strimzi-kafka-operator checkout> <cloudnative-pg checkout>

Each checkout must be a git clone (the tags below are read with `git show`, so the working tree
may be anywhere). Writes one JSON Schema per kind and version (`<group>_<kind>_<version>.json`, the
CRD's `openAPIV3Schema`) and SOURCES.md with where each came from."""

import json
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SOURCES = {
    # (repository URL, tag, path in the repository) → the CRD file.
    "strimzi": (
        "https://github.com/strimzi/strimzi-kafka-operator",
        "1.2.0",
        [
            "install/cluster-operator/040-Crd-kafka.yaml",
            "install/cluster-operator/043-Crd-kafkatopic.yaml",
            "install/cluster-operator/045-Crd-kafkanodepool.yaml",
        ],
    ),
    "cloudnative-pg": (
        "https://github.com/cloudnative-pg/cloudnative-pg",
        "v1.30.0",
        ["config/crd/bases/postgresql.cnpg.io_clusters.yaml"],
    ),
}


def main(checkouts: dict[str, Path]) -> None:
    lines = [
        "# Vendored CRD schemas",
        "",
        "The `openAPIV3Schema` of each custom resource the manifests in `deploy/` use, taken from",
        "the operators' release tags (no package registry reachable here serves them: Strimzi's",
        "`io.strimzi:api` jar on Maven Central carries the Java model but not the CRDs). Regenerate",
        "with `update.py` when the operator versions in `deploy/README.md` change.",
        "",
        "| file | from | tag (commit) | path |",
        "|---|---|---|---|",
    ]
    for name, (url, tag, paths) in SOURCES.items():
        repo = checkouts[name]
        commit = subprocess.run(
            ["git", "-C", str(repo), "rev-list", "-n1", tag], capture_output=True, text=True, check=True
        ).stdout.strip()
        for path in paths:
            text = subprocess.run(
                ["git", "-C", str(repo), "show", f"{tag}:{path}"], capture_output=True, text=True, check=True
            ).stdout
            documents = [doc for doc in yaml.safe_load_all(text) if doc]
            crd = next(doc for doc in documents if doc.get("kind") == "CustomResourceDefinition")
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if not version.get("served"):
                    continue
                target = HERE / f"{group}_{kind}_{version['name']}.json"
                schema = version["schema"]["openAPIV3Schema"]
                target.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
                lines.append(f"| `{target.name}` | {url} | {tag} (`{commit[:12]}`) | `{path}` |")
    (HERE / "SOURCES.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main({"strimzi": Path(sys.argv[1]), "cloudnative-pg": Path(sys.argv[2])})
