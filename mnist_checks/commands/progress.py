"""``mnist-checks grade``'s progress: a permanent line per finished fork; on a terminal also a
live line below them (tqdm), refreshed every second, of the forks done, running and left, each
running fork with its time so far and what its check is on (tests done, the training and epoch).

Piped (not a terminal), the finished forks' lines are all it prints: CI and scripts read them."""

from __future__ import annotations

import sys
import threading
import time

from tqdm import tqdm

from .common import plural

#: The live line: forks done of all, a bar, the batch's time, then ``postfix`` (running and left).
LIVE_FORMAT = "{n_fmt}/{total_fmt} forks done |{bar:12}| {elapsed}{postfix}"


def fork_line(result) -> str:
    """A finished fork's permanent line: its points, its status and how long its check took."""
    total = result.totals.get("total", (0.0, 0.0))
    return f"  {result.fork}: {total[0]:.1f}/{total[1]:.1f} {result.status} ({result.seconds:.0f} s)"


def doing(now: dict) -> str:
    """What a running fork's check is on, from ``checker.grade_log_now``'s answer."""
    if now.get("training"):
        epochs = f", epoch {min(now['done'] + 1, now['epochs'])}/{now['epochs']}" if now.get("epochs") else ""
        return f"training {now['training']}{epochs}"
    return f"{plural(now['tests'], 'test')} done" if now.get("tests") else ""


class GradingProgress:
    """``grade_forks``'s ``on_start``, ``on_result`` and ``say`` for ``total`` forks, written to
    ``stream`` (errors to ``errors``); live where ``stream`` is a terminal (or ``live``).  Use it
    as a context manager: the live line is removed on leaving, Ctrl-C included, before anything
    else is printed."""

    def __init__(self, total: int, stream=None, errors=None, *, live: bool | None = None, interval: float = 1.0):
        self.total, self.interval = total, interval
        self.stream, self.errors = stream or sys.stdout, errors or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.running: dict[str, tuple[float, object]] = {}  # name -> (when its check started, its now())
        self.done: set[str] = set()  # the forks finished: a late start event (a cluster's) leaves them so
        self.lock, self.stopped = threading.Lock(), threading.Event()
        self.bar = self.ticker = None

    def __enter__(self) -> GradingProgress:
        if self.live:
            self.bar = tqdm(total=self.total, file=self.stream, bar_format=LIVE_FORMAT, leave=False,
                            dynamic_ncols=True, mininterval=0)
            self.refresh()
            self.ticker = threading.Thread(target=self._tick, name="grading-progress", daemon=True)
            self.ticker.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def started(self, name: str, now=dict) -> None:
        """``on_start``: ``name``'s check started; ``now()`` says what it is on."""
        if self.live and not self.stopped.is_set():
            with self.lock:
                if name not in self.done:
                    self.running[name] = (time.monotonic(), now)
            self.refresh()

    def finished(self, result) -> None:
        """``on_result``: the fork's permanent line (above the live line, on a terminal)."""
        with self.lock:
            self.running.pop(result.fork, None)
            self.done.add(result.fork)
        if self.bar is None:
            print(fork_line(result), file=self.stream, flush=True)
            return
        self.bar.set_postfix_str(self.status(), refresh=False)
        self.bar.update(1)
        self.bar.write(fork_line(result), file=self.stream)

    def say(self, line: str) -> None:
        """A line for the errors stream, written above the live line."""
        if self.bar is None:
            print(line, file=self.errors, flush=True)
        else:
            self.bar.write(line, file=self.errors)

    def status(self) -> str:
        """The live line's end: how many forks run and are left, each running one with its time
        so far and what it is on, the longest-running first."""
        with self.lock:
            running, done = sorted(self.running.items(), key=lambda item: item[1][0]), len(self.done)
        clock = time.monotonic()
        parts = []
        for name, (since, now) in running:
            try:
                what = doing(now() or {})
            except Exception:  # a log being removed says nothing: the display goes on
                what = ""
            parts.append(f"{name} {tqdm.format_interval(clock - since)}" + (f" {what}" if what else ""))
        left = max(0, self.total - done - len(running))
        return f"{len(running)} running, {left} left" + (f": {'; '.join(parts)}" if parts else "")

    def refresh(self) -> None:
        """Draw the live line again with what every running fork is on now."""
        if self.bar is not None and not self.stopped.is_set():
            self.bar.set_postfix_str(self.status(), refresh=True)

    def _tick(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.refresh()
            except (OSError, ValueError):  # the stream closed under it: nothing more to draw
                return

    def close(self) -> None:
        """Stop refreshing and remove the live line (every permanent line stays)."""
        self.stopped.set()
        if self.ticker is not None:
            self.ticker.join(timeout=5)
        if self.bar is not None:
            self.bar.close()
