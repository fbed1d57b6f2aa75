"""The operator API (`/platform/v1`): the people who run Switchboard provision, list, suspend and
resume dealerships, behind operator tokens (shared/http/operator_auth.py), every call audited.
The same use cases run from the command line: `python -m routing.platform --help`."""
