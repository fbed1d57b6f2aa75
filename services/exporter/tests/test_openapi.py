from exporter.app import create_app
from exporter.settings import ExporterSettings


def test_exports_api_documents_its_answers():
    app = create_app(ExporterSettings())
    spec = app.openapi()
    documented = {
        (path, method): set(operation["responses"])
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if path.startswith("/api/v1/exports")
    }
    assert documented == {
        ("/api/v1/exports", "post"): {"202", "401", "403", "422", "503"},
        ("/api/v1/exports/{job_id}", "get"): {"200", "401", "403", "404", "422", "503"},
        ("/api/v1/exports/{job_id}/download", "get"): {"200", "403", "404", "410", "422", "503"},
    }
    download = spec["paths"]["/api/v1/exports/{job_id}/download"]["get"]
    assert "application/pdf" in download["responses"]["200"]["content"]
    assert "security" not in download, "the signed link is the permission, no bearer token"
    assert spec["paths"]["/api/v1/exports"]["post"]["security"] == [{"HTTPBearer": []}]
