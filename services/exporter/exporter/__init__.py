"""exporter: conversations as PDF, behind signed, expiring links."""
