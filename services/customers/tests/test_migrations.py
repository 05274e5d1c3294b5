import pytest

from portal_stack.testing import migrate_up_down_up


@pytest.mark.infra
async def test_migrations_apply_roll_back_and_reapply(database_url):
    await migrate_up_down_up("portal_customers", database_url)
