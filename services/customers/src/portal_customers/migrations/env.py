from portal_shared.migrations import run_env

from portal_customers.adapters.tables import metadata

run_env(metadata)
