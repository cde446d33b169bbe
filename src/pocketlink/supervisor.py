"""One child process of the daemon kept running: started, awaited until it says it is
ready, started again whenever it exits, stopped with the daemon.

The moto backend (services/backend.py) and the service front (services/front.py) are
such children. What is theirs (the command, what "ready" means, the log lines that say
what happened) is the subclass's; what they share is here, once: a child that dies
sooner than QUICK_EXIT after it started is started again after a pause that doubles up to
MAX_BACKOFF (a child that cannot live must not eat a core), and ``stop`` terminates it and
kills it if it has not gone after STOP_GRACE. The DNS process and the data-plane workers
are restarted when their control channel closes, and pause by other rules
(dns/process.py, dataplane/hyperplane.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

QUICK_EXIT = 30.0  # a child that dies sooner than this after starting is restarted later
MAX_BACKOFF = 30.0
FIRST_BACKOFF = 0.5
STOP_GRACE = 10.0  # seconds a terminated child has to exit before it is killed


def exit_reason(code: int) -> str:
    """How a child ended, as the log line says it: ``signal SIGKILL`` or ``code 1``."""
    return f"signal {signal.Signals(-code).name}" if code < 0 else f"code {code}"


class ChildSupervisor:
    """Subclasses say how the child starts (``spawn``), when it is ready (``ready``,
    within ``startup`` seconds) and what to log once it is (``announce``); ``log`` and
    ``name`` say where and as what its failures to start are logged."""

    name: str
    log: logging.Logger
    startup: float

    def __init__(self) -> None:
        self.restarts = 0
        self.process: asyncio.subprocess.Process | None = None
        self.stopping = False
        self._supervisor: asyncio.Task | None = None

    @property
    def pid(self) -> int | None:
        """The child's, while it runs."""
        process = self.process
        return process.pid if process is not None and process.returncode is None else None

    def supervise(self) -> None:
        """Starts the child (once: later calls find it supervised already)."""
        if self._supervisor is None and not self.stopping:
            self._supervisor = asyncio.create_task(self._supervise())

    async def stop(self) -> None:
        self.stopping = True
        if self._supervisor is None:
            return
        process = self.process
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), STOP_GRACE)
            except TimeoutError:
                process.kill()
                await process.wait()
        self._supervisor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._supervisor

    # --- the child's own part ----------------------------------------------------------
    async def spawn(self) -> asyncio.subprocess.Process:
        raise NotImplementedError

    async def ready(self, process: asyncio.subprocess.Process) -> None:
        """Returns once ``process`` serves; raises EOFError if it ended before."""
        raise NotImplementedError

    def announce(self, exited: str | None) -> None:
        """Logs that the child is up: for the first time (``exited`` None), or again
        after it exited as ``exited`` says (``restarts`` already counts it)."""
        raise NotImplementedError

    def ended(self) -> None:
        """The child has exited (and is not ready any more)."""

    # --- the supervision ---------------------------------------------------------------
    async def _supervise(self) -> None:
        exited: str | None = None
        backoff = FIRST_BACKOFF
        while not self.stopping:
            started = time.monotonic()
            try:
                process = await self._start()
            except Exception as error:  # the supervisor must outlive every failure
                self.log.error("%s could not start (%s); trying again in %.1f s",
                               self.name, error, backoff)
            else:
                if exited is not None:
                    self.restarts += 1
                self.announce(exited)
                code = await process.wait()
                self.ended()
                if self.stopping:
                    return
                exited = exit_reason(code)
                if time.monotonic() - started > QUICK_EXIT:
                    backoff = FIRST_BACKOFF
                    continue
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def _start(self) -> asyncio.subprocess.Process:
        process = self.process = await self.spawn()
        try:
            await asyncio.wait_for(self.ready(process), self.startup)
        except (TimeoutError, EOFError):
            if process.returncode is None:
                process.kill()
            await process.wait()
            raise ConnectionError(f"it exited with code {process.returncode}") from None
        return process
