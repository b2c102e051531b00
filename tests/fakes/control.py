"""The control protocol shared by the test fakes.

A fake reports JSON events, one object per line on stdout (`emit`), and takes
JSON control ops, one object per line on stdin (`serve`). Every op is
answered with `{"event":"done","op":…}` (plus the op's own fields) or
`{"event":"error","op":…,"message":…}`; `{"op":"quit"}` and stdin EOF end
the loop. A fake supplies `run_op(op) -> dict` and raises `OpError` for an op
it cannot carry out.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

_stdout_lock = threading.Lock()


class OpError(Exception):
    """A control op that cannot be carried out (reported as an `error` event)."""


def emit(event: str, **fields: Any) -> None:
    """Writes one event line to stdout (thread-safe, flushed)."""
    line = json.dumps({"event": event, **fields}, separators=(",", ":"))
    with _stdout_lock:
        try:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            # Whoever drove us is gone; nothing sensible is left to do.
            raise SystemExit(0) from None


def _start_stdin_reader(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    def pump() -> None:
        try:
            for line in sys.stdin:
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except (OSError, ValueError):
            pass
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="stdin", daemon=True).start()


async def serve(run_op: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]) -> None:
    """Reads ops from stdin and answers each until `quit` or EOF. Bad lines and
    failing ops are reported as `error` events; the loop keeps going."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    _start_stdin_reader(asyncio.get_running_loop(), queue)
    while True:
        line = await queue.get()
        if line is None:
            return  # stdin EOF: exit cleanly
        line = line.strip()
        if not line:
            continue
        try:
            op = json.loads(line)
            if not isinstance(op, dict):
                raise ValueError("expected a JSON object")
        except ValueError as err:
            emit("error", op=None, message=f"invalid control line: {err}")
            continue
        op_name = op.get("op")
        try:
            extra = await run_op(op)
        except OpError as err:
            emit("error", op=op_name, message=str(err))
            continue
        except Exception as err:  # noqa: BLE001 - report, keep serving
            traceback.print_exc(file=sys.stderr)
            emit("error", op=op_name, message=f"{type(err).__name__}: {err}")
            continue
        emit("done", op=op_name, **extra)
        if op_name == "quit":
            return
