"""The staff API's OpenAPI document is a contract (the web inbox, exporter and notifier call it;
clients are generated from it): it must not change by accident, e.g. when code moves between
modules (pydantic names colliding schemas after their module: `routing__api__customers__NoteView`).

On an intended change, regenerate the snapshot and review its diff:

    .venv/bin/python services/routing/tests/test_openapi_snapshot.py
"""

import json
from pathlib import Path

from routing.app import create_app
from routing.settings import RoutingSettings

SNAPSHOT = Path(__file__).with_name("openapi_snapshot.json")
REGENERATE = "regenerate it with `.venv/bin/python services/routing/tests/test_openapi_snapshot.py`"


def live_document() -> dict:
    # Round-trip through JSON so that tuples and lists compare as the file holds them.
    return json.loads(json.dumps(create_app(RoutingSettings()).openapi()))


def _differences(live: dict, snapshot: dict, where: str = "") -> list[str]:
    if isinstance(live, dict) and isinstance(snapshot, dict):
        found = []
        for key in sorted(live.keys() | snapshot.keys()):
            if key not in snapshot:
                found.append(f"{where}/{key}: new")
            elif key not in live:
                found.append(f"{where}/{key}: gone")
            else:
                found += _differences(live[key], snapshot[key], f"{where}/{key}")
        return found
    return [] if live == snapshot else [f"{where}: changed"]


def test_the_openapi_document_is_the_committed_snapshot():
    live = live_document()
    snapshot = json.loads(SNAPSHOT.read_text())
    differences = _differences(live, snapshot)
    assert not differences, (
        f"the OpenAPI document differs from {SNAPSHOT.name} at:\n  "
        + "\n  ".join(differences[:40])
        + f"\nIf the change is intended, {REGENERATE}."
    )
    # Paths in the order the routes are registered: `/conversations/counts` must come before
    # `/conversations/{conversation_id}`, or "counts" would be read as an id.
    assert list(live["paths"]) == list(snapshot["paths"]), (
        f"the routes' order changed; if intended, {REGENERATE}"
    )


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps(live_document(), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {SNAPSHOT}")
