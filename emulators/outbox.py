"""Webhook deliveries of an emulator: signed POSTs sent and retried as a provider does.

Both emulators deliver the same way — a queue of POSTs, a daemon thread that sends the
due ones outside the emulator's lock (a slow callback never holds up the API), and a
retry policy read on the emulator's clock (so moving the clock through the control API
speeds retries up). Only the policy differs: :class:`Outbox` takes it as a function
of the delivery and the time, returning the seconds to the next attempt or None to give
up. Imported by each emulator; it imports none of them.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import requests


@dataclass(eq=False)  # two identical bodies are still two deliveries
class Delivery:
    """One POST waiting to be sent (again); times are seconds on the emulator's clock."""

    url: str
    body: bytes
    headers: dict[str, str]
    first_at: float
    due: float
    attempts: int = 0


@dataclass
class Outbox:
    """The deliveries of one emulator world and their counters (read them under ``lock``)."""

    lock: object  # the emulator's lock: queueing happens under it, sending never does
    now: Callable[[], float]  # the emulator's clock, in seconds
    retry: Callable[[Delivery, float], float | None]  # seconds to the next attempt; None: give up
    accepted: Callable[[int], bool]  # which answer status counts as delivered
    name: str  # the sending thread's
    timeout: float  # seconds the provider waits for an answer
    pending: list[Delivery] = field(default_factory=list)
    delivered: int = 0
    failed_attempts: int = 0
    given_up: int = 0
    _wake: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _stopped: bool = False

    def add(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        """Queue a POST, due now (call under the lock)."""
        now = self.now()
        self.pending.append(Delivery(url, body, headers, now, now))
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        self._wake.set()

    def clear(self) -> None:
        """Nothing pending, counters at zero (call under the lock)."""
        self.pending = []
        self.delivered = self.failed_attempts = self.given_up = 0

    def counts(self) -> dict[str, int]:
        """What the control APIs show (call under the lock)."""
        return {"pending": len(self.pending), "delivered": self.delivered,
                "failed_attempts": self.failed_attempts, "given_up": self.given_up}

    def stop(self) -> None:
        """The world was replaced: send nothing more."""
        self._stopped = True
        self._wake.set()

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(0.2)
            self._wake.clear()
            with self.lock:
                now = self.now()
                due = [d for d in self.pending if d.due <= now]
            for delivery in due:
                self._send(delivery)

    def _send(self, delivery: Delivery) -> None:
        try:
            answer = requests.post(delivery.url, data=delivery.body, timeout=self.timeout,
                                   headers={"Content-Type": "application/json", **delivery.headers})
            ok = self.accepted(answer.status_code)
        except requests.RequestException:
            ok = False
        with self.lock:
            if delivery not in self.pending:
                return  # reset or removed meanwhile
            delivery.attempts += 1
            if ok:
                self.pending.remove(delivery)
                self.delivered += 1
                return
            self.failed_attempts += 1
            now = self.now()
            delay = self.retry(delivery, now)
            if delay is None:
                self.pending.remove(delivery)
                self.given_up += 1
                return
            delivery.due = now + delay
            if delay == 0:
                self._wake.set()
