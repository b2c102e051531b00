"""The control protocol shared by the test fakes.

A fake reports JSON events, one object per line on stdout (`emit`), and takes
JSON control ops, one object per line on stdin (`serve`). Every op is
answered with `{"event":"done","op":…}` (plus the op's own fields) or
`{"event":"error","op":…,"message":…}`; `{"op":"quit"}` and stdin EOF end
the loop. A fake supplies `run_op(op) -> dict` and raises `OpError` for an op
it cannot carry out.

Types: `JSONValue` is what goes over the pipes; `Op` an op as read (checked
field by field by the fake that runs it); `Event` the fields every event may
have, which each fake's own `Event` extends with its events' fields.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Required, TypeAlias, TypedDict

# A JSON value: what json.dumps writes and json.loads reads back (as dict and
# list; Mapping and Sequence also take e.g. a list[int] where a value is written).
JSONValue: TypeAlias = (
    "bool | int | float | str | Sequence[JSONValue] | Mapping[str, JSONValue] | None"
)
# A control op as read from stdin: a JSON object not yet checked by the fake.
Op: TypeAlias = dict[str, JSONValue]
# What a fake's run_op returns: fields added to the op's `done` event.
OpResult: TypeAlias = dict[str, JSONValue]


class EventFields(TypedDict, total=False):
    """The fields of the events this module prints; each fake's `EventFields`
    adds those of its own events."""

    op: JSONValue  # done, error: the op's "op" as sent (None for an unreadable line)
    message: str  # error: what went wrong


class Event(EventFields, total=False):
    """An event line as read back (by the self-checks): `event` names it, the
    other keys are its fields. Each fake's `Event` adds its events' fields."""

    event: Required[str]
    line: str  # unparsable: a line that is not JSON (made up by selfcheck.py)


_stdout_lock = threading.Lock()


class OpError(Exception):
    """A control op that cannot be carried out (reported as an `error` event)."""


def emit(event: str, **fields: JSONValue) -> None:
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


async def serve(run_op: Callable[[Op], Awaitable[OpResult]]) -> None:
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
            parsed: JSONValue = json.loads(line)
            if not isinstance(parsed, dict):
                raise ValueError("expected a JSON object")
        except ValueError as err:
            emit("error", op=None, message=f"invalid control line: {err}")
            continue
        op: Op = parsed
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
