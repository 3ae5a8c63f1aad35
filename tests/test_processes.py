"""A test that starts a process ends it in every outcome (issue 22, item 12): the ``spawn``
fixture of conftest.py kills a child that outlives its test — one that ignored SIGINT, or
one that never printed the line the test waits for — with its process group."""

import os
import pathlib
import time

CONFTEST = (pathlib.Path(__file__).parent / "conftest.py").read_text(encoding="utf-8")

# an inner test that starts a child ignoring SIGINT (as a training run that swallowed Ctrl-C),
# writes its pid down and fails
INNER = '''
import signal, subprocess, sys

CHILD = ("import signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
         "print('ready', flush=True); time.sleep(600)")


def test_fails_while_its_child_runs(spawn, tmp_path_factory):
    process = spawn([sys.executable, "-c", CHILD], timeout=TIMEOUT, stdout=subprocess.PIPE)
    PIDS.write_text(str(process.pid))
    assert process.stdout.readline() == b"ready\\n"
    process.send_signal(signal.SIGINT)
    process.wait(timeout=1)  # it ignores SIGINT: TimeoutExpired, the test fails
'''


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _run_inner(pytester, tmp_path, inner: str, timeout: float):
    """Run ``inner`` as a test file with our conftest; ``(result, the child's pid)``."""
    pids = tmp_path / "pid.txt"
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(inner.replace("TIMEOUT", str(timeout))
                        .replace("PIDS", f"__import__('pathlib').Path({str(pids)!r})"))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider"), int(pids.read_text())


def test_a_child_that_ignored_sigint_is_killed_when_its_test_fails(pytester, tmp_path):
    result, pid = _run_inner(pytester, tmp_path, INNER, timeout=60)
    result.assert_outcomes(failed=1)
    assert "TimeoutExpired" in result.stdout.str()
    assert _gone(pid), f"the child {pid} outlived its failed test"


def test_a_child_that_never_answers_is_killed_by_the_watchdog(pytester, tmp_path):
    """With a 1 s watchdog the child is killed while the test still waits on it: the wait
    returns (status −SIGKILL) instead of hanging, and the whole run takes seconds."""
    inner = INNER.replace("process.wait(timeout=1)", "assert process.wait(timeout=30) == -9")
    started = time.monotonic()
    result, pid = _run_inner(pytester, tmp_path, inner, timeout=1)
    result.assert_outcomes(passed=1)
    assert time.monotonic() - started < 30
    assert _gone(pid)
