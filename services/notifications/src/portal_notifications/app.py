"""Assembly of service notifications: its routes, its consumer and its two senders on the shared runtime.

The senders (email over SMTP, webhooks over HTTP) are due jobs: the runtime
runs them every SCHEDULER_INTERVAL_SECONDS and when the test clock moves (so
a retry scheduled by the clock goes out as soon as the clock passes it), and
a background loop runs them every SENDER_INTERVAL_SECONDS so that mail leaves
within a second or so. Both are safe to run at once, here and in other
replicas: each batch is claimed with FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from fastapi import FastAPI
from faststream import FastStream

from portal_shared.asyncapi import describe_events
from portal_shared.db import UnitOfWorkFactory
from portal_shared.runtime import ServiceParts, create_service_app

from portal_notifications import api
from portal_notifications.consumers import consumer
from portal_notifications.service.mail_sender import MailSender
from portal_notifications.service.webhooks import WebhookSender
from portal_notifications.settings import Settings

log = structlog.get_logger("portal.notifications")


def create_app(settings: Settings) -> FastAPI:
    mail = MailSender(settings)
    hooks = WebhookSender(settings)
    loop_task: list[asyncio.Task[None]] = []
    app: FastAPI

    async def send_mail(uow_factory: UnitOfWorkFactory) -> int:
        return await mail.send_due(uow_factory)

    async def send_webhooks(uow_factory: UnitOfWorkFactory) -> int:
        return await hooks.send_due(uow_factory)

    async def senders_loop() -> None:
        runtime = app.state.runtime
        while True:
            await asyncio.sleep(settings.sender_interval_seconds)
            try:
                await asyncio.gather(send_mail(runtime.uow), send_webhooks(runtime.uow))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sender run failed; the next run retries")

    async def start_senders() -> None:
        loop_task.append(asyncio.create_task(senders_loop(), name="notification-senders"))

    async def stop_senders() -> None:
        for task in loop_task:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await hooks.close()

    app = create_service_app(
        settings,
        ServiceParts(
            routers=[api.router],
            consumer=consumer,
            due_jobs={"send_mail": send_mail, "send_webhooks": send_webhooks},
            on_startup=[start_senders],
            on_shutdown=[stop_senders],
        ),
        title="Partner Portal — notifications (internal)",
    )
    return app


def asyncapi() -> FastStream:
    return describe_events("notifications", consumer=consumer)
