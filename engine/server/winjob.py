"""Windows: the engine dies with the launcher, even when it is stuck in native code.

The parent watch (``lifecycle.watch_parent``) needs a Python thread that runs; a hung CUDA call
may never give it the chance. So on Windows the engine also puts itself in a Job Object with
"kill on job close", hands the only handle to that job to the launcher (``DuplicateHandle`` into
the launcher's process) and closes its own: when the launcher ends, however it ends, Windows
closes the handle and ends the engine and everything it started. The Win32 calls sit behind a
small protocol so tests run this logic anywhere.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from typing import Any, Protocol

log = logging.getLogger(__name__)

JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION = 9  # JobObjectExtendedLimitInformation
PROCESS_DUP_HANDLE = 0x0040
DUPLICATE_SAME_ACCESS = 0x0002


class JobApi(Protocol):
    def create_kill_on_close_job(self) -> int: ...

    def assign_self(self, job: int) -> None: ...

    def give_to(self, parent_pid: int, job: int) -> int:
        """Duplicate ``job`` into the process ``parent_pid``; the handle value there."""

    def close(self, handle: int) -> None: ...


def tie_to_parent(parent_pid: int, api: JobApi | None = None, platform: str | None = None) -> bool:
    """Make the launcher (``parent_pid``) the job's only holder. False (and logged) if it could not."""
    if (platform or sys.platform) != "win32" or not parent_pid:
        return False
    api = api or Kernel32Jobs()
    job = 0
    try:
        job = api.create_kill_on_close_job()
        api.assign_self(job)
        api.give_to(parent_pid, job)
    except OSError as exc:  # an older Windows without nested jobs, or a parent we may not open
        log.warning("The engine could not tie itself to the launcher's lifetime (%s); the parent watch still applies.", exc)
        return False
    finally:
        if job:
            api.close(job)  # the launcher's copy keeps the job alive
    log.info("Tied to the launcher (pid %d): the engine ends when it does.", parent_pid)
    return True


class _BasicLimits(ctypes.Structure):
    _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                ("LimitFlags", ctypes.c_uint32), ("MinimumWorkingSetSize", ctypes.c_size_t),
                ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", ctypes.c_uint32),
                ("Affinity", ctypes.c_size_t), ("PriorityClass", ctypes.c_uint32), ("SchedulingClass", ctypes.c_uint32)]


class _IoCounters(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
                                                      "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]


class _ExtendedLimits(ctypes.Structure):
    _fields_ = [("BasicLimitInformation", _BasicLimits), ("IoInfo", _IoCounters),
                ("ProcessMemoryLimit", ctypes.c_size_t), ("JobMemoryLimit", ctypes.c_size_t),
                ("PeakProcessMemoryUsed", ctypes.c_size_t), ("PeakJobMemoryUsed", ctypes.c_size_t)]


class Kernel32Jobs:
    """The real calls (kernel32), Windows only."""

    def __init__(self) -> None:
        self.k32: Any = getattr(ctypes, "WinDLL")("kernel32", use_last_error=True)  # noqa: B009 - absent off Windows
        self.k32.CreateJobObjectW.restype = ctypes.c_void_p
        self.k32.OpenProcess.restype = ctypes.c_void_p
        self.k32.GetCurrentProcess.restype = ctypes.c_void_p

    def _check(self, ok: Any, what: str) -> None:
        if not ok:
            error = getattr(ctypes, "get_last_error")()  # noqa: B009
            raise OSError(error, f"{what} failed ({error})")

    def create_kill_on_close_job(self) -> int:
        job = self.k32.CreateJobObjectW(None, None)
        self._check(job, "CreateJobObject")
        limits = _ExtendedLimits()
        limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        ok = self.k32.SetInformationJobObject(ctypes.c_void_p(job), JOB_OBJECT_EXTENDED_LIMIT_INFORMATION,
                                              ctypes.byref(limits), ctypes.sizeof(limits))
        self._check(ok, "SetInformationJobObject")
        return int(job)

    def assign_self(self, job: int) -> None:
        ok = self.k32.AssignProcessToJobObject(ctypes.c_void_p(job), ctypes.c_void_p(self.k32.GetCurrentProcess()))
        self._check(ok, "AssignProcessToJobObject")

    def give_to(self, parent_pid: int, job: int) -> int:
        parent = self.k32.OpenProcess(PROCESS_DUP_HANDLE, False, parent_pid)
        self._check(parent, "OpenProcess")
        try:
            theirs = ctypes.c_void_p()
            ok = self.k32.DuplicateHandle(ctypes.c_void_p(self.k32.GetCurrentProcess()), ctypes.c_void_p(job),
                                          ctypes.c_void_p(parent), ctypes.byref(theirs), 0, False, DUPLICATE_SAME_ACCESS)
            self._check(ok, "DuplicateHandle")
            return int(theirs.value or 0)
        finally:
            self.k32.CloseHandle(ctypes.c_void_p(parent))

    def close(self, handle: int) -> None:
        self.k32.CloseHandle(ctypes.c_void_p(handle))
