"""The bulk scheduler behind ``Producer.send_many``: lanes of long-lived workers per consumer.

It lives apart from the producer and drives it only through its public
per-command steps (the ``Sender`` protocol): ``prepare`` (validate, guard,
route; ``CommandRefused`` when nothing may be sent) and ``send_to`` (one
routed consumer's exchange, never raises). Rate limits and the producer-wide
``max_concurrency`` are enforced inside ``send_to``, so they hold across
``send`` and ``send_many`` alike.
"""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from fn_openc2.lib.producer.envelope import new_request_id
from fn_openc2.lib.producer.errors import CommandRefused
from fn_openc2.lib.producer.outcome import CommandOutcome, ConsumerAnswer

if TYPE_CHECKING:   # the producer imports this module; these names are only annotations here
    from fn_openc2.lib.producer.producer import Consumers, Prepared, SendHooks

_MAX_BULK_THREADS = 64
_STREAM_WINDOW = 1024       # outcomes held at most while streaming (an unfinished one holds back the rest)
Job = tuple[dict[str, Any], str, list[Any], int]   # (command doc, request_id, the command's answer slots, slot index)
Slots = list["list[ConsumerAnswer] | None"]   # one per routed consumer, filled as its exchange ends
OutcomeSink = Callable[[CommandOutcome], object]


class Sender(Protocol):
    """What the scheduler needs from a producer: its two public per-command steps."""

    def prepare(self, command: Any, consumers: Consumers) -> Prepared: ...

    def send_to(self, command: dict[str, Any], consumer: str, request_id: str, *,
                hooks: SendHooks | None = None) -> list[ConsumerAnswer]: ...


def run_bulk(sender: Sender, commands: Iterable[Any], consumers: Consumers, concurrency: int,
             on_outcome: OutcomeSink | None = None, hooks: SendHooks | None = None) -> list[CommandOutcome]:
    """``Producer.send_many`` once its arguments are checked: ``concurrency`` is per consumer
    (already capped at ``max_concurrency``). Outcomes in input order; with ``on_outcome``
    streamed to it instead and [] returned."""
    return _Bulk(sender, commands, consumers, concurrency, on_outcome, hooks).run()


class _Bulk:
    """One ``send_many`` call: a shared source of commands and one lane per consumer.

    Each lane has up to ``concurrency`` long-lived workers. A worker whose lane
    is empty takes the source lock, prepares the next command (validate, guard,
    route) and queues its jobs on the lanes it routes to, its own lane
    included, then sends; so preparation runs in the senders' own threads,
    just ahead of the send, with no hand-over between threads and no Future
    per message. A lane holds a bounded backlog: a command routed to a busy
    consumer makes the preparing worker wait, which keeps a lazy iterable
    consumed at the pace of the sends.

    Outcomes leave through ``emit`` in input order as soon as they and every
    earlier one are complete: into the returned list, or, streaming, to the
    caller's sink and then forgotten; a streaming run prepares no further
    command while ``_STREAM_WINDOW`` outcomes wait, so its memory is bounded
    whatever the number of commands."""

    def __init__(self, sender: Sender, commands: Iterable[Any], consumers: Consumers,
                 concurrency: int, sink: OutcomeSink | None = None, hooks: SendHooks | None = None) -> None:
        self.sender = sender
        self.hooks = hooks
        self.commands = iter(commands)
        self.consumers = consumers
        self.concurrency = concurrency
        self.outcomes: list[CommandOutcome] = []
        self.sink: OutcomeSink = sink or self.outcomes.append
        self.window = _STREAM_WINDOW if sink is not None else None
        self.pending: deque[tuple[CommandOutcome, Slots | None]] = deque()   # input order, not yet emitted
        self.emitting = threading.Condition()   # guards pending; notified when outcomes leave
        self.lanes: dict[str, _Lane] = {}
        self.source_lock = threading.Lock()
        self.exhausted = False                  # read and set under source_lock (or on failure)
        self.failure: BaseException | None = None
        self.state = threading.Condition()      # guards live and budget
        self.live = 0
        self.budget = _MAX_BULK_THREADS

    def run(self) -> list[CommandOutcome]:
        try:
            with self.source_lock:
                self.pull(None)
        except BaseException as exc:
            self.fail(exc)
        with self.state:
            while self.live:
                self.state.wait()
        if self.failure is not None:
            raise self.failure
        self.emit()
        return self.outcomes

    def emit(self) -> None:
        """Hand on every complete outcome at the head of the input order."""
        with self.emitting:
            pending = self.pending
            while pending:
                outcome, answers = pending[0]
                if answers is not None:
                    if any(part is None for part in answers):
                        return
                    outcome.take([part or [] for part in answers])
                pending.popleft()
                self.sink(outcome)
                self.emitting.notify_all()

    def full(self) -> bool:
        return self.window is not None and len(self.pending) >= self.window

    def wait_for_room(self) -> None:
        """Streaming: until the held outcomes are below the window (or the run failed)."""
        if self.window is None:
            return
        with self.emitting:
            while len(self.pending) >= self.window and self.failure is None:
                self.emitting.wait(0.5)

    def pull(self, lane: _Lane | None) -> bool:
        """Under source_lock: prepare commands until ``lane`` has a job (None: until any job
        is queued). False when the source is exhausted first."""
        while True:
            if lane is not None and lane.has_jobs():
                return True
            if self.exhausted:
                return False
            if lane is not None and self.full():
                return True        # the worker waits for room outside the source lock, then comes back
            try:
                command = next(self.commands)
            except StopIteration:
                self.exhausted = True
                return False
            try:
                doc, names = self.sender.prepare(command, self.consumers)
            except CommandRefused as refused:
                with self.emitting:
                    self.pending.append((refused.outcome, None))
                self.emit()
                continue
            ids = [new_request_id() for _ in names]
            outcome = CommandOutcome(command=doc, request_id=ids[0])
            answers: Slots = [None] * len(names)
            with self.emitting:
                self.pending.append((outcome, answers))
            for position, (name, request_id) in enumerate(zip(names, ids, strict=True)):
                target = self.lanes.get(name)
                if target is None:
                    target = self.lanes[name] = _Lane(self, name)
                target.put((doc, request_id, answers, position))
            if lane is None:
                return True

    def start_worker(self, lane: _Lane, first: bool) -> None:
        """One more worker for ``lane``: always its first, then while the source may
        still hold work, up to the concurrency and the thread budget."""
        with self.state:
            if not first and (self.exhausted or self.failure is not None or self.budget <= 0
                              or len(lane.threads) >= self.concurrency):
                return
            self.budget -= 1
            self.live += 1
            worker = threading.Thread(target=lane.work, name=f"openc2-bulk-{lane.name}-{len(lane.threads)}",
                                      daemon=True)
            lane.threads.append(worker)
        worker.start()

    def worker_done(self) -> None:
        with self.state:
            self.live -= 1
            if not self.live:
                self.state.notify_all()

    def fail(self, exc: BaseException) -> None:
        """Stop everything not yet sent; ``run`` re-raises the first failure."""
        with self.state:
            if self.failure is None:
                self.failure = exc
            self.exhausted = True
        for lane in list(self.lanes.values()):
            lane.abort()


class _Lane:
    """One consumer's backlog within a ``send_many`` and the workers sending it."""

    def __init__(self, bulk: _Bulk, name: str) -> None:
        self.bulk = bulk
        self.name = name
        self.threads: list[threading.Thread] = []
        self._jobs: deque[Job] = deque()
        self._high = max(8, 4 * bulk.concurrency)
        self._low = self._high // 2
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)   # a preparing worker waits here when the backlog is full

    def has_jobs(self) -> bool:
        return bool(self._jobs)

    def put(self, job: Job) -> None:
        with self._lock:
            while len(self._jobs) >= self._high and self.bulk.failure is None:
                self._room.wait()
            if self.bulk.failure is not None:
                return
            self._jobs.append(job)
        if not self.threads:
            self.bulk.start_worker(self, first=True)

    def _take(self) -> Job | None:
        with self._lock:
            if not self._jobs:
                return None
            job = self._jobs.popleft()
            if len(self._jobs) == self._low:
                self._room.notify()
            return job

    def abort(self) -> None:
        with self._lock:
            self._jobs.clear()
            self._room.notify_all()

    def work(self) -> None:
        bulk = self.bulk
        send_to = bulk.sender.send_to
        grown = False
        try:
            while True:
                job = self._take()
                if job is None:
                    bulk.wait_for_room()
                    with bulk.source_lock:
                        if not bulk.pull(self):
                            return
                    continue
                if not grown:    # ramp up: each worker, once busy, brings in the next one
                    grown = True
                    bulk.start_worker(self, first=False)
                doc, request_id, answers, position = job
                answers[position] = send_to(doc, self.name, request_id, hooks=bulk.hooks)
                bulk.emit()
        except BaseException as exc:  # a bug or a failing iterable; send_to turns exchange failures into answers
            bulk.fail(exc)
        finally:
            bulk.worker_done()
