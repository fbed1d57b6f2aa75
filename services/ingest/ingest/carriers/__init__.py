"""The carriers' REST APIs as catch-up needs them: list a number's inbound texts since an instant,
fetch where a text we sent stands. httpx, one client per process; credentials per call."""
