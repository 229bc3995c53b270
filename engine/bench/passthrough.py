"""The baseline: a trivial Faust agent (consume, parse JSON, produce) with our app settings.

Run as ``python -m engine.bench.passthrough``; it reads the same GATEHOUND_* settings
as a worker, consumes ``raw.*`` and writes ``scores`` so the benchmark measures it
exactly as it measures the pipeline.
"""

from __future__ import annotations

import time
from typing import Any

import faust
import orjson

from engine.app import faust_app
from engine.logs import configure_logging, logging_dict_config
from engine.metrics import STAGE_DURATION, STAGE_EVENTS_IN, serve_metrics
from engine.settings import MODES, Settings


def create_passthrough(settings: Settings) -> faust.App:
    """A Faust app whose one agent does the least a stream processor can: parse and forward."""
    app = faust_app(settings)
    source = app.topic(*[settings.topics.name(f"raw.{m}") for m in MODES])
    sink = app.topic(settings.topics.name("scores"))

    @app.agent(source, name="passthrough")
    async def passthrough(stream: Any) -> None:
        async for event in stream.events():
            started = time.perf_counter()
            msg = event.message
            try:
                doc = orjson.loads(msg.value)
                size = len(doc) if isinstance(doc, dict) else 0
            except orjson.JSONDecodeError:
                size = -1
            value = orjson.dumps({"received_ms": int(msg.timestamp * 1000), "fields": size})
            await sink.send(key=msg.key, value=value)
            STAGE_EVENTS_IN.labels(stage="passthrough", mode="any").inc()
            STAGE_DURATION.labels(stage="passthrough").observe(time.perf_counter() - started)

    return app


def main() -> None:
    """Run the baseline worker until SIGTERM."""
    settings = Settings()
    configure_logging(settings.log.level, settings.log.format)
    serve_metrics(settings.worker.metrics_port, settings.worker.metrics_addr)
    worker = faust.Worker(
        create_passthrough(settings),
        loglevel=settings.log.level,
        logging_config=logging_dict_config(settings.log.level, settings.log.format),
        redirect_stdouts=False,
        quiet=True,
    )
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
