"""The search route is documented for whoever builds the search box: parameters, the grouped
response and the error answers."""


async def test_openapi_documents_the_query_box(http):
    spec = (await http.get("/openapi.json")).json()
    operation = spec["paths"]["/api/v1/search"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) >= {"q", "status", "cursor", "limit"}
    assert parameters["status"]["schema"]["default"] == "all"
    assert "phone" in parameters["q"]["description"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/SearchPage")
    assert {"401", "422"} <= set(operation["responses"])
    match = spec["components"]["schemas"]["SearchMatch"]["properties"]
    kinds = {"name", "phone", "email", "message", "ro", "vin", "payment", "appointment"}
    assert set(match["kind"]["enum"]) == kinds
    assert all(field.get("description") for field in match.values())
