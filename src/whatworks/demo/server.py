"""The production HTTP server: waitress (pure Python, threaded), serving the WSGI app, and
the background task worker beside it.

Static files are served by WhiteNoise inside the app, so no separate web server is needed
for a small installation; larger ones put a reverse proxy with TLS in front.

Background tasks (programme evaluations) are queued in the database by django-tasks-db. The
worker runs here in a daemon thread, the same loop as ``whatworks db_worker``, so one
``whatworks serve`` (or ``whatworks demo``) is a complete installation. Set
``WHATWORKS_TASK_WORKER=0`` to run the worker as its own process (``whatworks db_worker``)
instead. A task interrupted by a restart stays "running"; run it again from its page.
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger(__name__)


def start_task_worker(*, interval: float = 1.0) -> threading.Thread | None:
    """Start django-tasks-db's worker loop in a daemon thread (None when switched off)."""
    from django.conf import settings

    if not settings.TASK_WORKER_IN_SERVER:
        return None
    from django.utils.crypto import get_random_string
    from django_tasks_db.management.commands.db_worker import Worker

    backend = settings.TASKS.get("default", {})
    if backend.get("BACKEND") != "django_tasks_db.DatabaseBackend":
        return None
    worker = Worker(
        queue_names=list(backend.get("QUEUES") or ["default"]),
        interval=interval,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"serve-{get_random_string(16)}",
        excluded_queue_names=[],
    )

    def run() -> None:
        try:
            worker.run()
        except Exception:
            logger.exception("the background task worker stopped")

    thread = threading.Thread(target=run, name="whatworks-task-worker", daemon=True)
    thread.start()
    return thread


def serve_forever(*, host: str, port: int, threads: int = 8) -> None:
    from waitress import serve

    from whatworks.wsgi import application

    start_task_worker()
    serve(application, host=host, port=port, threads=threads, ident="whatworks")
