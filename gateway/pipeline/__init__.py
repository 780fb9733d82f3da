"""The one ingest pipeline every interface calls: read and judge a message once, then claim, publish and
record through the ports. Framework-free: no HTTP, AMQP or SQL types (see docs/architecture.md)."""

from gateway.pipeline.judge import Judge, LinkMismatch
from gateway.pipeline.link import LinkJudge
from gateway.pipeline.observe import NOBODY, Counter, DecisionSink, Observers
from gateway.pipeline.pipeline import ENVELOPED, Pipeline
from gateway.pipeline.values import (
    BARE,
    THREAD_THRESHOLD,
    Accepted,
    Checker,
    Decision,
    EnvelopeClaim,
    Expectation,
    Facts,
    Kind,
    Read,
    Verdict,
)

__all__ = [
    "BARE",
    "ENVELOPED",
    "NOBODY",
    "THREAD_THRESHOLD",
    "Accepted",
    "Checker",
    "Counter",
    "Decision",
    "DecisionSink",
    "EnvelopeClaim",
    "Expectation",
    "Facts",
    "Judge",
    "Kind",
    "LinkJudge",
    "LinkMismatch",
    "Observers",
    "Pipeline",
    "Read",
    "Verdict",
]
