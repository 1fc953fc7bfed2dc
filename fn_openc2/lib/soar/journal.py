"""SOAR as the journal of every command: how notes and rows are written.

Order: a command's openc2_commands row is written (state ``sending``) before
the command goes out, and updated with its answer as soon as it arrives
(``Journal`` is the producer's ``SendHooks``). After a crash the incident
shows every command that may have been carried out, with its command_id.

Before sending, the rows the incident already holds are read once: a target
with a command of the same action, profile and consumer still in effect
(``writeback.IN_EFFECT``: sending, active, unknown) is not sent again, unless
``force``.

Failures: every SOAR call has a timeout (``IncidentClient.timeout``).
A failed write is retried with exponential backoff while the time spent on
failures stays within ``budget`` seconds; once the budget is spent no further
SOAR call is made. A retried POST first reads whether the failed one landed
(the server may have saved it and lost the reply): a row by its
(request_id, consumer, responder), a note by its header. A failed read never
blocks a write. Whatever could not be written is listed in
``report.unwritten`` (the payload) and, at ``finish``, in one note.
Nothing here raises: the function's payload must survive SOAR failing.

Fleets: a (command, consumer) with more answers than ``rows_per_command``
gets one summary row (counts by status) instead of one row per responder.
Answers are taken one at a time (``on_answer``, or each of ``after_answers``'
list): counted and spooled to temporary CSV/JSON files for the attachments,
only the first ``rows_per_command`` kept, so the write-back holds counts, not
a fleet's answers.
"""
from __future__ import annotations

import threading
from html import escape as html_escape
import time
from dataclasses import dataclass, field
from logging import Logger
from typing import Any, TypeVar
from collections.abc import Callable, Iterable, Mapping

from fn_openc2.lib.producer import ConsumerAnswer
from fn_openc2.lib.soar import writeback as wb
from fn_openc2.lib.soar.soar_client import IncidentClient, SoarError

T = TypeVar("T")
FIRST_DELAY = 0.25
MAX_DELAY = 8.0


@dataclass
class WriteReport:
    """What reached the incident; lands in the function's payload as ``writeback``."""

    enabled: bool
    notes: list[int | None] = field(default_factory=list)
    rows: int = 0
    rows_updated: int = 0
    skipped_repeats: int = 0
    attachments: list[str] = field(default_factory=list)   # fleets: every answer as CSV and JSON
    retries: int = 0
    landed_after_error: int = 0          # a failed call whose write the server had saved after all
    errors: list[str] = field(default_factory=list)      # every failed SOAR call, retried or not
    unwritten: list[str] = field(default_factory=list)   # what is missing from the incident

    @property
    def complete(self) -> bool:
        return not self.unwritten

    def to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "complete": self.complete, "notes": self.notes, "rows": self.rows,
                "rows_updated": self.rows_updated, "skipped_repeats": self.skipped_repeats,
                "attachments": self.attachments,
                "retries": self.retries, "landed_after_error": self.landed_after_error,
                "errors": self.errors, "unwritten": self.unwritten}


def _key(cells: Mapping[str, Any]) -> tuple[str, str, str]:
    """One row: an MQTT command's responders share its request_id, so the responder counts too."""
    return str(cells.get("request_id")), str(cells.get("consumer")), str(cells.get("responder") or "")


def _kind(command: Mapping[str, Any], consumer: str) -> tuple[str, str, str, str]:
    """What makes two commands 'the same' for the already-in-effect check."""
    target = command.get("target")
    return (str(command.get("action")), wb.compact(target) if target is not None else "",
            str(command.get("profile") or ""), consumer)


def _row_kind(cells: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (str(cells.get("action")), str(cells.get("target") or ""), str(cells.get("profile") or ""),
            str(cells.get("consumer")))


class Journal:
    """Writes one incident's record of a function run; thread-safe (sending threads call the hooks)."""

    def __init__(self, client: IncidentClient, log: Logger, *, budget: float = 120.0, rows_per_command: int = 50,
                 notes: bool = True, rows: bool = True, force: bool = False,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.log = log
        self.budget = budget
        self.rows_per_command = rows_per_command
        self.write_notes = notes
        self.write_rows = rows
        self.force = force
        self.report = WriteReport(enabled=True)
        self.time_ms = int(time.time() * 1000)
        self.expires: dict[str, int | None] = {}        # command_id -> expires (epoch ms)
        self.skipped: dict[str, list[str]] = {}         # command_id -> why it was not sent again
        self.unsent: dict[str, list[str]] = {}          # command_id -> its row could not be written: not sent
        self.fleets: list[wb.FleetSpool] = []        # (command, consumer)s past rows_per_command: attachments
        self._streams: dict[tuple[str, str], wb.FleetSpool] = {}   # (request_id, consumer) -> answers so far
        self._sleep = sleep
        self._spent = 0.0
        self._gave_up = False
        self._lock = threading.RLock()
        self._sending: dict[tuple[str, str], int | None] = {}      # (request_id, consumer) -> row id
        self._in_effect: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self._note_texts: list[str] | None = None
        self._missing: dict[Any, str] = {}      # what is not in the incident (see _attempt)
        self._last = ""

    # ------------------------------------------------------------ retries
    def _attempt(self, what: str, call: Callable[[], T], landed: Callable[[], T | None] | None = None,
                 unwritten: str | None = None, key: Any = None, retry: bool = True,
                 last_chance: bool = False) -> tuple[bool, T | None]:
        """(True, value) once ``call`` (or ``landed``) succeeds; (False, None) when it failed for good
        (a 4xx, or the budget ran out). ``unwritten`` names the item for the report when it is a
        write (None: a read); ``key`` identifies it, so a later write of the same item (a row's
        answer after its 'sending' state) replaces or clears the entry. ``retry`` False: one
        try (optional reads: a failed read never blocks a write). ``last_chance``: one try even
        after the budget is spent (notes: the analyst must learn what is missing)."""
        ok, value = self._retrying(call, landed, retry, last_chance)
        if unwritten is not None:
            key = key if key is not None else unwritten
            if ok:
                self._missing.pop(key, None)
            else:
                self._missing[key] = f"{unwritten}: {self._last}"
            self.report.unwritten = list(self._missing.values())
        return ok, value

    def _retrying(self, call: Callable[[], T], landed: Callable[[], T | None] | None, retry: bool,
                  last_chance: bool) -> tuple[bool, T | None]:
        delay = FIRST_DELAY
        last = ""
        if self._gave_up:
            retry = False
            if not last_chance:
                self._last = "not tried: the SOAR write-back time budget was already spent"
                return False, None
        while True:
            began = time.monotonic()
            try:
                return True, call()
            except SoarError as err:
                last = str(err)
                self.report.errors.append(last)
                self.log.warning("fn_openc2 write-back: %s", err)
                if not err.transient:       # 4xx: retrying cannot help
                    self._spent += time.monotonic() - began
                    break
            if landed is not None:
                try:
                    found = landed()
                except SoarError as err:     # a failed read never blocks the retry
                    self.report.errors.append(str(err))
                    found = None
                if found is not None:
                    self.report.landed_after_error += 1
                    self._spent += time.monotonic() - began
                    return True, found
            self._spent += time.monotonic() - began
            if not retry:
                break
            if self._spent + delay > self.budget:
                self._gave_up = True
                # %s only: resilient-circuits' RedactingFilter turns every log argument into a str
                self.log.error("fn_openc2 write-back: time budget of %ss spent on SOAR failures; no more "
                               "retries or rows in this run, notes get one last try", self.budget)
                break
            self.report.retries += 1
            self._sleep(delay)
            self._spent += delay
            delay = min(delay * 2, MAX_DELAY)
        self._last = last
        return False, None

    # ------------------------------------------------------------ reads
    def load_in_effect(self) -> str | None:
        """Read the incident's openc2_commands once; None, or why it could not be read."""
        ok, rows = self._attempt("reading openc2_commands", lambda: self.client.rows(wb.COMMANDS_TABLE))
        if not ok:
            return self.report.errors[-1] if self.report.errors else "SOAR write-back time budget spent"
        now = int(time.time() * 1000)
        for _, cells in rows or []:
            if wb.effective_state(cells, now) in wb.IN_EFFECT:
                self._in_effect.setdefault(_row_kind(cells), cells)
        return None

    def _find_row(self, key: tuple[str, str, str]) -> int | None:
        for row_id, cells in self.client.rows(wb.COMMANDS_TABLE):
            if _key(cells) == key:
                return row_id
        return None

    # ------------------------------------------------------------ hooks (producer SendHooks)
    def before_send(self, command: dict[str, Any], consumer: str, request_id: str) -> bool:
        with self._lock:
            found = None if self.force else self._in_effect.get(_kind(command, consumer))
            if found is not None:
                state = wb.effective_state(found)
                what = "still sending (or interrupted while sending)" if state == "sending" else \
                    "outcome unknown (may have been carried out)" if state == "unknown" else "active"
                reason = (f"{wb.target_text(command)} to {consumer}: already {what} since {wb.since_text(found)}, "
                          f"command_id {found.get('command_id')}; set openc2_force to send anyway")
                self.skipped.setdefault(str(command.get("command_id")), []).append(reason)
                return False
            self._in_effect[_kind(command, consumer)] = {"state": "sending", "time": self.time_ms,
                                                         "command_id": command.get("command_id")}
            if not self.write_rows:
                return True
            cells = wb.command_cells(command, consumer, request_id, time_ms=self.time_ms,
                                     expires_ms=self.expires.get(str(command.get("command_id"))))
            item = (request_id, consumer)
            row_id = self._add_row(cells, item)
            if item in self._missing:      # no record, no command: nothing may be done that the incident cannot show
                del self._missing[item]
                self.report.unwritten = list(self._missing.values())
                self.unsent.setdefault(str(command.get("command_id")), []).append(
                    f"{wb.target_text(command)} to {consumer}: not sent: its openc2_commands row could not be "
                    f"written first ({self._last})")
                del self._in_effect[_kind(command, consumer)]
                return False
            self._sending[item] = row_id
            return True

    def on_answer(self, command: dict[str, Any], consumer: str, request_id: str, answer: ConsumerAnswer) -> None:
        """One answer of a (command, consumer), as it comes (a streamed fan-out): counted and
        spooled to the attachment files, only the first ``rows_per_command`` kept (for their
        rows); ``after_answers`` then writes the rows or the summary row. No SOAR call here."""
        with self._lock:
            if not self.write_rows:
                return
            key = (request_id, consumer)
            spool = self._streams.get(key)
            if spool is None:
                spool = self._streams[key] = wb.FleetSpool(command, consumer, keep=self.rows_per_command)
            spool.add(answer)

    def after_answers(self, command: dict[str, Any], consumer: str, request_id: str,
                      answers: list[ConsumerAnswer]) -> None:
        """The (command, consumer)'s answers are all in: ``answers`` (the ones not already passed to
        ``on_answer``) are taken one by one like the streamed ones, then its rows are written."""
        with self._lock:
            if not self.write_rows:
                return
            for answer in answers:
                self.on_answer(command, consumer, request_id, answer)
            spool = self._streams.pop((request_id, consumer), None) or \
                wb.FleetSpool(command, consumer, keep=self.rows_per_command)
            row_id = self._sending.pop((request_id, consumer), None)
            base = wb.command_cells(command, consumer, request_id, time_ms=self.time_ms,
                                    expires_ms=self.expires.get(str(command.get("command_id"))))
            if spool.counts.total > self.rows_per_command:
                self.fleets.append(spool)
                self._put_row(row_id, wb.summary_cells(command, spool.counts, base), (request_id, consumer))
                return
            spool.close()
            for n, answer in enumerate(spool.first):
                cells = wb.answer_cells(command, answer, base)
                self._put_row(row_id if n == 0 else None, cells, (request_id, consumer) if n == 0 else _key(cells))

    # ------------------------------------------------------------ writes
    def _add_row(self, cells: dict[str, Any], item: Any = None) -> int | None:
        key = _key(cells)
        ok, row_id = self._attempt("adding a row", lambda: self.client.add_row(wb.COMMANDS_TABLE, cells),
                                   landed=lambda: self._find_row(key), unwritten=wb.row_label(cells),
                                   key=item or key)
        if ok:
            self.report.rows += 1
        return row_id

    def _put_row(self, row_id: int | None, cells: dict[str, Any], item: Any = None) -> None:
        """Update a stored row, or add it when there is none (its 'sending' row was never written,
        or a further MQTT responder); ``item`` names the record for the unwritten list."""
        if row_id is None:
            self._add_row(cells, item)
            return
        ok, _ = self._attempt("updating a row", lambda: self.client.update_row(wb.COMMANDS_TABLE, row_id, cells),
                              unwritten=wb.row_label(cells), key=item or ("row", row_id))
        if ok:
            self.report.rows_updated += 1

    def set_state(self, rows: Iterable[tuple[int, Mapping[str, Any]]], state: str) -> None:
        """Mark stored rows (e.g. 'removed' after Remove block)."""
        with self._lock:
            for row_id, cells in rows:
                self._put_row(row_id, dict(cells, state=state))

    def note(self, html: str, header: str, label: str | None = None) -> None:
        """One note, unless a note with this header is already there; ``label`` names it in the
        unwritten list (default: the header)."""
        if not self.write_notes:
            return
        with self._lock:
            if self._note_texts is None:
                ok, texts = self._attempt("listing notes", self.client.note_texts, retry=False)
                self._note_texts = texts if ok and texts is not None else []    # unread: write anyway
            marker = html_escape(header)
            if any(marker in text for text in self._note_texts):
                self.report.skipped_repeats += 1
                return

            def landed() -> int | None:
                return 0 if any(marker in t for t in self.client.note_texts()) else None
            ok, note_id = self._attempt("writing a note", lambda: self.client.add_note(html), landed=landed,
                                        unwritten=f"note '{label or header}'", key=("note", header),
                                        last_chance=True)
            if ok:
                self.report.notes.append(note_id or None)
                self._note_texts.append(html)

    def consumer_rows(self, rows: Iterable[dict[str, Any]]) -> None:
        """Replace each consumer's openc2_consumers row (first match updated, further duplicates deleted)."""
        if not self.write_rows:
            return
        with self._lock:
            ok, found = self._attempt("reading openc2_consumers", lambda: self.client.rows(wb.CONSUMERS_TABLE))
            existing: dict[str, list[int]] = {}
            for row_id, cells in (found or []) if ok else []:
                existing.setdefault(str(cells.get("consumer")), []).append(row_id)
            for cells in rows:
                self._consumer_row(cells, existing.get(cells["consumer"], []))

    def _delete_consumer_row(self, row_id: int) -> None:
        self._attempt("deleting a duplicate row", lambda: self.client.delete_row(wb.CONSUMERS_TABLE, row_id))

    def _consumer_row(self, cells: dict[str, Any], ids: list[int]) -> None:
        label = f"openc2_consumers row of {cells['consumer']}"
        if ids:
            done, _ = self._attempt("updating a row", lambda: self.client.update_row(
                wb.CONSUMERS_TABLE, ids[0], cells), unwritten=label)
            for extra in ids[1:]:
                self._delete_consumer_row(extra)
            self.report.rows_updated += done
            return

        def landed() -> int | None:
            return next((rid for rid, c in self.client.rows(wb.CONSUMERS_TABLE)
                         if c.get("consumer") == cells["consumer"]), None)
        done, _ = self._attempt("adding a row", lambda: self.client.add_row(wb.CONSUMERS_TABLE, cells),
                                landed=landed, unwritten=label)
        self.report.rows += done

    def attachment(self, name: str, content: bytes, content_type: str) -> None:
        """One incident attachment, unless one of that name is already there (a retried upload)."""
        with self._lock:
            def landed() -> int | None:
                return next((int(a.get("id") or 0) for a in self.client.attachments() if a.get("name") == name),
                            None)
            ok, _ = self._attempt("adding an attachment", lambda: self.client.add_attachment(name, content,
                                                                                          content_type),
                                  landed=landed, unwritten=f"attachment {name}", key=("attachment", name))
            if ok:
                self.report.attachments.append(name)

    def fleet_attachments(self) -> None:
        """Every answer of each fleet (more answers than rows_per_command) as CSV and JSON,
        read back from where they were spooled as they came."""
        fleets, self.fleets = self.fleets, []
        for spool in fleets:
            try:
                for name, content, content_type in spool.files():
                    self.attachment(name, content, content_type)
            finally:
                spool.close()

    def finish(self) -> None:
        """One note listing what could not be written (when SOAR takes notes again)."""
        with self._lock:
            if not self.report.unwritten:
                return
            html = wb.unwritten_note(self.client.incident_id, self.report.unwritten)
            ok, note_id = self._attempt("writing the write-back failure note", lambda: self.client.add_note(html),
                                        last_chance=True)
            if ok:
                self.report.notes.append(note_id or None)

    def failure_line(self) -> str | None:
        """For the function's reason: what is missing from the incident, or None."""
        missing = self.report.unwritten
        if not missing:
            return None
        shown = "; ".join(missing[:5]) + (f"; and {len(missing) - 5} more" if len(missing) > 5 else "")
        return (f"write-back incomplete: {len(missing)} item(s) not written to incident "
                f"{self.client.incident_id}: {shown}")


def disabled_report() -> dict[str, Any]:
    return WriteReport(enabled=False).to_dict()
