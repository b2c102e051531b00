"""A Python provider that checks the SDK's errors from inside a real
provider process (tests/tests/python_provider.rs): each check logs
`check ok: NAME` or `check FAILED: NAME: why` to stderr, which the core
puts in its log, then `checks done`."""

import asyncio
import sys

import igloo


def report(name: str, ok: bool, detail: str) -> None:
    status = "ok" if ok else "FAILED"
    print(f"check {status}: {name}: {detail}", file=sys.stderr, flush=True)


async def main() -> None:
    provider = await igloo.connect("igloo-checks", "0.1.0")
    device = await provider.create_device("checks-1", "Checks")
    entity = await provider.register_entity(device, "Light", [("writable", "Switch,Brightness")])
    cases: list[tuple[str, dict[str, igloo.Value], str]] = [
        ("wrong kind", {"Brightness": "high"}, "Brightness takes a float in %"),
        ("unknown component", {"Sparkle": True}, 'unknown component "Sparkle"'),
        ("not a variant", {"Lock": "Wobbly"}, "Locked, Unlocked"),
    ]
    for name, values, says in cases:
        try:
            await provider.write(device, entity, values)
            report(name, False, "no error")
        except igloo.ComponentError as e:
            report(name, says in str(e), str(e))
    # The baseline: a right write goes through.
    await provider.write(device, entity, {"Light": True, "Switch": True, "Brightness": 40.5})
    report("baseline write", True, "written")
    print("checks done", file=sys.stderr, flush=True)
    async for _ in provider.events():
        pass


if __name__ == "__main__":
    asyncio.run(main())
