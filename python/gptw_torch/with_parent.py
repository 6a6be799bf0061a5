"""Runs a module (torch.distributed.run) that stops when the app's train worker stops.

The worker starts torchrun in its own process group, so that pause and cancel reach every rank.
If the worker itself is killed (SIGKILL, an out-of-memory kill), nothing would stop that group:
the ranks would train on with nobody reading their output. On Linux the kernel can send a
signal when the parent dies (prctl PR_SET_PDEATHSIG). That signal is SIGUSR1, handled here by
sending each rank (this process's children) one SIGTERM, the engine's pause: the ranks save a
checkpoint and exit 0, and torchrun ends as after any finished run. Not SIGTERM to torchrun itself:
its shutdown can signal a rank twice, and a second signal stops a rank before its checkpoint.
The app's Pause sends this process SIGUSR1 too, for the same reason.

    python -m gptw_torch.with_parent -m torch.distributed.run --nnodes 1 ...

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
    signal.signal(signal.SIGUSR1, _pause_ranks)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGUSR1, 0, 0, 0) != 0:
        print(f"gptw_torch.with_parent: prctl failed (errno {ctypes.get_errno()}); the ranks will not stop with the app's worker.", file=sys.stderr)
        return
    expected = os.environ.get("GPTW_LAUNCHER_PID")
    if expected and os.getppid() != int(expected):
        sys.exit(f"gptw_torch.with_parent: the app's train worker (pid {expected}) is gone; not starting.")


_paused = False


def _pause_ranks(signum: int, frame: object) -> None:
    """The app's worker is gone (or asks to pause): one SIGTERM to each child of this process
    (torchrun's ranks), once. SIGUSR1 can come again: the kernel sends the parent-death signal each
    time this process is handed to another thread of the dying worker, and a Pause may come before
    the worker's death. A second SIGTERM would stop a rank before its checkpoint."""
    global _paused
    if _paused:
        return
    _paused = True
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        if int(stat[stat.rindex(")") + 2:].split()[1]) == me:
            try:
                os.kill(int(entry), signal.SIGTERM)
            except ProcessLookupError:
                pass


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] != "-m":
        sys.exit("usage: python -m gptw_torch.with_parent -m MODULE [ARGS...]")
    module = sys.argv[2]
    stop_with_parent()
    sys.argv = [module, *sys.argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
