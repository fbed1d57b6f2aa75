from routing.migrations import SCHEMA
from shared.db.migrations import run_env

run_env(SCHEMA)
