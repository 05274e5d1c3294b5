from portal_shared.migrations import run_env

from portal_billing.adapters.tables import metadata

run_env(metadata)
