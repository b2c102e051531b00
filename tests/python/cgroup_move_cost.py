"""What putting a new process into its cgroup costs (cgroup v2), the three
ways a process can start: no cgroup (the baseline), moved by writing to
`cgroup.procs` after it started (what the core does in its `pre_exec`), or
born in the cgroup with `clone3(CLONE_INTO_CGROUP)` (Linux 5.7).

Run by `cargo bench -p igloo-tests --bench image_boot` in the appliance's
guest; also by hand as root: `python3 tests/python/cgroup_move_cost.py
/sys/fs/cgroup [N]` on any cgroup directory the caller may create children
in (on a v1 hierarchy, e.g. `/sys/fs/cgroup/memory`, without the clone3
way). Each way runs N times (default 200), interleaved; every
process is made with the raw `clone3` syscall, writes one byte (to
`cgroup.procs` when moved, else to /dev/null) and ends with `_exit`, so the
three differ only in the cgroup step. Spawns are 20 ms apart. Prints the median and
p90 in µs of clone-to-reaped, and the ratios to the baseline.

Sources: clone(2) (`struct clone_args`, `CLONE_INTO_CGROUP`), the kernel's
`Documentation/admin-guide/cgroup-v2.rst` (`cgroup.procs`, `favordynmods`).
"""

import ctypes
import os
import signal
import statistics
import sys
import time

SYS_CLONE3 = 435  # the same number on x86_64 and aarch64 (asm-generic)
CLONE_INTO_CGROUP = 0x200000000
O_WRONLY_CLOEXEC = os.O_WRONLY | os.O_CLOEXEC
GAP_S = 0.02


class CloneArgs(ctypes.Structure):
    """`struct clone_args` of linux/sched.h, up to `cgroup` (88 bytes)."""

    _fields_ = [
        (name, ctypes.c_uint64)
        for name in (
            "flags",
            "pidfd",
            "child_tid",
            "parent_tid",
            "exit_signal",
            "stack",
            "stack_size",
            "tls",
            "set_tid",
            "set_tid_size",
            "cgroup",
        )
    ]


libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def clone3(args: CloneArgs) -> int:
    pid = int(libc.syscall(SYS_CLONE3, ctypes.byref(args), ctypes.sizeof(args)))
    if pid < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"clone3: {os.strerror(err)}")
    return pid


def run_once(way: str, procs: bytes, cgroup_fd: int) -> float:
    args = CloneArgs(exit_signal=signal.SIGCHLD)
    if way == "into":
        args.flags = CLONE_INTO_CGROUP
        args.cgroup = cgroup_fd
    started = time.perf_counter()
    # Every child makes the same calls; only "moved" writes to cgroup.procs
    # (the others to /dev/null), so the interpreter's cost is the same.
    target = procs if way == "moved" else b"/dev/null"
    pid = clone3(args)
    if pid == 0:
        fd = libc.open(target, O_WRONLY_CLOEXEC)
        if fd < 0 or libc.write(fd, b"0", 1) != 1:
            libc._exit(1)
        libc._exit(0)
    _, status = os.waitpid(pid, 0)
    took = (time.perf_counter() - started) * 1e6
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{way}: the child could not join its cgroup")
    return took


def main() -> None:
    root = sys.argv[1] if len(sys.argv) > 1 else "/sys/fs/cgroup"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    cgroup = os.path.join(root, f"igloo-move-cost-{os.getpid()}")
    os.mkdir(cgroup)
    cgroup_fd = os.open(cgroup, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    procs = os.path.join(cgroup, "cgroup.procs").encode()
    with open("/proc/self/mountinfo") as f:
        mount = next((ln.split(" - ")[1].strip() for ln in f if f" {root} " in ln), "?")
    # CLONE_INTO_CGROUP is for the unified hierarchy only.
    ways = ["none", "moved", "into"] if mount.startswith("cgroup2 ") else ["none", "moved"]
    times: dict[str, list[float]] = {w: [] for w in ways}
    try:
        for w in ways:  # warm-up, not recorded
            run_once(w, procs, cgroup_fd)
        for _ in range(rounds):
            for w in ways:
                # Spawns as far apart as a provider's restarts: a move that
                # needs an RCU grace period pays it each time, as the core's
                # would (back-to-back moves share one).
                time.sleep(GAP_S)
                times[w].append(run_once(w, procs, cgroup_fd))
    finally:
        os.close(cgroup_fd)
        os.rmdir(cgroup)
    base = statistics.median(times["none"])
    print(f"cgroup move cost in {root} ({mount}), {rounds} rounds:")
    labels = {
        "none": "no cgroup (baseline)",
        "moved": "moved via cgroup.procs",
        "into": "clone3 CLONE_INTO_CGROUP",
    }
    for w in ways:
        t = sorted(times[w])
        med = statistics.median(t)
        p90 = t[len(t) * 9 // 10]
        print(f"  {labels[w]:<26} median {med:8.1f} us, p90 {p90:8.1f} us, ratio {med / base:.2f}")


if __name__ == "__main__":
    main()
