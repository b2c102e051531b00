"""What the fakes' self-check scripts share: a fake run as a subprocess whose
JSON events are collected and waited for, control ops sent to it, and a
runner that prints `PASS`/`FAIL` per check and `N/M checks passed`.
See `control.py` for the protocol.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Generic, TypeVar, cast

from control import Event, Op

VERBOSE = bool({"-v", "-vv"} & set(sys.argv[1:]))
VERY_VERBOSE = "-vv" in sys.argv[1:]
CHECK_TIMEOUT = 30.0
EVENT_TIMEOUT = 5.0
# A fake's start: a new Python process importing its libraries (aioesphomeapi,
# noise, cryptography) and binding; seconds on a loaded two-core machine.
START_TIMEOUT = 30.0


class CheckFailed(AssertionError):
    pass


# The events of the fake at hand: its module's `Event` (control.Event extended).
E = TypeVar("E", bound=Event)


def require(cond: bool, what: str) -> None:
    if not cond:
        raise CheckFailed(what)


T = TypeVar("T")


def of(kind: type[T], value: object) -> T:
    """`value`, which must be a `kind` (the check fails otherwise)."""
    if not isinstance(value, kind):
        raise CheckFailed(f"expected a {kind.__name__}, got {value!r}")
    return value


class FakeProcess(Generic[E]):
    """`python <script> <args>` with piped stdio; events collect in `events`."""

    def __init__(self, script: Path, *args: str) -> None:
        self.script = script
        self.args = args
        self.events: list[E] = []
        self.stderr = bytearray()
        self._proc: asyncio.subprocess.Process | None = None
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> E:
        """Starts the fake and returns its first `listening` event."""
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(self.script),
            *self.args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        self._tasks = [
            asyncio.create_task(self._read_events()),
            asyncio.create_task(self._read_stderr()),
        ]
        return await self.expect(
            lambda e: e["event"] == "listening", what="listening", timeout=START_TIMEOUT
        )

    def print_stderr_tail(self) -> None:
        if self.stderr:
            tail = self.stderr.decode(errors="replace")[-2000:]
            print(f"    fake stderr:\n{tail}", flush=True)

    async def _read_events(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        async for raw in self._proc.stdout:
            line = raw.decode().strip()
            if not line:
                continue
            if VERBOSE:
                print(f"    fake> {line}", flush=True)
            try:
                # Trusted to be an E: the fake prints its events from its own Event type.
                event: E = json.loads(line)
            except ValueError:
                event = self._made_up(event="unparsable", line=line)
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()
        async with self._changed:
            self.events.append(self._made_up(event="_eof"))
            self._changed.notify_all()

    def _made_up(self, event: str, line: str | None = None) -> E:
        """An event of ours among the fake's (`_eof`, `unparsable`). It has only
        control.Event's keys, which every fake's Event has, all others optional."""
        made: Event = {"event": event}
        if line is not None:
            made["line"] = line
        return cast(E, made)

    async def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        async for raw in self._proc.stderr:
            self.stderr += raw

    def mark(self) -> int:
        return len(self.events)

    async def expect(
        self,
        pred: Callable[[E], bool],
        *,
        since: int = 0,
        what: str = "event",
        timeout: float = EVENT_TIMEOUT,
    ) -> E:
        """The first event at or after `since` matching `pred`."""

        def find() -> E | None:
            for event in self.events[since:]:
                if event["event"] == "_eof":
                    raise CheckFailed(f"fake exited while waiting for {what}")
                if pred(event):
                    return event
            return None

        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    while (found := find()) is None:
                        await self._changed.wait()
                    return found
        except TimeoutError:
            raise CheckFailed(
                f"timed out waiting for {what}; events: {self.events[since:]}"
            ) from None

    async def send_line(self, line: str) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write((line + "\n").encode())
        await self._proc.stdin.drain()

    async def op(self, op: Op, *, ok: bool = True, timeout: float = 10) -> E:
        """Sends `op` and returns its reply, which must be `done` (`ok`) or `error` (not `ok`)."""
        since = self.mark()
        await self.send_line(json.dumps(op))
        reply = await self.expect(
            lambda e: e["event"] in ("done", "error") and e.get("op") == op["op"],
            since=since,
            what=f"reply to {op}",
            timeout=timeout,
        )
        if ok and reply["event"] != "done":
            raise CheckFailed(f"op {op} failed: {reply}")
        if not ok and reply["event"] != "error":
            raise CheckFailed(f"op {op} should have failed: {reply}")
        return reply

    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def close_stdin_and_wait(self, timeout: float = 5) -> int:
        """Closes stdin (EOF) and returns the exit code."""
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        self._proc = None
        proc.stdin.close()
        try:
            async with asyncio.timeout(timeout):
                code = await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise CheckFailed("fake did not exit on stdin EOF") from None
        for task in self._tasks:
            await task
        return code

    async def stop(self, *, check_exit: bool = True) -> None:
        """Sends `quit`, waits for the exit, and checks it was 0."""
        proc = self._proc
        if proc is None:
            return
        self._proc = None
        if proc.returncode is None and proc.stdin is not None:
            try:
                proc.stdin.write(b'{"op":"quit"}\n')
                await proc.stdin.drain()
                proc.stdin.close()
            except (BrokenPipeError, ConnectionResetError):
                pass
        try:
            async with asyncio.timeout(5):
                code = await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise CheckFailed("fake did not exit on quit") from None
        for task in self._tasks:
            try:
                async with asyncio.timeout(2):
                    await task
            except TimeoutError:
                task.cancel()
        if check_exit and code != 0:
            raise CheckFailed(f"fake exited with {code}: {self.stderr.decode(errors='replace')}")


async def run_checks(header: str, checks: list[tuple[str, Callable[[], Awaitable[str]]]]) -> int:
    """Runs each check under `CHECK_TIMEOUT`, prints a line per check and the
    total; returns the exit code (1 if any failed)."""
    print(header)
    failed = 0
    for name, check in checks:
        started = time.monotonic()
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                detail = await check()
        except Exception as err:  # noqa: BLE001 - report every check
            failed += 1
            print(f"FAIL {name}: {type(err).__name__}: {err}", flush=True)
            if VERBOSE:
                traceback.print_exc()
            continue
        print(f"PASS {name} ({time.monotonic() - started:.1f}s): {detail}", flush=True)
    print(f"{len(checks) - failed}/{len(checks)} checks passed")
    return 1 if failed else 0
