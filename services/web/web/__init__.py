"""The web inbox: server-rendered pages over the other services' HTTP APIs. It owns no schema
and holds no business rule: every answer comes from the service that owns the data."""
