"""The open loop's window (every request scheduled in it counts) and the stage table of ``bench stages``."""

from __future__ import annotations

from bench._figures import from_samples, ratios
from bench._load import Samples
from bench.stages import NEEDED, gc_rows, joined, stage_rows


def test_the_open_loop_counts_a_request_answered_after_its_window() -> None:
    """The slowest requests are those answered after the window: leaving them out would cut the p99's tail."""
    opened, closed = Samples(started=10.0), Samples(started=10.0)
    for samples, is_open in ((opened, True), (closed, False)):
        samples.timed(10.5, 10.6, "202", 8.0, opened=is_open)
        samples.timed(17.9, 18.4, "202", 8.0, opened=is_open)  # answered 0.4 s after the window
        samples.timed(9.9, 10.0, "202", 8.0, opened=is_open)  # warm-up
        samples.timed(18.1, 18.2, "202", 8.0, opened=is_open)  # scheduled after the window
    assert sorted(round(x, 3) for x in opened.latencies) == [0.1, 0.5]
    assert opened.last == 18.4 and opened.statuses == {"202": 2}
    assert [round(x, 3) for x in closed.latencies] == [0.1]


def test_each_request_s_time_splits_into_its_stages() -> None:
    times = {key: 0.0 for key in NEEDED}
    times.update(
        {
            "read": 1.001,
            "handler": 1.002,
            "judge": 1.002,
            "judged": 1.003,
            "claim.in": 1.003,
            "claim.flush": 1.004,
            "claim.flushed": 1.005,
            "claim.done": 1.005,
            "publish": 1.005,
            "confirmed": 1.008,
            "after.in": 1.008,
            "after.flush": 1.008,
            "after.flushed": 1.010,
            "after.done": 1.010,
            "answer": 1.011,
            "id": "t-1",
        }
    )
    generated = {"started": 0.5, "ended": 8.5, "ids": [["t-1", 1.0, 1.012, 1.0], ["t-2", 1.0, 1.1, 1.0]]}
    requests = joined(generated, {"trace-1": {"requests": [times]}}, 8.0)
    assert len(requests) == 1  # t-2 was not traced
    rows = {row[0]: row[1] for row in stage_rows(requests)}
    assert rows["scheduled -> answered (the p99's own)"] == "12.0"
    assert rows["publish -> confirm"] == "3.0"
    assert rows["after: flush (statement + commit)"] == "2.0"
    assert rows["answer made -> received by the generator"] == "1.0"


def test_a_refusal_is_an_error_not_a_latency() -> None:
    """A 503 (the in-flight bound) comes back at once: its latency would lower the p99 of the 202s."""
    samples = Samples(started=0.0)
    for _ in range(98):
        samples.timed(1.0, 1.5, "202", 8.0, opened=True)
    samples.timed(1.0, 1.001, "503", 8.0, opened=True)
    samples.timed(1.0, 1.001, "503", 8.0, opened=True)
    samples.ended = 8.0
    fig = from_samples("open", samples.as_dict(), None, 500.0)
    assert (fig.ok, fig.sent, fig.errors) == (98, 100, 2)
    assert fig.p99_ms == 500.0
    values = ratios([], fig, [], fig, [], None)
    assert values["open_loop_p99_ms"] is None  # 2 % got no 202: no p99 of the 202s to compare


def test_a_request_counts_the_gc_pauses_of_its_own_process_between_read_and_answer() -> None:
    keys = (*NEEDED, "claim.in", "claim.flushed", "claim.done", "after.in", "after.flushed", "after.done")
    times = {key: 1.0 for key in keys} | {"read": 1.000, "answer": 1.020, "id": "t-1"}
    # start, wall s, CPU s, generation, collected: one before the read, one across it, one inside, one after
    pauses = [[0.990, 0.005, 0.005, 0, 0], [0.998, 0.004, 0.004, 0, 0], [1.010, 0.003, 0.003, 0, 3]]
    pauses.append([1.030, 0.008, 0.008, 1, 0])
    generated = {"started": 0.5, "ended": 8.5, "ids": [["t-1", 1.0, 1.021, 1.0]]}
    traces = {
        "trace-1": {"requests": [times], "gc": pauses},
        "trace-2": {"requests": [], "gc": [[1.0, 1.0, 1.0, 0, 0]]},
    }
    requests = joined(generated, traces, 8.0)
    rows = {row[0]: row[3] for row in stage_rows(requests)}  # the p99
    assert rows["(GC pauses between read and answer)"] == "5.0"  # 2 of the one across the read, 3 inside
    assert gc_rows(traces, 0.0, 2.0)[:2] == [
        ("trace-1", "0", "3", "4.0 / 5.0", "5.0", "1", "-"),
        ("trace-1", "1", "1", "8.0 / 8.0", "8.0", "0", "-"),
    ]
