"""Prometheus metrics of this process (``prometheus-client``), scraped at ``/metrics`` on the web role and
on ``HOTLINE_METRICS_PORT`` by the other roles. Each process counts what it does itself (the intakes it
served, the deadlines it fired, the calls it followed); Prometheus adds the processes up."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

ORDERS_ACCEPTED = Counter(
    "hotline_orders_accepted", "Work orders accepted by this process", ["channel"], registry=REGISTRY
)
ORDER_CHANGES = Counter(
    "hotline_order_changes", "Lifecycle changes to work orders made by this process", registry=REGISTRY
)
DEADLINES_FIRED = Counter(
    "hotline_deadlines_fired", "SLA deadlines fired by this process's scheduler", ["kind"], registry=REGISTRY
)
CALLS_ENDED = Counter(
    "hotline_calls_ended", "Calls that ended, as the telephony role saw them", ["outcome"], registry=REGISTRY
)
CALLS_ANSWERED = Counter("hotline_calls_answered", "Calls answered by an agent", ["queue"], registry=REGISTRY)
QUEUE_WAIT = Histogram(
    "hotline_queue_wait_seconds",
    "Time a caller waited in the queue before an agent answered",
    buckets=(5, 10, 15, 20, 30, 45, 60, 90, 120, 300),
    registry=REGISTRY,
)
BUS_SENT = Counter("hotline_bus_sent", "Events this process sent to the broker", registry=REGISTRY)
BUS_RECEIVED = Counter("hotline_bus_received", "Events received from other processes", registry=REGISTRY)
BUS_DROPPED = Counter("hotline_bus_dropped", "Malformed or unknown messages dropped", registry=REGISTRY)
BUS_LAG = Histogram(
    "hotline_bus_lag_seconds",
    "Time from publish in another process to delivery here",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
OUTBOX_UNSENT = Gauge("hotline_outbox_unsent", "Outbox rows waiting to be marked sent", registry=REGISTRY)
ASR_ACTIVE_CALLS = Gauge("hotline_asr_active_calls", "Calls this process is transcribing", registry=REGISTRY)
RTP_DROPPED = Counter(
    "hotline_rtp_packets_dropped", "Malformed or late RTP packets dropped", ["reason"], registry=REGISTRY
)


def exposition() -> bytes:
    return generate_latest(REGISTRY)
