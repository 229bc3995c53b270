"""Every Prometheus metric of the engine, declared once with its buckets.

Labels are low-cardinality only: stage, mode, rule, status, severity, reason.
Never an id of a person, an event or an alert.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram, start_http_server

# Stage batches run from tens of microseconds (one event) to about a second (a
# full batch under load); buckets span that range.
_STAGE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# Received-to-scored latency: target p99 is 100 ms, so resolve well below and above it.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

STAGE_EVENTS_IN = Counter(
    "gatehound_stage_events_in_total", "Records a stage took in.", ["stage", "mode"]
)
STAGE_EVENTS_OUT = Counter(
    "gatehound_stage_events_out_total", "Records a stage emitted.", ["stage", "mode"]
)
STAGE_DURATION = Histogram(
    "gatehound_stage_batch_duration_seconds",
    "Wall time a stage spent on one batch; _sum over events_in gives time per event.",
    ["stage"],
    buckets=_STAGE_BUCKETS,
)
# Screening costs 63-121 µs per name (docs/benchmark.md), so a batch of up to 500
# events takes from microseconds to tens of milliseconds: the stage buckets fit.
SCREENING_DURATION = Histogram(
    "gatehound_screening_duration_seconds",
    "Wall time spent screening one enrich batch's people, companies and vessels against the "
    "watchlists (not observed while no list is loaded).",
    buckets=_STAGE_BUCKETS,
)
STAGE_SECONDS = Counter(
    "gatehound_stage_seconds_total",
    "Time spent in each stage function (parse, normalise, enrich, score, alert, serialise).",
    ["stage"],
)
DEADLETTERS = Counter(
    "gatehound_deadletters_total", "Messages sent to the dead-letter topic.", ["stage", "reason"]
)
FINDINGS = Counter(
    "gatehound_findings_total", "Rule findings, live and shadow.", ["rule", "status"]
)
RULE_ERRORS = Counter(
    "gatehound_rule_errors_total", "Rules that raised instead of returning findings.", ["rule"]
)
ALERTS = Counter(
    "gatehound_alerts_total", "Alerts raised, once per contributing rule.", ["rule", "severity"]
)
EVENT_TO_ALERT = Histogram(
    "gatehound_event_to_alert_seconds",
    "From the event happening at its source (a message made, a declaration lodged, a ship's "
    "report) to its alert being decided: the feed's own delay and ours together.",
    ["mode"],
    buckets=(1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 12 * 3600.0, 86400.0),
)
ALERTS_SUPPRESSED = Counter(
    "gatehound_alerts_suppressed_total",
    "Alerts not sent because an earlier one on the same subject and typology covers them.",
    ["mode"],
)
SCORE_LATENCY = Histogram(
    "gatehound_received_to_scored_seconds",
    "From the raw message's broker timestamp to its score record being produced.",
    ["mode"],
    buckets=_LATENCY_BUCKETS,
)

CONSUMER_LAG = Gauge(
    "gatehound_consumer_lag_messages",
    "Messages behind the end of a partition, after the last committed batch.",
    ["loop", "topic", "partition"],
)
LOOP_FAILURES = Counter(
    "gatehound_loop_failures_total",
    "Batch loops that stopped on an error (broker gone, say) and were restarted.",
    ["loop", "error"],
)
GROUP_REJOINS = Counter(
    "gatehound_group_rejoins_total",
    "Batch loops that left and rejoined their consumer group because a join did not complete "
    "within ten session timeouts.",
    ["loop"],
)
LOOP_RUNNING = Gauge(
    "gatehound_loop_running",
    "1 while a batch loop is connected and consuming, 0 while it is down or restarting.",
    ["loop"],
)
STALE_BATCHES = Counter(
    "gatehound_stale_batches_total",
    "Batches dropped unprocessed because their partitions were revoked after the fetch.",
    ["loop"],
)
BROKER_UP = Gauge(
    "gatehound_broker_up",
    "1 when the worker's last metadata request to the cluster was answered, else 0.",
)
STATE_RESTORED = Counter(
    "gatehound_state_restored_records_total",
    "Changelog records read back to rebuild state after a partition was assigned.",
    ["store"],
)
OUTCOMES = Counter(
    "gatehound_outcomes_total", "Intervention outcomes taken in, by result.", ["result"]
)
MODEL_LEARNED = Counter(
    "gatehound_model_examples_learned_total", "Examples a model learned (events or outcomes).", ["model"]
)
MODEL_AUC = Gauge(
    "gatehound_model_rolling_auc",
    "Area under the ROC curve of a yield model's scores (as given before learning) against the "
    "outcomes of its latest labelled alerts.",
    ["model"],
)
MODEL_PRECISION_AT_BUDGET = Gauge(
    "gatehound_model_precision_at_budget",
    "Of a yield model's latest labelled alerts, the share of finds among the ones it scored "
    "highest, as many as the daily intervention budget (models.daily_budget).",
    ["model"],
)
TYPOLOGY_ALERTS = Counter(
    "gatehound_typology_alerts_total", "Alerts raised, by the typology and band that raised them.",
    ["typology", "severity"],
)
TYPOLOGY_OUTCOMES = Counter(
    "gatehound_typology_outcomes_total",
    "Outcomes of examined alerts by the typology that raised them: yield and nugatory rate per typology.",
    ["typology", "result"],
)
RULE_OUTCOMES = Counter(
    "gatehound_rule_outcomes_total",
    "Outcomes of examined alerts a rule contributed to, by result: yield and nugatory rate per rule.",
    ["rule", "result"],
)
MODEL_DRIFT = Counter(
    "gatehound_model_drift_total",
    "Changes ADWIN detected in a yield model's error on new outcomes: the world moved.",
    ["model"],
)


# The operations centre and oversight. Routes are the app's route templates
# ("/alerts/{alert_id}"), never a path with an id in it.
_REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
OPS_REQUESTS = Counter(
    "gatehound_ops_requests_total", "Requests the ops centre answered.", ["route", "method", "status"]
)
OPS_REQUEST_DURATION = Histogram(
    "gatehound_ops_request_duration_seconds",
    "Time the ops centre took to answer a request (a live feed stream is not timed).",
    ["route"],
    buckets=_REQUEST_BUCKETS,
)
OPS_SSE_CLIENTS = Gauge("gatehound_ops_sse_clients", "Browsers following the live alert feed now.")
OPS_ALERTS_STORED = Counter(
    "gatehound_ops_alerts_stored_total", "Alerts the ops centre took from the alerts topic into its store.",
    ["mode", "severity"],
)
OPS_ALERT_DELAY = Histogram(
    "gatehound_ops_alert_delay_seconds",
    "From an alert's triggering event being received to the alert being in the ops centre's store.",
    buckets=_LATENCY_BUCKETS,
)
OPS_OUTCOMES_PUBLISHED = Counter(
    "gatehound_ops_outcomes_published_total", "Outcomes officers recorded and the ops centre published.",
    ["result"],
)
AUDIT_RECORDS = Counter(
    "gatehound_audit_records_total", "Audit records written, by action and whether it was allowed.",
    ["action", "allowed"],
)
# Labelled by the store's database (sqlite, postgresql) so that only a process that has
# checked a chain exports them: an unlabelled gauge would read 0, "broken", in every worker.
AUDIT_CHAIN_OK = Gauge(
    "gatehound_audit_chain_ok", "1 when the last check of the audit chain found it whole, 0 when broken.",
    ["store"],
)
AUDIT_CHAIN_CHECKED = Gauge(
    "gatehound_audit_chain_checked_timestamp_seconds", "When the audit chain was last checked (Unix time).",
    ["store"],
)
MISUSE_SIGNALS = Gauge(
    "gatehound_misuse_signals", "Open misuse signals for supervisors, by kind.", ["kind"]
)
FAIRNESS_RATIO = Gauge(
    "gatehound_fairness_ratio",
    "A group's rate over the rate of all traffic (1 is even), over the fairness window: "
    "measure is alert, intervention or yield; dimension is nationality, sex or age_band.",
    ["measure", "dimension", "group"],
)
FAIRNESS_DISPARITIES = Gauge(
    "gatehound_fairness_disparities",
    "Groups whose ratio falls outside the configured band, by measure.",
    ["measure"],
)

class timed:  # lower case: used as `with timed("stage"):`, it reads as a phrase
    """Add the time spent in a ``with`` block to ``gatehound_stage_seconds_total{stage}``."""

    __slots__ = ("counter", "started")

    def __init__(self, stage: str) -> None:
        self.counter = STAGE_SECONDS.labels(stage=stage)
        self.started = 0.0

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.counter.inc(time.perf_counter() - self.started)


def serve_metrics(port: int, addr: str = "127.0.0.1") -> None:
    """Serve /metrics on a port; 0 means do not serve."""
    if port:
        start_http_server(port, addr=addr)
