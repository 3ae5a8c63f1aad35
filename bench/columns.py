"""The two columns every layer benchmark prints (conv, rnn, attention), from one race each:

* **1 thread, CPU time**: NumPy's BLAS and PyTorch limited to one thread each, timed with
  ``time.process_time`` — the work each library does per core, which other processes on a
  loaded machine disturb least;
* **2 threads, wall clock**: both libraries on two threads, timed with ``time.perf_counter``
  — what a user waits for, meaningful only on a quiet machine (the load average is printed
  beside it).

Both are the best of ``repeats`` interleaved rounds (``mlp.race``) in one process.
"""

from __future__ import annotations

import os
import time

import torch
from mlp import race
from threadpoolctl import threadpool_info, threadpool_limits


def two_columns(fns: dict, repeats: int) -> tuple:
    """(best CPU time with one thread each, best wall time with two threads each) per name."""
    threads = torch.get_num_threads()
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            torch.set_num_threads(1)
            cpu = race(fns, repeats, time.process_time)
        with threadpool_limits(limits=2, user_api="blas"):
            torch.set_num_threads(2)
            wall = race(fns, repeats, time.perf_counter)
    finally:
        torch.set_num_threads(threads)
    return cpu, wall


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def header(title: str) -> None:
    """The BLAS kernel NumPy uses, torch's version and the load, before a table."""
    import numpy  # noqa: F401  (threadpoolctl sees NumPy's BLAS only once it is loaded)
    blas = [(i.get("internal_api"), i.get("architecture"), i.get("num_threads"))
            for i in threadpool_info() if i.get("user_api") == "blas"]
    print(f"{title}\nNumPy BLAS {blas}; torch {torch.__version__}; {load_average()}")
    print("ratio = deltagrad / PyTorch (below 1: we are faster); '1 thread' is CPU time with "
          "one thread each, '2 threads' wall clock")


def columns_line(label: str, cpu: dict, wall: dict, ours: str = "deltagrad",
                 theirs: str = "pytorch", reference: str | None = "numpy") -> str:
    """One row: our time and both ratios in each column (and the hand-written NumPy's ratio)."""
    def column(times, name):
        text = f"{ours} {times[ours] * 1e3:8.2f} ms  ratio {times[ours] / times[theirs]:5.2f}×"
        if reference in times:
            text += f" (NumPy {times[reference] / times[theirs]:5.2f}×)"
        return f"{name}: {text}"
    return (f"{label}\n    {column(cpu, '1 thread, CPU')}\n"
            f"    {column(wall, '2 threads, wall')}  [{load_average()}]")
