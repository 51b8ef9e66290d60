"""Keep the job worker of ``vivres serve`` alive, and tell ``/health`` how it is doing.

The worker is a separate process (``python -m api.jobs``). The supervisor restarts it when it
dies (crash, OOM kill, ``kill -9``) after marking the jobs it was running ``interrupted`` at
once, and writes the live worker's pid to a file named by ``VIVRES_WORKER_PIDFILE`` that the
API's health check reads. The database URL reaches the worker through the environment, never
its command line (``ps`` shows every user the command line, password included).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from api.settings import ENV_PIDFILE, settings
from api.store.db import ENV_URL

log = logging.getLogger(__name__)

__all__ = ["ENV_PIDFILE", "Supervisor", "worker_command", "worker_pid"]
CHECK_S = 0.5


def worker_command(parent_pid: int) -> list[str]:
    """The worker's argv: no database URL (it reads ``VIVRES_DATABASE_URL``)."""
    return [sys.executable, "-m", "api.jobs", "--parent", str(parent_pid)]


def worker_pid() -> int | None:
    """The supervised worker's pid when it is alive, else None (no pidfile: no worker here)."""
    path = settings().worker_pidfile
    if not path:
        return None
    try:
        pid = int(Path(path).read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


class Supervisor:
    """Start the worker, restart it whenever it exits until :meth:`stop`."""

    def __init__(self, url: str, pidfile: Path):
        self.url, self.pidfile = url, pidfile
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="vivres-supervisor", daemon=True)

    def start(self) -> Supervisor:
        self._spawn()
        self._thread.start()
        return self

    def _spawn(self) -> None:
        env = dict(os.environ, **{ENV_URL: self.url})
        self.process = subprocess.Popen(worker_command(os.getpid()), env=env)
        tmp = self.pidfile.with_suffix(".tmp")
        tmp.write_text(str(self.process.pid))
        tmp.replace(self.pidfile)

    def _watch(self) -> None:
        while not self._stopping.wait(CHECK_S):
            code = self.process.poll()
            if code is None or self._stopping.is_set():
                continue
            log.warning("job worker %d exited (%s): restarting it", self.process.pid, code)
            self._interrupt_orphans()
            self.restarts += 1
            self._spawn()

    def _interrupt_orphans(self) -> None:
        from api.jobs import mark_interrupted
        from api.store.db import Store

        store = Store.open(self.url, upgrade=False)
        try:
            mark_interrupted(
                store,
                reason="interrupted: the job worker died during the job "
                "(it was restarted); re-run it",
            )
        except Exception:  # the database is away: the new worker sweeps at start anyway
            log.exception("could not mark the dead worker's jobs interrupted")
        finally:
            store.engine.dispose()

    def stop(self, timeout_s: float = 15) -> None:
        """Stop watching, then terminate the worker (kill it after ``timeout_s``)."""
        self._stopping.set()
        self._thread.join(timeout=2)
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.pidfile.unlink(missing_ok=True)
