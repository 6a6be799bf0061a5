"""Runs a module (torch.distributed.run) that stops when the app's train worker stops.

The worker starts torchrun in its own process group, so that pause and cancel reach every rank.
If the worker itself is killed (SIGKILL, an out-of-memory kill), nothing would stop that group:
the ranks would train on with nobody reading their output. On Linux the kernel can send a
signal when the parent dies (prctl PR_SET_PDEATHSIG); SIGTERM is the engine's pause, so the ranks
save a checkpoint and exit, and the run resumes from it.

    python -m gptw_torch.with_parent -m torch.distributed.run --standalone ...

GPTW_LAUNCHER_PID names the expected parent: a parent already gone before the signal was set
(the process is then a child of init or a subreaper) ends this process at once.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import runpy
import signal
import sys

PR_SET_PDEATHSIG = 1


def stop_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        print(f"gptw_torch.with_parent: prctl failed (errno {ctypes.get_errno()}); the ranks will not stop with the app's worker.", file=sys.stderr)
        return
    expected = os.environ.get("GPTW_LAUNCHER_PID")
    if expected and os.getppid() != int(expected):
        sys.exit(f"gptw_torch.with_parent: the app's train worker (pid {expected}) is gone; not starting.")


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] != "-m":
        sys.exit("usage: python -m gptw_torch.with_parent -m MODULE [ARGS...]")
    module = sys.argv[2]
    stop_with_parent()
    sys.argv = [module, *sys.argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
