"""Run one Faust worker process with our logging, metrics and topics in place."""

from __future__ import annotations

import asyncio
import gc

import faust

from engine.app import create_app
from engine.flow.engine import ensure_app_topics
from engine.logs import configure_logging, get_logger, logging_dict_config
from engine.metrics import serve_metrics
from engine.settings import Settings

log = get_logger(__name__)


def run_worker(settings: Settings, create_topics: bool = True) -> None:
    """Block running a worker until it is stopped (SIGTERM or Ctrl-C)."""
    configure_logging(settings.log.level, settings.log.format)
    if create_topics:
        created = asyncio.run(ensure_app_topics(settings))
        if created:
            log.info("topics.created", count=len(created))
    serve_metrics(settings.worker.metrics_port, settings.worker.metrics_addr)
    app = create_app(settings)
    # Most objects a worker makes live for one batch; the long-lived ones (rules,
    # reference data, modules) are made by now. Freezing them and collecting the
    # young generation less often cut stage time by about a third when measured.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    log.info(
        "worker.starting",
        app_id=settings.worker.app_id,
        bootstrap=settings.kafka.bootstrap_servers,
        metrics_port=settings.worker.metrics_port,
    )
    worker = faust.Worker(
        app,
        loglevel=settings.log.level,
        logging_config=logging_dict_config(settings.log.level, settings.log.format),
        redirect_stdouts=False,
        quiet=True,
    )
    worker.execute_from_commandline()
