"""Run one child process: start it, wait until it is ready, stop it by its own PID."""

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

ReadyCheck = Callable[[], bool]
Command = Sequence[str] | str

_echo_lock = threading.Lock()


class ProcessError(RuntimeError):
    """A managed process could not start, exited, or was not ready in time."""

    def __init__(
        self, name: str, reason: str, output: Sequence[str] = (), *, echoed: bool = False
    ) -> None:
        self.name = name
        self.reason = reason
        self.output = list(output)
        self.echoed = echoed
        super().__init__(self.summary)

    @property
    def summary(self) -> str:
        """One line: which part failed and how."""
        return f"{self.name} {self.reason}"

    def __str__(self) -> str:
        if not self.output:
            return self.summary
        tail = "\n".join(f"  | {line}" for line in self.output)
        return f"{self.summary}; its last output:\n{tail}"


class ManagedProcess:
    """A child process in its own process group, its output drained and the tail kept."""

    def __init__(
        self,
        name: str,
        command: Command,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        ready: ReadyCheck | None = None,
        ready_line: str | None = None,
        timeout: float = 30.0,
        grace: float = 5.0,
        echo_prefix: str | None = None,
        keep_lines: int = 40,
    ) -> None:
        self.name = name
        self.command = command
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.timeout = timeout
        self.grace = grace
        self._ready = ready
        self._ready_line = ready_line
        self._echo_prefix = echo_prefix
        self._lines: deque[str] = deque(maxlen=keep_lines)
        self._lines_lock = threading.Lock()
        self._ready_line_seen = threading.Event()
        self._drains: list[threading.Thread] = []
        self._popen: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int | None:
        """The child's PID (also its process group id), once started."""
        return None if self._popen is None else self._popen.pid

    @property
    def returncode(self) -> int | None:
        """The exit code, or None while it runs or before it starts."""
        return None if self._popen is None else self._popen.poll()

    @property
    def running(self) -> bool:
        """Tell whether the child was started and has not exited."""
        return self._popen is not None and self._popen.poll() is None

    def output(self) -> list[str]:
        """The last lines the child printed (stdout and stderr, in arrival order)."""
        with self._lines_lock:
            return list(self._lines)

    def error(self, reason: str) -> ProcessError:
        """A ProcessError about this process, carrying its recent output."""
        output = self.output()
        if not output:
            reason += " (it printed nothing)"
        return ProcessError(self.name, reason, output, echoed=self._echo_prefix is not None)

    def start(self) -> Self:
        """Start the child and return once it is ready; raise ProcessError otherwise."""
        if self._popen is not None:
            raise RuntimeError(f"{self.name} was already started")
        self._popen = self._spawn()
        atexit.register(self.stop)
        self._drains = [
            self._drain_in_thread(self._popen.stdout, watch_ready_line=True),
            self._drain_in_thread(self._popen.stderr, watch_ready_line=False),
        ]
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after the grace period."""
        popen = self._popen
        if popen is None:
            return
        atexit.unregister(self.stop)
        deadline = time.monotonic() + self.grace
        _signal_group(popen.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(max(deadline - time.monotonic(), 0))
        # Children of the leader (hypercorn workers, say) may outlive it for a moment.
        while _group_alive(popen.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _group_alive(popen.pid):
            _signal_group(popen.pid, signal.SIGKILL)
        popen.wait()
        self._join_drains()

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the child to exit and return its exit code."""
        if self._popen is None:
            raise RuntimeError(f"{self.name} was not started")
        return self._popen.wait(timeout)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self) -> subprocess.Popen[str]:
        argv = ["sh", "-c", self.command] if isinstance(self.command, str) else list(self.command)
        try:
            # A new session keeps the terminal's Ctrl+C away from the child: the parent
            # stops it, in order, instead.
            return subprocess.Popen(
                argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=True,
            )
        except OSError as exc:
            raise ProcessError(self.name, f"could not be started: {exc}") from exc

    def _drain_in_thread(
        self, stream: IO[str] | None, *, watch_ready_line: bool
    ) -> threading.Thread:
        thread = threading.Thread(
            target=self._drain,
            args=(stream, watch_ready_line),
            name=f"{self.name}-output",
            daemon=True,
        )
        thread.start()
        return thread

    def _drain(self, stream: IO[str] | None, watch_ready_line: bool) -> None:
        if stream is None:
            return
        with stream:
            for raw in stream:
                line = raw.rstrip("\r\n")
                with self._lines_lock:
                    self._lines.append(line)
                if self._echo_prefix is not None:
                    echo(self._echo_prefix + line)
                if watch_ready_line and line.rstrip() == self._ready_line:
                    self._ready_line_seen.set()

    def _wait_until_ready(self) -> None:
        assert self._popen is not None
        deadline = time.monotonic() + self.timeout
        while not self._is_ready():
            code = self._popen.poll()
            if code is not None:
                self._join_drains()
                reason = f"exited with code {code} before it was ready"
                raise self.error(reason)
            if time.monotonic() >= deadline:
                raise self.error(f"was not ready within {self.timeout:g} s")
            time.sleep(0.05)

    def _is_ready(self) -> bool:
        if self._ready_line is not None and not self._ready_line_seen.is_set():
            return False
        return self._ready is None or self._ready()

    def _join_drains(self) -> None:
        # A grandchild that escaped the group could hold the pipe open: do not wait on it.
        for thread in self._drains:
            thread.join(timeout=1.0)


def echo(text: str) -> None:
    """Print text to stdout in one piece, never interleaved with echoed output."""
    with _echo_lock:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _group_alive(pgid: int) -> bool:
    """Tell whether any process of the group still runs (zombies do not count)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    return any(_running_in_group(stat, pgid) for stat in proc.glob("[0-9]*/stat"))


def _running_in_group(stat: Path, pgid: int) -> bool:
    # Orphans are not always reaped here (PID 1 may not do it), so skip zombies.
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    state, group = fields[0], int(fields[2])
    return group == pgid and state not in ("Z", "X")
