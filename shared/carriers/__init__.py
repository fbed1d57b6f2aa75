"""What the carriers' own codes mean, shared by the edge that reads their receipts (`ingest`) and
the one that calls their APIs (`notifier`): one table, one answer per code."""
