from ingest.app import create_app
from ingest.settings import IngestSettings


def test_webhooks_document_their_answers():
    spec = create_app(IngestSettings()).openapi()
    documented = {
        (path, method): set(operation["responses"])
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if path.startswith("/webhooks/")
    }
    assert documented == {
        ("/webhooks/twilio/sms", "post"): {"200", "400", "403", "413", "415", "503"},
        ("/webhooks/twilio/status", "post"): {"200", "400", "403", "413", "415", "503"},
        ("/webhooks/telnyx", "post"): {"200", "400", "403", "413", "415", "422", "503"},
    }
    telnyx = spec["paths"]["/webhooks/telnyx"]["post"]
    assert "Ed25519" in telnyx["description"]
