"""`python -m portal_notifications [serve|migrate]`."""

from portal_shared.runtime import main

from portal_notifications.app import create_app
from portal_notifications.settings import Settings


def run() -> None:
    main("portal_notifications", Settings, create_app)


if __name__ == "__main__":
    run()
