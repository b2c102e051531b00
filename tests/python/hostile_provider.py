"""The hostile provider in Python (tests/tests/python_provider.rs): on the
custom command `check` with `{"checks": [...], "args": {...}}` it tries each
forbidden action and answers `{"results": {name: {"ok", "errno", "error",
"detail"}}}`, in the shape and with the check and argument names of the
Rust one (tests/src/hostile/mod.rs). Run confined it must be denied each;
run unconfined (the baseline) it must succeed."""

import asyncio
import ctypes
import errno
import json
import mmap
import os
import signal
import socket
import subprocess
from collections.abc import Callable
from typing import Any

import igloo

Result = dict[str, Any]
CLONE_NEWUSER = 0x10000000
PR_SET_PDEATHSIG = 1


def success(detail: str) -> Result:
    return {"ok": True, "errno": None, "error": None, "detail": detail}


def failure(step: str, e: OSError) -> Result:
    name = errno.errorcode.get(e.errno or 0, f"errno {e.errno}")
    return {"ok": False, "errno": e.errno, "error": name, "detail": f"{step}: {e}"}


def attempt(step: str, action: Callable[[], str]) -> Result:
    try:
        return success(action())
    except OSError as e:
        return failure(step, e)


def read_file(path: str) -> Result:
    def go() -> str:
        with open(path, "rb") as f:
            return f"read {len(f.read(64))} bytes of {path}"

    return attempt(f"open {path}", go)


def write_outside(directory: str) -> Result:
    path = os.path.join(directory, f"python-hostile-{os.getpid()}")

    def go() -> str:
        with open(path, "wb") as f:
            f.write(b"escaped")
        os.unlink(path)
        return f"wrote {path}"

    return attempt(f"create {path}", go)


def exec_sh() -> Result:
    def go() -> str:
        subprocess.run(["/bin/sh", "-c", "true"], check=True)
        return "ran /bin/sh"

    return attempt("exec /bin/sh", go)


def exec_dropped(data_dir: str) -> Result:
    path = os.path.join(data_dir, "dropped.sh")

    def go() -> str:
        with open(path, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(path, 0o755)
        subprocess.run([path], check=True)
        return f"ran {path}"

    return attempt(f"exec {path}", go)


def signal_pid(pid: int) -> Result:
    def go() -> str:
        os.kill(pid, 0)
        return f"kill({pid}, 0) allowed"

    return attempt(f"kill({pid}, 0)", go)


def connect_abstract(name: str) -> Result:
    def go() -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect("\0" + name)
        return f"connected to @{name}"

    return attempt(f"connect @{name}", go)


def tcp_connect(address: str) -> Result:
    host, port = address.rsplit(":", 1)

    def go() -> str:
        with socket.create_connection((host, int(port)), timeout=5):
            return f"connected to {address}"

    return attempt(f"connect {address}", go)


def userns() -> Result:
    """unshare(CLONE_NEWUSER) in a forked child, so this process keeps its namespaces."""
    libc = ctypes.CDLL(None, use_errno=True)
    pid = os.fork()
    if pid == 0:
        rc = libc.unshare(CLONE_NEWUSER)
        os._exit(0 if rc == 0 else ctypes.get_errno())
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code == 0:
        return success("unshare(CLONE_NEWUSER) allowed")
    return failure("unshare(CLONE_NEWUSER)", OSError(code, os.strerror(code)))


def fork_bomb(cap: int) -> Result:
    """Forks children that only pause until fork fails or `cap` exist, then
    kills and reaps them all (the Rust check of the same name)."""
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()
    children: list[int] = []
    stopped: OSError | None = None
    while len(children) < cap:
        try:
            pid = os.fork()
        except OSError as e:
            stopped = e
            break
        if pid == 0:
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() == parent:
                signal.pause()
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    for pid in children:
        os.waitpid(pid, 0)
    made = f"{len(children)} children made, all killed and reaped"
    if stopped is not None:
        result = failure(f"fork after {len(children)} children", stopped)
        result["detail"] += f"; {made}"
        return result
    return success(f"reached the cap of {len(children)} children without a limit; {made}")


def touch_memory(touch_mib: int) -> Result:
    """Maps `touch_mib` MiB of anonymous memory and writes every page; a
    memory cgroup below that OOM-kills the process (no reply comes)."""

    def go() -> str:
        size = touch_mib << 20
        with mmap.mmap(-1, size) as area:
            for offset in range(0, size, mmap.PAGESIZE):
                area[offset] = 1
        return f"touched {touch_mib} MiB"

    return attempt(f"touch {touch_mib} MiB", go)


def run_check(name: str, args: dict[str, Any], data_dir: str) -> Result:
    checks: dict[str, Callable[[], Result]] = {
        "read_shadow": lambda: read_file("/etc/shadow"),
        "read_other_data": lambda: read_file(str(args["other_file"])),
        "list_root": lambda: attempt("list /", lambda: f"{len(os.listdir('/'))} entries"),
        "write_outside": lambda: write_outside(str(args["outside_dir"])),
        "exec_sh": exec_sh,
        "exec_dropped": lambda: exec_dropped(data_dir),
        "signal_pid": lambda: signal_pid(int(args["pid"])),
        "connect_abstract": lambda: connect_abstract(str(args["abstract"])),
        "tcp_allowed": lambda: tcp_connect(str(args["tcp_allowed"])),
        "tcp_denied": lambda: tcp_connect(str(args["tcp_denied"])),
        "userns": userns,
        "fork_bomb": lambda: fork_bomb(int(args["fork_cap"])),
        "touch_memory": lambda: touch_memory(int(args["touch_mib"])),
    }
    check = checks.get(name)
    if check is None:
        return {"ok": False, "errno": None, "error": "unknown check", "detail": name}
    try:
        return check()
    except (KeyError, ValueError) as e:
        return {"ok": False, "errno": None, "error": "bad args", "detail": str(e)}


async def main() -> None:
    provider = await igloo.connect("igloo-hostile-python", "0.1.0")
    async for event in provider.events():
        if isinstance(event, igloo.Custom) and event.command == "check":
            request = json.loads(event.body)
            results = {
                name: run_check(name, request.get("args", {}), provider.data_dir)
                for name in request.get("checks", [])
            }
            await provider.reply_custom(event.request_id, json.dumps({"results": results}))
        elif isinstance(event, igloo.Custom):
            await provider.reply_error(event.request_id, f"unknown command {event.command!r}")


if __name__ == "__main__":
    asyncio.run(main())
