import os
import signal
import subprocess
import threading

import numpy as np
import pytest

pytest_plugins = ["pytester"]  # tests/test_processes.py runs inner tests that fail


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def spawn():
    """Start a child process that ends with the test in every outcome.

    ``spawn(args, timeout=60, **popen_kwargs)`` returns the ``Popen``; the child runs in a
    session of its own, a watchdog kills its whole process group after ``timeout`` seconds
    (so a read that waits for a line it never prints returns instead of hanging), and at the
    test's end — passed, failed or interrupted — a child still running is killed with its
    group and reaped. Use it for every process a test starts and talks to.
    """
    started = []

    def start(args, timeout: float = 60, **kwargs):
        process = subprocess.Popen(args, start_new_session=True, **kwargs)
        watchdog = threading.Timer(timeout, _kill_group, (process,))
        watchdog.daemon = True
        watchdog.start()
        started.append((process, watchdog))
        return process

    yield start
    for process, watchdog in started:
        watchdog.cancel()
        _kill_group(process)
        process.wait(timeout=30)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _kill_group(process) -> None:
    """SIGKILL to the child's process group (itself and anything it started), if it runs."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:  # it ended between the poll and the kill
            pass
