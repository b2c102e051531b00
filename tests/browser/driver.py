"""Drives one headless chromium page for the Rust end-to-end tests.

Playwright for Python launches Debian's chromium (`--executable`, default
`/usr/bin/chromium`; Playwright never downloads a browser of its own here) with
one page of the given viewport, then reads commands, one JSON object per line on
stdin, and answers each with one JSON object per line on stdout:

    {"cmd": "goto", "url": "http://127.0.0.1:8080/"}  ->  {"ok": true, "status": 200, "url": "…"}
    {"cmd": "click", "selector": "#nope"}             ->  {"ok": false, "error": "click '#nope': …"}

The first line, before any command, says the browser is up:
`{"ok": true, "ready": true, "version": "156.0.8078.114"}` (or `ok: false` with
the reason, and exit 1). Commands and their fields are listed in `COMMANDS`
and tests/README.md. Errors never leave a traceback on stdout: they answer
`ok: false` with the command, the selector and what was waited for;
unexpected ones also print their traceback on stderr. `close` and stdin EOF
end the driver. Everything else any child process prints goes to stderr.

JavaScript runs through the DevTools protocol (`eval`, `set_range`, `wait_attr`),
which the page's Content-Security-Policy does not restrict; the page's own
scripts stay bound by it, and CSP violations show up in `console`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import IO, Literal, TypeAlias

from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright
from playwright.async_api import Error as PlaywrightError

# A JSON value as json.loads returns it and json.dumps writes it.
JSONValue: TypeAlias = (
    "bool | int | float | str | Sequence[JSONValue] | Mapping[str, JSONValue] | None"
)
# A command as read from stdin: a JSON object, checked field by field.
Command: TypeAlias = dict[str, JSONValue]
# The fields of an answer besides `ok`.
Answer: TypeAlias = dict[str, JSONValue]
WaitState: TypeAlias = Literal["attached", "detached", "visible", "hidden"]

WAIT_STATES: tuple[WaitState, ...] = ("attached", "detached", "visible", "hidden")
# How often wait_text and wait_attr look again, seconds.
POLL_S = 0.05
# Longest error text sent back (Playwright's call logs can be long).
MAX_ERROR = 2000


class Failed(Exception):
    """A command that cannot be carried out; its text is the answer's `error`."""


def _field(cmd: Command, name: str) -> JSONValue:
    if name not in cmd:
        raise Failed(f"{cmd.get('cmd')}: missing field {name!r}")
    return cmd[name]


def _str(cmd: Command, name: str) -> str:
    value = _field(cmd, name)
    if not isinstance(value, str):
        raise Failed(f"{cmd.get('cmd')}: field {name!r} must be a string, not {value!r}")
    return value


def _int(cmd: Command, name: str, default: int | None = None) -> int:
    if default is not None and name not in cmd:
        return default
    value = _field(cmd, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Failed(f"{cmd.get('cmd')}: field {name!r} must be an integer ≥ 0, not {value!r}")
    return value


def _bool(cmd: Command, name: str, default: bool) -> bool:
    value = cmd.get(name, default)
    if not isinstance(value, bool):
        raise Failed(f"{cmd.get('cmd')}: field {name!r} must be true or false, not {value!r}")
    return value


def _describe(err: PlaywrightError) -> str:
    """Playwright's message on one line: the error, then its call log (not
    the stack of its own injected script)."""
    lines = [line.strip() for line in err.message.splitlines()]
    lines = [line for line in lines if line and not line.startswith("at ")]
    text = " | ".join(lines) or type(err).__name__
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


class Session:
    """The browser, its one page and what the page logged so far."""

    def __init__(self, browser: Browser, page: Page, timeout_ms: int) -> None:
        self.browser = browser
        self.page = page
        self.timeout_ms = timeout_ms
        self.console: list[dict[str, JSONValue]] = []
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    def _timeout(self, cmd: Command) -> int:
        """The command's `timeout_ms`, else the driver's `--timeout-ms`."""
        return _int(cmd, "timeout_ms", self.timeout_ms)

    def _on_console(self, msg: ConsoleMessage) -> None:
        loc = msg.location
        where = f"{loc.get('url', '')}:{loc.get('lineNumber', 0)}:{loc.get('columnNumber', 0)}"
        self.console.append({"type": msg.type, "text": msg.text, "location": where})

    def _on_page_error(self, err: PlaywrightError) -> None:
        self.console.append({"type": "pageerror", "text": err.message, "location": None})

    async def _poll(
        self,
        cmd: Command,
        selector: str,
        wanted: str,
        read: Callable[[], Awaitable[list[str | None]]],
        test: Callable[[str | None], bool],
    ) -> str | None:
        """Reads the value of the element `selector` matches with `read` until
        `test` holds; fails after `timeout_ms` saying what was last seen, or at
        once when the selector matches more than one element."""
        timeout_ms = self._timeout(cmd)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_ms / 1000
        last = "no element matches"
        while True:
            values = await read()
            if len(values) > 1:
                raise Failed(
                    f"{cmd['cmd']} {selector!r}: matches {len(values)} elements, "
                    "expected one (make the selector unique)"
                )
            if values:
                if test(values[0]):
                    return values[0]
                last = f"it is {values[0]!r}"
            if loop.time() >= deadline:
                raise Failed(
                    f"{cmd['cmd']} {selector!r}: no {wanted} within {timeout_ms} ms; {last}"
                )
            await asyncio.sleep(POLL_S)

    # One method per command: each takes the command and returns the answer's fields.

    async def goto(self, cmd: Command) -> Answer:
        url = _str(cmd, "url")
        try:
            response = await self.page.goto(url, timeout=self._timeout(cmd))
        except PlaywrightError as err:
            raise Failed(f"goto {url!r}: {_describe(err)}") from None
        return {"status": None if response is None else response.status, "url": self.page.url}

    async def click(self, cmd: Command) -> Answer:
        selector = _str(cmd, "selector")
        try:
            await self.page.locator(selector).click(timeout=self._timeout(cmd))
        except PlaywrightError as err:
            raise Failed(f"click {selector!r}: {_describe(err)}") from None
        return {}

    async def fill(self, cmd: Command) -> Answer:
        selector, text = _str(cmd, "selector"), _str(cmd, "text")
        try:
            await self.page.locator(selector).fill(text, timeout=self._timeout(cmd))
        except PlaywrightError as err:
            raise Failed(f"fill {selector!r}: {_describe(err)}") from None
        return {}

    async def select(self, cmd: Command) -> Answer:
        selector, value = _str(cmd, "selector"), _str(cmd, "value")
        try:
            chosen = await self.page.locator(selector).select_option(
                value=value, timeout=self._timeout(cmd)
            )
        except PlaywrightError as err:
            raise Failed(f"select {value!r} in {selector!r}: {_describe(err)}") from None
        return {"selected": chosen}

    async def set_range(self, cmd: Command) -> Answer:
        selector = _str(cmd, "selector")
        value = _field(cmd, "value")
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise Failed(f"set_range {selector!r}: value must be a number, not {value!r}")
        script = """(el, value) => {
            if (!(el instanceof HTMLInputElement) || el.type !== "range") {
                throw new Error("not an <input type=range>: " + el.outerHTML.slice(0, 120));
            }
            el.value = value;
            el.dispatchEvent(new Event("input", { bubbles: true }));
            el.dispatchEvent(new Event("change", { bubbles: true }));
            return el.value;
        }"""
        try:
            now: str = await self.page.locator(selector).evaluate(
                script, str(value), timeout=self._timeout(cmd)
            )
        except PlaywrightError as err:
            raise Failed(f"set_range {selector!r} to {value!r}: {_describe(err)}") from None
        return {"value": now}

    async def wait_text(self, cmd: Command) -> Answer:
        selector, text = _str(cmd, "selector"), _str(cmd, "text")
        locator = self.page.locator(selector)

        async def read() -> list[str | None]:
            return list(await locator.all_text_contents())

        seen = await self._poll(
            cmd, selector, f"text containing {text!r}", read, lambda v: v is not None and text in v
        )
        return {"text": seen}

    async def wait_attr(self, cmd: Command) -> Answer:
        selector, name, value = _str(cmd, "selector"), _str(cmd, "name"), _str(cmd, "value")
        locator = self.page.locator(selector)

        async def read() -> list[str | None]:
            values: list[str | None] = await locator.evaluate_all(
                "(els, name) => els.map((el) => el.getAttribute(name))", name
            )
            return values

        await self._poll(cmd, selector, f"attribute {name}={value!r}", read, lambda v: v == value)
        return {}

    async def wait_selector(self, cmd: Command) -> Answer:
        selector = _str(cmd, "selector")
        state = cmd.get("state", "visible")
        if state not in WAIT_STATES:
            raise Failed(f"wait_selector {selector!r}: state must be one of {WAIT_STATES}")
        timeout_ms = self._timeout(cmd)
        try:
            await self.page.wait_for_selector(selector, state=state, timeout=timeout_ms)
        except PlaywrightError as err:
            raise Failed(
                f"wait_selector {selector!r}: not {state} within {timeout_ms} ms: {_describe(err)}"
            ) from None
        return {}

    async def text(self, cmd: Command) -> Answer:
        selector = _str(cmd, "selector")
        try:
            text = await self.page.locator(selector).text_content(timeout=self._timeout(cmd))
        except PlaywrightError as err:
            raise Failed(f"text {selector!r}: {_describe(err)}") from None
        return {"text": text}

    async def attr(self, cmd: Command) -> Answer:
        selector, name = _str(cmd, "selector"), _str(cmd, "name")
        try:
            value = await self.page.locator(selector).get_attribute(
                name, timeout=self._timeout(cmd)
            )
        except PlaywrightError as err:
            raise Failed(f"attr {name!r} of {selector!r}: {_describe(err)}") from None
        return {"value": value}

    async def count(self, cmd: Command) -> Answer:
        selector = _str(cmd, "selector")
        try:
            n = await self.page.locator(selector).count()
        except PlaywrightError as err:
            raise Failed(f"count {selector!r}: {_describe(err)}") from None
        return {"count": n}

    async def eval(self, cmd: Command) -> Answer:
        expression = _str(cmd, "expression")
        try:
            value: JSONValue = await self.page.evaluate(expression)
        except PlaywrightError as err:
            raise Failed(f"eval {expression!r}: {_describe(err)}") from None
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise Failed(f"eval {expression!r}: the result is not JSON: {err}") from None
        return {"value": value}

    async def screenshot(self, cmd: Command) -> Answer:
        path = _str(cmd, "path")
        full_page = _bool(cmd, "full_page", False)
        try:
            png = await self.page.screenshot(path=path, full_page=full_page)
        except PlaywrightError as err:
            raise Failed(f"screenshot to {path!r}: {_describe(err)}") from None
        return {"path": path, "bytes": len(png)}

    async def cookies(self, cmd: Command) -> Answer:
        cookies: list[JSONValue] = [
            {
                "name": c.get("name"),
                "value": c.get("value"),
                "domain": c.get("domain"),
                "path": c.get("path"),
                # Unix seconds; -1 for a session cookie.
                "expires": c.get("expires"),
                "http_only": c.get("httpOnly"),
                "secure": c.get("secure"),
                "same_site": c.get("sameSite"),
            }
            for c in await self.page.context.cookies()
        ]
        return {"cookies": cookies}

    async def console_messages(self, cmd: Command) -> Answer:
        messages: list[JSONValue] = list(self.console)
        if _bool(cmd, "clear", False):
            self.console.clear()
        return {"messages": messages}

    async def viewport(self, cmd: Command) -> Answer:
        width, height = _int(cmd, "width"), _int(cmd, "height")
        if width == 0 or height == 0:
            raise Failed(f"viewport: {width}x{height} is empty")
        await self.page.set_viewport_size({"width": width, "height": height})
        return {}

    async def version(self, cmd: Command) -> Answer:
        return {"version": self.browser.version}


# Every command that waits for its element (or page) takes `timeout_ms`, else
# waits `--timeout-ms`: goto, click, fill, select, set_range, wait_*, text, attr.
COMMANDS: dict[str, Callable[[Session, Command], Awaitable[Answer]]] = {
    "goto": Session.goto,  # url, timeout_ms? -> status (null for e.g. data: URLs), url
    "click": Session.click,  # selector
    "fill": Session.fill,  # selector, text
    "select": Session.select,  # selector, value -> selected
    "set_range": Session.set_range,  # selector, value -> value (as the input took it)
    "wait_text": Session.wait_text,  # selector, text, timeout_ms? -> text
    "wait_attr": Session.wait_attr,  # selector, name, value, timeout_ms?
    "wait_selector": Session.wait_selector,  # selector, state?, timeout_ms?
    "text": Session.text,  # selector -> text (textContent; null if none)
    "attr": Session.attr,  # selector, name -> value (null if absent)
    "count": Session.count,  # selector -> count
    "eval": Session.eval,  # expression -> value (JSON; a promise is awaited)
    "screenshot": Session.screenshot,  # path, full_page? -> path, bytes
    "cookies": Session.cookies,  # -> cookies [{name, value, domain, path, expires, http_only,
    #                                             secure, same_site}]
    "console": Session.console_messages,  # clear? -> messages [{type, text, location}]
    "viewport": Session.viewport,  # width, height
    "version": Session.version,  # -> version
}


class Output:
    """The answer channel: the process's original stdout. File descriptor 1
    itself is pointed at stderr, so nothing a child process (Playwright's
    node driver, chromium) prints can end up between the answers."""

    def __init__(self) -> None:
        self._out: IO[str] = os.fdopen(os.dup(1), "w", encoding="utf-8")
        os.dup2(2, 1)
        sys.stdout = sys.stderr

    def send(self, ok: bool, fields: Answer) -> None:
        line = json.dumps({"ok": ok, **fields}, separators=(",", ":"), allow_nan=False)
        try:
            self._out.write(line + "\n")
            self._out.flush()
        except (BrokenPipeError, ValueError):
            # Whoever drove us is gone.
            raise SystemExit(0) from None


def _start_stdin_reader(queue: asyncio.Queue[str | None]) -> None:
    loop = asyncio.get_running_loop()

    def pump() -> None:
        try:
            for line in sys.stdin:
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except (OSError, ValueError):
            pass
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="stdin", daemon=True).start()


async def _answer(session: Session, line: str) -> tuple[bool, Answer]:
    try:
        parsed: JSONValue = json.loads(line)
    except ValueError as err:
        return False, {"error": f"not a JSON line: {err}"}
    if not isinstance(parsed, dict):
        return False, {"error": f"a command is a JSON object, not {line.strip()[:80]!r}"}
    cmd: Command = parsed
    name = cmd.get("cmd")
    run = COMMANDS.get(name) if isinstance(name, str) else None
    if run is None:
        known = ", ".join([*COMMANDS, "close"])
        return False, {"error": f"unknown cmd {name!r}; known: {known}"}
    try:
        return True, await run(session, cmd)
    except Failed as err:
        return False, {"error": str(err)}
    except Exception as err:  # noqa: BLE001 - answer it, keep serving
        traceback.print_exc(file=sys.stderr)
        return False, {"error": f"{name}: {type(err).__name__}: {err}"}


async def serve(args: argparse.Namespace, out: Output) -> int:
    """Launches the browser and answers commands until `close` or EOF."""
    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(
                executable_path=args.executable,
                headless=True,
                # Tests run as root, where chromium refuses its own sandbox.
                args=["--no-sandbox"],
            )
            page = await browser.new_page(viewport={"width": args.width, "height": args.height})
        except PlaywrightError as err:
            out.send(False, {"error": f"cannot launch {args.executable}: {_describe(err)}"})
            return 1
        session = Session(browser, page, args.timeout_ms)
        page.set_default_timeout(args.timeout_ms)
        out.send(True, {"ready": True, "version": browser.version})
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        _start_stdin_reader(queue)
        while (line := await queue.get()) is not None:
            if not line.strip():
                continue
            try:
                closing = json.loads(line) == {"cmd": "close"}
            except ValueError:
                closing = False
            if closing:
                break
            ok, fields = await _answer(session, line)
            out.send(ok, fields)
        await browser.close()
        out.send(True, {"closed": True})
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Headless chromium driven by JSON lines.")
    parser.add_argument("--executable", default="/usr/bin/chromium", help="the chromium binary")
    parser.add_argument("--width", type=int, default=1280, help="viewport width, CSS pixels")
    parser.add_argument("--height", type=int, default=800, help="viewport height, CSS pixels")
    parser.add_argument(
        "--timeout-ms",
        type=int,
        default=10_000,
        help="how long actions (click, fill…) and waits without timeout_ms wait, ms",
    )
    args = parser.parse_args(argv)
    if args.width <= 0 or args.height <= 0 or args.timeout_ms <= 0:
        parser.error("--width, --height and --timeout-ms must be > 0")
    return args


def main() -> int:
    args = parse_args()
    out = Output()
    try:
        return asyncio.run(serve(args, out))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
