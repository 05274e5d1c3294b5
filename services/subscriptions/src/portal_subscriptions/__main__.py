"""`python -m portal_subscriptions [serve|migrate]`."""

from portal_shared.runtime import main

from portal_subscriptions.app import create_app
from portal_subscriptions.settings import Settings


def run() -> None:
    main("portal_subscriptions", Settings, create_app)


if __name__ == "__main__":
    run()
