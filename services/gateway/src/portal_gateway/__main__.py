"""`python -m portal_gateway [serve|migrate]`."""

from portal_shared.runtime import main

from portal_gateway.app import create_app
from portal_gateway.settings import Settings


def run() -> None:
    main("portal_gateway", Settings, create_app)


if __name__ == "__main__":
    run()
