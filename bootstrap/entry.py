"""The `freightdesk` command's entry point: what must happen before anything is imported, then the CLI."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

GLIBC_TUNABLES = "GLIBC_TUNABLES"
HUGE_PAGE_TUNABLE = "glibc.malloc.hugetlb"
RESTARTED = "FREIGHTDESK_RESTARTED_FOR_TUNABLES"
THP_SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def restart_with_huge_page_allocations() -> None:
    # A password hash writes memory it has just mapped (modules/user/internal/passwords.py; blocks of 1 MiB and
    # more get mappings of their own, bootstrap/cli.py): on 4 KiB pages, a page fault and a zeroed page per 4 KiB, a
    # quarter of the hash's CPU. Asked to (the `glibc.malloc.hugetlb=1` tunable, read only when a process
    # starts), glibc marks its large mappings for transparent huge pages, and the same memory takes a few faults
    # of 2 MiB: a 12 MiB, t=3 hash went from ~47 to ~40 ms of CPU on the same machine. So `freightdesk run`
    # starts itself once more with the tunable set, before it has done anything, unless it is set already (an
    # operator's own GLIBC_TUNABLES are kept and the tunable added), the C library is not glibc, or the kernel
    # has transparent huge pages off.
    tunables = os.environ.get(GLIBC_TUNABLES, "")
    restarted = os.environ.pop(RESTARTED, None) is not None  # once only, even if the C library dropped the tunable
    if restarted or HUGE_PAGE_TUNABLE in tunables or platform.libc_ver()[0] != "glibc":
        return
    if not _transparent_huge_pages_on():
        return
    setting = f"{HUGE_PAGE_TUNABLE}=1"
    environment = {**os.environ, GLIBC_TUNABLES: f"{tunables}:{setting}" if tunables else setting, RESTARTED: "1"}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, sys.orig_argv, environment)  # noqa: S606 - the same command, not a shell's


def _transparent_huge_pages_on() -> bool:
    try:
        return "[never]" not in THP_SETTING.read_text()
    except OSError:
        return False


def main() -> None:
    if sys.argv[1:2] == ["run"]:  # only the server: its restart costs no more than an interpreter's start here
        restart_with_huge_page_allocations()
    from bootstrap.cli import main as cli

    cli()
