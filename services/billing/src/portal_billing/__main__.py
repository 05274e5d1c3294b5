"""`python -m portal_billing [serve|migrate]`."""

from portal_shared.runtime import main

from portal_billing.app import create_app
from portal_billing.settings import Settings


def run() -> None:
    main("portal_billing", Settings, create_app)


if __name__ == "__main__":
    run()
