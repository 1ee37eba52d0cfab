"""Processes and file locks: is a job's process still alive, and who holds a device.

A process is identified by its host, its pid and its start time (Linux: /proc/<pid>/stat), so a pid
reused by an unrelated process after a reboot or a crash is not mistaken for the job, and a job that
another machine runs in a shared runs folder is not declared dead because this machine has no such pid
(only that machine can tell; the same host name after a reboot is known dead). Locks are `flock` locks on
files under the runs folder: the kernel releases them when the holding process dies, even by SIGKILL,
so a crashed job never leaves a device locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@functools.cache
def this_host() -> str:
    """This machine, as "hostname boot-id": the boot id changes at every reboot (Linux)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = ""
    return f"{socket.gethostname()} {boot}".strip()


def stamp(pid: int | None = None) -> dict[str, Any]:
    """What identifies process `pid` (default: this one) in a status file: pid, start time and host."""
    pid = os.getpid() if pid is None else pid
    return {"pid": pid, "pid_started": start_time(pid), "host": this_host()}


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), or None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its closing ")"
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19]) if len(fields) > 19 else None


def alive(pid: int | None, started: int | None = None, host: str | None = None) -> bool:
    """Whether process `pid` exists (and, when `started` is known, is the same process).

    `host` (from `stamp`): a process of another machine counts as alive, since only that machine can
    check it; one of this host name before its last reboot is gone. None (older files): this machine."""
    if host is not None and host != this_host():
        same_name = host.split(" ")[0] == this_host().split(" ")[0]
        return not same_name
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if started is not None:
        now = start_time(pid)
        if now is not None and now != started:
            return False
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].startswith("Z")


def device_lock_file(runs_dir: Path) -> Path:
    """The lock a process holds while it uses the accelerator: one fine-tune or GPU computation at a time."""
    return Path(runs_dir) / ".locks" / "device.lock"


def schedule_lock_file(runs_dir: Path) -> Path:
    """The lock held while a job manager picks the next job, so two app processes never start two."""
    return Path(runs_dir) / ".locks" / "schedule.lock"


def try_lock(path: Path) -> int | None:
    """An open file descriptor holding an exclusive lock on `path`, or None when another holds it.

    The lock lasts while any process holds a copy of the descriptor (pass it to a child with
    `pass_fds`, then close it here: the child keeps the lock until it exits).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def is_locked(path: Path) -> bool:
    """Whether some process holds the lock on `path` right now."""
    fd = try_lock(path)
    if fd is None:
        return True
    os.close(fd)
    return False


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` for the block (waiting for it if another process holds it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
