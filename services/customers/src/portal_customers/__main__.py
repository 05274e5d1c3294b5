"""`python -m portal_customers [serve|migrate]`."""

from portal_shared.runtime import main

from portal_customers.app import create_app
from portal_customers.settings import Settings


def run() -> None:
    main("portal_customers", Settings, create_app)


if __name__ == "__main__":
    run()
