"""The ``gatehound`` command. Every option also reads the ``GATEHOUND_`` variable it shows."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from engine.errors import ConfigError, GatehoundError
from engine.settings import HOPS, Settings

app = typer.Typer(
    help="gatehound: a streaming risk engine for border targeting.\n\n"
    "Start with `gatehound up` (embedded broker, workers, demo traffic, live alerts). "
    "Settings come from GATEHOUND_* environment variables; nested ones use '__', "
    "e.g. GATEHOUND_KAFKA__BOOTSTRAP_SERVERS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Bootstrap = Annotated[
    str | None,
    typer.Option(
        "--bootstrap",
        envvar="GATEHOUND_KAFKA__BOOTSTRAP_SERVERS",
        help="Kafka bootstrap servers, host:port[,host:port].",
    ),
]
Prefix = Annotated[
    str | None,
    typer.Option("--topic-prefix", envvar="GATEHOUND_TOPICS__PREFIX", help="Prefix of every topic name."),
]
Partitions = Annotated[
    int | None,
    typer.Option("--partitions", envvar="GATEHOUND_TOPICS__PARTITIONS", help="Partitions per topic."),
]


def build_settings(
    bootstrap: str | None = None,
    prefix: str | None = None,
    partitions: int | None = None,
    **worker: Any,
) -> Settings:
    """Settings from the environment, with the command line's options on top."""
    overrides: dict[str, Any] = {}
    if bootstrap:
        overrides["kafka"] = {"bootstrap_servers": bootstrap}
    topics: dict[str, Any] = {}
    if prefix is not None:
        topics["prefix"] = prefix
    if partitions is not None:
        topics["partitions"] = partitions
    if topics:
        overrides["topics"] = topics
    worker = {k: v for k, v in worker.items() if v is not None}
    if worker:
        overrides["worker"] = worker
    return Settings(**overrides)


def fail(message: str, code: int = 2) -> None:
    """Print an error the user can act on, and exit."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


@app.command()
def broker(
    port: Annotated[int, typer.Option(help="Loopback port to listen on; 0 picks a free one.")] = 9092,
    partitions: Partitions = None,
    prefix: Prefix = None,
) -> None:
    """Run the embedded Kafka-compatible broker alone, with gatehound's topics created.

    Memory only: its data is gone when it stops. Point workers at it with
    GATEHOUND_KAFKA__BOOTSTRAP_SERVERS=127.0.0.1:PORT.
    """
    from engine.broker import EmbeddedBroker
    from engine.flow.engine import ensure_app_topics
    from engine.settings import KafkaSettings

    settings = build_settings(prefix=prefix, partitions=partitions)
    try:
        embedded = EmbeddedBroker(port=port).start()
    except GatehoundError as exc:
        fail(str(exc))
        return
    try:
        settings = settings.model_copy(
            update={"kafka": KafkaSettings(bootstrap_servers=embedded.bootstrap)}
        )
        asyncio.run(ensure_app_topics(settings))
        typer.echo(f"embedded broker on {embedded.bootstrap} (memory only); Ctrl-C stops it")
        stop_signals = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        signal.sigwait(stop_signals)
    finally:
        embedded.stop()


@app.command()
def worker(
    bootstrap: Bootstrap = None,
    prefix: Prefix = None,
    partitions: Partitions = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(envvar="GATEHOUND_WORKER__METRICS_PORT", help="Port of /metrics; 0 disables."),
    ] = None,
    app_id: Annotated[
        str | None,
        typer.Option(envvar="GATEHOUND_WORKER__APP_ID", help="Faust app id (the consumer group)."),
    ] = None,
    data_dir: Annotated[
        str | None,
        typer.Option(envvar="GATEHOUND_WORKER__DATA_DIR", help="Directory for worker state."),
    ] = None,
    hops: Annotated[
        str | None,
        typer.Option(help="Comma-separated hops to run: normalise,decide,link,network,feedback "
                          "(default all)."),
    ] = None,
) -> None:
    """Run one stream worker (normalise, enrich, score, alert; link, network; feedback,
    which learns from outcomes) against a Kafka cluster.

    Start more workers with the same app id to scale out: Kafka partitions are the
    unit of parallelism, and each hop is its own consumer group. `--hops link,network`
    on some workers and `--hops normalise,decide` on others keeps the link graph's work
    off the scoring workers' event loop.
    """
    from engine.worker import run_worker

    chosen = [h.strip() for h in hops.split(",")] if hops else None
    if chosen is not None and any(h not in HOPS for h in chosen):
        fail(f"--hops takes some of {', '.join(HOPS)}, comma-separated; got {hops!r}")
    settings = build_settings(
        bootstrap, prefix, partitions, metrics_port=metrics_port, app_id=app_id, data_dir=data_dir,
        hops=chosen,
    )
    run_worker(settings)


@app.command()
def up(
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds; default: until Ctrl-C.")
    ] = None,
    rate: Annotated[float, typer.Option(envvar="GATEHOUND_UP__RATE", help="Demo events per second.")] = 100.0,
    workers: Annotated[int, typer.Option(min=1, max=8, help="Worker processes to start.")] = 1,
    seed: Annotated[int, typer.Option(help="Seed of the demo traffic.")] = 1,
    malformed_share: Annotated[float, typer.Option(help="Share of malformed demo messages.")] = 0.02,
    summary_json: Annotated[
        Path | None, typer.Option("--summary-json", help="Write the run summary here as JSON.")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="Do not print alerts as they arrive.")] = False,
    partitions: Partitions = None,
    ops: Annotated[bool, typer.Option(help="Start the operations centre too (its URL and a first "
                                           "login are printed).")] = True,
    ops_port: Annotated[int | None, typer.Option(help="Port of the ops centre; default: a free one.")] = None,
) -> None:
    """Start everything locally: embedded broker, topics, workers, demo traffic, the
    operations centre; print alerts live.

    On exit (Ctrl-C or --duration) it drains, stops everything and prints
    {"events", "scored", "alerts", "deadletters", "errors"}.
    """
    from engine.logs import configure_logging
    from engine.up import UpOptions, run_up

    # The console is for alerts; our own events at warning and above only.
    configure_logging("warning", "console")
    settings = build_settings(partitions=partitions)
    opts = UpOptions(
        duration_s=duration,
        rate=rate,
        workers=workers,
        seed=seed,
        malformed_share=malformed_share,
        summary_json=summary_json,
        print_alerts=not quiet,
        ops=ops,
        ops_port=ops_port,
    )
    try:
        summary = run_up(settings, opts)
    except GatehoundError as exc:
        fail(str(exc))
        return
    raise typer.Exit(0 if summary.errors == 0 else 1)


FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="paxlst, pnrgov, ais, declaration or events; default: told from each file's first bytes.",
    ),
]


def _check_format(fmt: str | None) -> None:
    from engine.ingest.files import FORMATS

    if fmt is not None and fmt not in FORMATS:
        fail(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def _check_files(files: list[Path]) -> None:
    for f in files:
        if not f.is_file():
            fail(f"no such file: {f}")


@app.command()
def replay(
    files: Annotated[
        list[Path],
        typer.Argument(help="Raw feed files: PAXLST/PNRGOV (EDIFACT), AIS (NMEA), declarations "
                       "(JSON) or normalised events (JSON lines)."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Write alerts here, JSON lines.")],
    fmt: FormatOption = None,
    scores_out: Annotated[Path | None, typer.Option(help="Write every score record here.")] = None,
    deadletters_out: Annotated[Path | None, typer.Option(help="Write dead letters here.")] = None,
    features_out: Annotated[
        Path | None, typer.Option(help="Write each event's network features here (its final ones).")
    ] = None,
) -> None:
    """Run the same stages as the workers over files, in process, with no broker.

    Gives the alerts the workers give for the same input, so rules can be tried
    and backtested on recorded traffic. A simulation's truth.jsonl is left out and its
    watchlist.jsonl (any FollowTheMoney file) is screened against, so
    `gatehound replay d/*` works.
    """
    from engine.replay import replay_files, watchlist_files

    _check_files(files)
    _check_format(fmt)
    skipped: list[Path] = []
    result = replay_files(files, Settings(), fmt, skipped)
    _write_jsonl(out, result.alerts)
    if scores_out:
        _write_jsonl(scores_out, result.scores)
    if deadletters_out:
        _write_jsonl(deadletters_out, result.deadletters)
    if features_out:
        _write_jsonl(features_out, list(result.final_features().values()))
    for path in skipped:
        if watchlist_files([path]):
            typer.echo(f"{path}: a watchlist, screened against", err=True)
        else:
            typer.echo(f"skipped {path}: ground truth, not traffic", err=True)
    typer.echo(
        f"scored={len(result.scores)} alerts={len(result.alerts)} "
        f"deadletters={len(result.deadletters)}",
        err=True,
    )


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Raw feed files to publish.")],
    fmt: FormatOption = None,
    bootstrap: Bootstrap = None,
    prefix: Prefix = None,
) -> None:
    """Publish raw feed files to their raw.* topics, one message per interchange, AIS report
    or declaration; and watchlists (FollowTheMoney JSON lines) to the watchlists topic.

    PAXLST and PNRGOV go to raw.passenger, AIS to raw.vessel, declarations to
    raw.freight. Keys: the interchange reference, the MMSI, the declaration id, the
    entity id. Running workers screen against a published watchlist within seconds.
    """
    from engine.ingest.files import read_file
    from engine.ingest.publish import publish

    _check_files(files)
    _check_format(fmt)
    settings = build_settings(bootstrap, prefix)
    try:
        messages = [m for f in files for m in read_file(f, fmt)]
        sent = asyncio.run(publish(settings, messages))
    except GatehoundError as exc:
        fail(str(exc))
        return
    for topic, n in sorted(sent.items()):
        typer.echo(f"{topic}: {n} messages")


def _duration(text: str | None) -> float | None:
    """'90', '90s', '45m', '6h', '2d' -> seconds."""
    if text is None:
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        fail(f"cannot read duration {text!r}; e.g. 3600, 90m, 6h or 2d")
        raise
    if seconds <= 0:
        fail("the duration must be positive")
    return seconds


@app.command()
def simulate(
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the raw files, truth.jsonl and watchlist.jsonl here.")
    ] = None,
    live: Annotated[
        bool, typer.Option(help="Publish to the raw.* topics (with --out too: the truth goes there).")
    ] = False,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 1,
    count: Annotated[int | None, typer.Option(min=1, help="Stop after about this many events.")] = None,
    duration: Annotated[
        str | None, typer.Option(help="Stop after this much simulated time: 3600, 90m, 6h, 2d.")
    ] = None,
    rate: Annotated[float, typer.Option(min=0.1, help="With --live: events per second.")] = 100.0,
    malformed_share: Annotated[float, typer.Option(help="Share of extra, broken messages.")] = 0.02,
    cases_per_10k: Annotated[
        float, typer.Option(help="Planted cases of each kind per 10,000 events.")
    ] = 10.0,
    bootstrap: Bootstrap = None,
    prefix: Prefix = None,
) -> None:
    """Generate raw traffic in the real formats (PAXLST, PNRGOV, AIS NMEA, declarations) with
    planted cases and their ground truth.

    Files: `gatehound simulate --seed 1 --count 20000 --out d/`, then
    `gatehound replay d/* --out a.jsonl` and
    `gatehound evaluate --truth d/truth.jsonl --alerts a.jsonl`.
    Live: `gatehound simulate --live --rate 200` against a running broker (until Ctrl-C,
    --count or --duration); with --out as well, the truth is written there at the end.
    """
    import signal as signals

    from engine.simulate.feeds import FeedSimulator, write_simulation

    if out is None and not live:
        fail("say where the traffic goes: --out DIR, or --live to publish it")
    seconds = _duration(duration)
    if out is not None and not live and count is None and seconds is None:
        fail("files need an end: --count N or --duration (simulated time)")
    settings = build_settings(bootstrap, prefix)
    try:
        sim = FeedSimulator(
            seed=seed, malformed_share=malformed_share, cases_per_10k=cases_per_10k,
            card_key=settings.privacy.card_hash_key.get_secret_value().encode(),
        )
    except ValueError as exc:
        fail(str(exc))
        return
    until = sim.now + timedelta(seconds=seconds) if seconds is not None else None
    if not live:
        assert out is not None
        summary = write_simulation(out, sim, count, until)
        typer.echo(json.dumps(summary, indent=2))
        return
    from engine.ingest.publish import publish_paced
    from engine.simulate.feeds import write_truth

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signals.SIGINT, signals.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        endless = count is None and until is None
        stream = sim.messages(count if not endless else 2**62, until)
        sent = await publish_paced(settings, stream, rate, stop)
        for topic, n in sorted(sent.items()):
            typer.echo(f"{topic}: {n} messages")

    try:
        asyncio.run(run())
    except GatehoundError as exc:
        fail(str(exc))
    if out is not None:
        write_truth(out, sim)
    typer.echo(json.dumps(sim.counts))


@app.command()
def network(
    entity: Annotated[
        str, typer.Argument(help="An identifier id (an alert's key, 'link:' optional) or an event id.")
    ],
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Feed files: build the graph from them in process (as replay does) "
                       "instead of reading the links topic."),
    ] = None,
    hops: Annotated[int, typer.Option(min=1, max=6, help="How many edges out to go.")] = 2,
    bootstrap: Bootstrap = None,
    prefix: Prefix = None,
) -> None:
    """Print an entity's neighbourhood in the link graph, with the evidence for each link:
    which event used which identifier, as what, and when.

    The graph is the links topic read whole, or, given feed files, the links a replay of
    those files makes. `gatehound network link:phone-3f2a...` after an alert keyed so
    shows the network behind it; `gatehound network link:phone-3f2a... d/*` without a broker.
    """
    from engine.link.network import neighbourhood, render

    if files:
        from engine.replay import replay_files

        _check_files(files)
        from schemas.link import Link

        links = [Link.model_validate_json(v) for v in replay_files(files, Settings(), keep_links=True).links]
    else:
        from engine.link.topic import read_links

        settings = build_settings(bootstrap, prefix)
        try:
            links = asyncio.run(read_links(settings))
        except GatehoundError as exc:
            fail(str(exc))
            return
    hood = neighbourhood(links, entity.removeprefix("link:"), hops)
    typer.echo(render(hood))
    if not hood.found:
        raise typer.Exit(1)


@app.command()
def evaluate(
    truth: Annotated[Path, typer.Option("--truth", help="truth.jsonl from `gatehound simulate`.")],
    alerts: Annotated[
        Path, typer.Option("--alerts", help="Alerts, JSON lines (replay --out, or tail alerts).")
    ],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the figures here as JSON.")] = None,
) -> None:
    """Score a run against planted cases: recall per case kind, and alert precision."""
    from engine.evaluate import BadInput, read_jsonl, render
    from engine.evaluate import evaluate as score_run

    _check_files([truth, alerts])
    try:
        result = score_run(read_jsonl(truth, "truth cases"), read_jsonl(alerts, "alerts"))
    except BadInput as exc:
        fail(str(exc))
        return
    typer.echo(render(result))
    if json_out:
        json_out.write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")


rules_app = typer.Typer(help="The rules and models: list them, try a rule on files.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@rules_app.command("list")
def rules_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per rule, per line.")] = False,
) -> None:
    """Every rule and model: id, version, kind (event, link or network rule; anomaly or
    yield model), status here (after GATEHOUND_RULES__<ID>__STATUS; a model's role after
    GATEHOUND_MODELS__ROLES), the modes or identifiers it reads, what it looks for."""
    from engine.catalogue import rule_rows

    rows = rule_rows(Settings())
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row.as_dict()))
        return
    width = max(len(r.id) for r in rows)
    for r in rows:
        typer.echo(f"{r.id:<{width}}  v{r.version:<3} {r.kind:<8} {r.status:<10} {r.reads:<28} {r.title}")


@rules_app.command("test")
def rules_test(
    rule_id: Annotated[str, typer.Argument(metavar="RULE", help="A rule id (see `rules list`).")],
    files: Annotated[list[Path], typer.Argument(help="Feed files to replay, as for replay.")],
    limit: Annotated[int, typer.Option(help="Print at most this many findings.")] = 50,
) -> None:
    """Replay files through every stage and print one rule's findings: event, mode,
    status (live or shadow), score and detail; then how many, and on how many alerts.
    The rule runs with its status and config from the environment, so set
    GATEHOUND_RULES__<ID>__STATUS=shadow to try an `off` rule."""
    from engine.catalogue import findings_of, known_rule
    from engine.replay import replay_files

    _check_files(files)
    settings = Settings()
    try:
        row = known_rule(rule_id, settings)
    except GatehoundError as exc:
        fail(str(exc))
        return
    found = list(findings_of(rule_id, replay_files(files, settings)))
    for f in found[:limit]:
        typer.echo(f"{f.event_id}  {f.mode:<9} {f.status:<6} {f.score:.2f}  {f.detail}")
    alerted = len({f.alert_id for f in found if f.alert_id})
    more = f" (first {limit} shown)" if len(found) > limit else ""
    typer.echo(f"{row.id} ({row.kind} rule, {row.status}): {len(found)} finding(s){more}, "
               f"on {alerted} alert(s)", err=True)


@app.command("simulate-outcomes")
def simulate_outcomes_cmd(
    truth: Annotated[Path, typer.Option("--truth", help="truth.jsonl from `gatehound simulate`.")],
    alerts: Annotated[Path, typer.Option("--alerts", help="The run's alerts, JSON lines (replay --out).")],
    out: Annotated[Path, typer.Option("--out", help="Write the outcomes here, JSON lines.")],
    seed: Annotated[int, typer.Option(help="Same seed, same outcome for the same alert.")] = 1,
) -> None:
    """Record what officers would have found on a simulated run's alerts.

    Most alerts are examined; one on a planted case mostly finds something (an arrest
    for a traveller, a seizure otherwise), any other mostly nothing. Each alert's
    outcome depends only on the seed and its id, so two configurations' runs agree on
    the alerts they share. Feed the file to `gatehound backtest --outcomes`.
    """
    from engine.evaluate import BadInput, read_jsonl
    from engine.simulate.outcomes import simulate_outcomes
    from schemas import Alert

    _check_files([truth, alerts])
    try:
        cases = read_jsonl(truth, "truth cases")
        found = [Alert.model_validate(a) for a in read_jsonl(alerts, "alerts")]
        outcomes = simulate_outcomes(found, cases, seed)
    except (BadInput, ValueError) as exc:
        fail(str(exc)[:500])
        return
    _write_jsonl(out, outcomes)
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.result] = counts.get(o.result, 0) + 1
    typer.echo(" ".join(f"{k}={v}" for k, v in sorted(counts.items())), err=True)


@app.command()
def backtest(
    files: Annotated[list[Path], typer.Argument(help="Raw feed files, as for replay.")],
    truth: Annotated[
        Path | None, typer.Option("--truth", help="A simulation's truth.jsonl: precision and cases per rule.")
    ] = None,
    outcomes: Annotated[
        Path | None, typer.Option("--outcomes", help="Outcomes (JSON lines): yield, nugatory rate.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Settings to run with (JSON or TOML), e.g. rule statuses.")
    ] = None,
    compare: Annotated[
        Path | None, typer.Option("--compare", help="A second configuration, reported beside the first.")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the figures here as JSON.")] = None,
    budget: Annotated[int | None, typer.Option(
        "--budget", min=1,
        help="Interventions a day: replay in time order, learn from the outcomes and show precision "
             "at this budget, rules alone and learned. Outcomes are drawn from --truth as alerts are "
             "raised (simulated traffic), or taken from --outcomes as their recorded_at passes the "
             "events' time (recorded traffic).",
    )] = None,
) -> None:
    """Replay files under a configuration and report every rule: flags, flags per day,
    and against truth or outcomes, precision, cases, yield and nugatory rate.

    With --budget N, the learning curve too: each day the N best alerts by the rules
    alone and by the learned chance of a find, and how many of each found something:
    `gatehound backtest d/* --truth d/truth.jsonl --budget 40`.

    A configuration is settings as GATEHOUND_* would give them, in a file:
    `{"rules": {"passenger_late_cash_booking": {"status": "shadow"}}}`. A shadow rule's
    flags are its findings that alone reach the alert threshold. With --compare, both
    runs side by side and the change in flags per rule:
    `gatehound backtest d/* --truth d/truth.jsonl --config live.json --compare trial.json`.
    """
    from engine.backtest import Report, load_config, render
    from engine.backtest import backtest as run_backtest
    from engine.evaluate import read_jsonl
    from schemas.outcome import Outcome

    _check_files([*files, *(p for p in (truth, outcomes, config, compare) if p is not None)])
    try:
        cases = read_jsonl(truth, "truth cases") if truth else None
        recorded = [Outcome.model_validate(o) for o in read_jsonl(outcomes, "outcomes")] if outcomes else None
        reports: list[Report] = []
        for path in (config, compare) if compare else (config,):
            report, _ = run_backtest(files, load_config(path), cases, recorded, budget)
            reports.append(report)
    except (GatehoundError, ValueError) as exc:  # a bad file or configuration, said plainly
        fail(str(exc)[:500])
        return
    names = (config.name if config else "default", compare.name if compare else "")
    typer.echo(render(reports[0], reports[1] if compare else None, names))
    if json_out:
        body = {n: r.as_dict() for n, r in zip(names, reports, strict=False)}
        json_out.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


@app.command()
def tail(
    topic: Annotated[str, typer.Argument(help="alerts, scores, deadletter, or any topic base name.")],
    bootstrap: Bootstrap = None,
    prefix: Prefix = None,
    from_beginning: Annotated[bool, typer.Option(help="Start at the oldest message.")] = False,
    limit: Annotated[int | None, typer.Option(help="Stop after this many messages.")] = None,
) -> None:
    """Print a topic live, one JSON value per line."""
    from engine.tail import tail_topic

    settings = build_settings(bootstrap, prefix)
    try:
        asyncio.run(tail_topic(settings, topic, from_beginning, limit, sys.stdout))
    except KeyboardInterrupt:
        pass
    except GatehoundError as exc:
        fail(str(exc))


@app.command()
def bench(
    quick: Annotated[bool, typer.Option(help="The short plan: under three minutes.")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report as JSON.")] = None,
    markdown_out: Annotated[
        Path | None, typer.Option("--markdown", help="Write the report as Markdown.")
    ] = None,
    screening: Annotated[
        bool,
        typer.Option(
            "--screening",
            help="Only the watchlist screening benchmark (1k, 10k, 100k listed people; no broker).",
        ),
    ] = False,
) -> None:
    """Measure throughput (1 and 2 workers), latency at fixed rates, memory and cost per stage.

    Runs on the embedded broker, side by side with a trivial Faust agent as the
    baseline, and prints the Markdown report. Close other work first: the figures
    are only as quiet as the machine.
    """
    if screening:
        from engine.bench import screening as screening_bench

        sizes = screening_bench.SIZES[:2] if quick else screening_bench.SIZES
        screened = screening_bench.run_screening_bench(sizes)
        text = screening_bench.markdown(screened)
        if json_out:
            json_out.write_text(json.dumps(screened, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if markdown_out:
            markdown_out.write_text(text + "\n", encoding="utf-8")
        typer.echo(text)
        return
    from engine.bench.run import markdown, run_bench
    from engine.logs import configure_logging

    configure_logging("warning", "console")
    report = run_bench(quick, json_out, markdown_out, Path(Settings().worker.data_dir) / "bench")
    typer.echo(markdown(report))


@app.command()
def screen(
    name: Annotated[
        str | None, typer.Argument(help="A name to look up (quick look); or use --names for a file.")
    ] = None,
    watchlist: Annotated[
        list[Path] | None,
        typer.Option(
            "--watchlist", "-w",
            help="A FollowTheMoney JSON lines file; repeat for several. Each file is one list, named "
            "after the file.",
        ),
    ] = None,
    names: Annotated[
        Path | None,
        typer.Option(
            "--names",
            help='JSON lines to screen: {"id", "name", "birth_date"?, "nationality"?, '
            '"document_number"?} (and "kind", "imo", "mmsi" for vessels).',
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write results here (JSON lines); default: standard output.")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, help="Report matches from this score up (default 0.84, the engine's)."
        ),
    ] = None,
    birth_date: Annotated[
        str | None, typer.Option("--birth-date", help="Quick look: birth date (YYYY-MM-DD, or YYYY).")
    ] = None,
    nationality: Annotated[
        str | None, typer.Option(help="Quick look: nationality, ISO alpha-3 (or alpha-2).")
    ] = None,
    document_number: Annotated[
        str | None, typer.Option("--document-number", help="Quick look: travel document number.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many matches per name.")] = 10,
    by_dataset: Annotated[
        bool, typer.Option("--by-dataset", help="One list per FtM dataset instead of per file.")
    ] = False,
) -> None:
    """Screen names against watchlists (FollowTheMoney JSON lines) and explain each match.

    Batch: `gatehound screen --watchlist sanctions.jsonl --watchlist wanted.jsonl
    --names travellers.jsonl --out results.jsonl` writes one line per input line:
    {"id", "matches": [{"entity_id", "list", "list_version", "schema", "score", "explanation"}]}.

    Quick look: `gatehound screen --watchlist wanted.jsonl "Ivan Petrov" --birth-date 1971-03-02`
    prints the matches against people, organisations and vessels.

    Names may be in any script and order, with typos, titles or a missing middle
    name; a birth date, nationality or document number moves the score up or
    down. Scores are in [0, 1]; each explanation names the listed name's parts and
    how they matched. Bad watchlist or input lines are skipped and reported by line
    number on standard error; the rest is still screened.
    """
    from engine.screen import DEFAULT_THRESHOLD, Screener, WatchlistError, load_watchlists
    from engine.screen.batch import describe, screen_lines

    if not watchlist:
        fail("give at least one --watchlist FILE (FollowTheMoney JSON lines)")
        return
    if (name is None) == (names is None):
        fail('give a NAME to look up or --names FILE, e.g. gatehound screen -w list.jsonl "Ivan Petrov"')
        return
    try:
        lists = load_watchlists(watchlist, by_dataset=by_dataset)
    except WatchlistError as exc:
        fail(str(exc))
        return
    for loaded in lists:
        if loaded.report.bad_lines or not loaded.entities:
            typer.echo(f"watchlist {loaded.report.summary()}", err=True)
    screener = Screener(lists, threshold=DEFAULT_THRESHOLD if threshold is None else threshold)
    if name is not None:
        matches = screener.screen_any(name, birth_date, nationality, document_number, limit=limit)
        typer.echo(describe(matches))
        return
    assert names is not None
    try:
        data = names.read_bytes()
    except OSError as exc:
        fail(f"cannot read {names}: {exc.strerror or exc}")
        return
    from engine.screen.watchlist import BadLine

    bad: list[BadLine] = []
    screened = matched = 0
    sink = out.open("wb") if out else sys.stdout.buffer
    try:
        for result in screen_lines(screener, data.splitlines(), bad, limit=limit):
            sink.write(result.to_json() + b"\n")
            screened += 1
            matched += bool(result.matches)
    finally:
        if out:
            sink.close()
        else:
            sink.flush()
    for problem in bad[:20]:
        typer.echo(f"{names}: {problem}", err=True)
    if len(bad) > 20:
        typer.echo(f"{names}: {len(bad) - 20} more bad lines", err=True)
    versions = ", ".join(f"{k}@{v}" for k, v in screener.versions().items())
    typer.echo(f"screened={screened} matched={matched} bad_lines={len(bad)} lists={versions}", err=True)


def _write_jsonl(path: Path, records: list[Any]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(r.model_dump_json())
            fh.write("\n")


users_app = typer.Typer(help="Accounts of the operations centre.", no_args_is_help=True)
app.add_typer(users_app, name="users")

Database = Annotated[
    str | None,
    typer.Option("--database", envvar="GATEHOUND_OPS__DATABASE_URL",
                 help="SQLAlchemy URL of the ops centre's store (default sqlite:///.gatehound/ops.db)."),
]


def _store(database: str | None) -> Any:
    from engine.ops.store import Store

    url = database or Settings().ops.database_url
    try:
        return Store(url)
    except Exception as exc:  # a bad URL or an unreachable database: say which, not a trace
        fail(f"cannot open the store at {url.split('@')[-1]}: {type(exc).__name__}: {str(exc)[:200]}")
        raise


@app.command()
def ops(
    host: Annotated[
        str | None, typer.Option(envvar="GATEHOUND_OPS__HOST", help="Address to listen on.")
    ] = None,
    port: Annotated[int | None, typer.Option(envvar="GATEHOUND_OPS__PORT", help="Port to listen on.")] = None,
    database: Database = None,
    bootstrap: Bootstrap = None,
    prefix: Prefix = None,
    follow: Annotated[bool, typer.Option(help="Follow the alerts, links and passenger topics into "
                                              "the store (off: serve what is stored).")] = True,
) -> None:
    """Run the operations centre: the live alert feed, cases and outcomes, oversight pages.

    Open http://HOST:PORT/ and log in (make accounts with `gatehound users add`). It reads
    alerts from Kafka into its store, publishes recorded outcomes to the outcomes topic
    and every access to personal data to the audit topic. /metrics and /healthz are on
    the same port.
    """
    import uvicorn

    from engine.logs import configure_logging
    from engine.ops.app import create_app

    settings = build_settings(bootstrap, prefix)
    update: dict[str, Any] = {k: v for k, v in (("host", host), ("port", port), ("database_url", database))
                              if v is not None}
    if update:
        settings = settings.model_copy(update={"ops": settings.ops.model_copy(update=update)})
    configure_logging(settings.log.level, settings.log.format)
    store = _store(settings.ops.database_url)
    typer.echo(f"gatehound ops: http://{settings.ops.host}:{settings.ops.port}/ "
               f"(store {settings.ops.database_url.split('@')[-1]}, "
               f"Kafka {settings.kafka.bootstrap_servers})")
    uvicorn.run(create_app(settings, store, follow=follow), host=settings.ops.host, port=settings.ops.port,
                log_level="warning", access_log=False)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name: a-z 0-9 . _ -, starting with a letter.")],
    role: Annotated[str, typer.Option(help="officer, supervisor, rules_engineer, auditor or admin.")],
    database: Database = None,
) -> None:
    """Add a local account. The password is read from standard input (asked twice on a
    terminal): `echo "$PASSWORD" | gatehound users add ana --role officer`."""
    from engine.ops.auth import AccountError, add_user

    if sys.stdin.isatty():
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    store = _store(database)
    try:
        user = add_user(store, name, role, password)
    except AccountError as exc:
        fail(str(exc))
        return
    finally:
        store.close()
    typer.echo(f"added {user.name} ({user.role}), id {user.id}")


@users_app.command("list")
def users_list(database: Database = None) -> None:
    """List the accounts: name, id, role, whether active."""
    from sqlalchemy import select

    from engine.ops.store import UserRow

    store = _store(database)
    with store.session() as s:
        for u in s.scalars(select(UserRow).order_by(UserRow.name)):
            typer.echo(f"{u.name:<24} {u.id:<16} {u.role:<15} {'active' if u.active else 'disabled'}")
    store.close()


def _add_audit_commands() -> None:
    from engine.oversight.cli import audit_app

    app.add_typer(audit_app, name="audit")


_add_audit_commands()


def main() -> None:
    """Console-script entry point. A configuration that cannot be used (a settings file
    that does not read, a rule config that does not fit) is an error message, not a trace."""
    try:
        app()
    except ConfigError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
