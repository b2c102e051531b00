"""The Python side of the Python provider bench (tests/benches/python_provider.rs),
the twin of tests/src/bin/sdk_bench_provider.rs: device `bench-1`, entity
`Counter`; on `bench.write` {"n": N, "start": S, "concurrent": bool} it writes
Number S+1..=S+N, awaiting each write in turn or all together (asyncio.gather)."""

import asyncio
import json

import igloo


async def main() -> None:
    provider = await igloo.connect("igloo-py-bench", "0.1.0")
    device = await provider.create_device("bench-1", "Bench")
    entity = await provider.register_entity(device, "Counter")
    async for event in provider.events():
        if not isinstance(event, igloo.Custom):
            continue
        args = json.loads(event.body)
        n = int(args.get("n", 0))
        start = float(args.get("start", 0))
        if args.get("concurrent", False):
            await asyncio.gather(
                *(provider.write(device, entity, {"Number": start + i}) for i in range(1, n + 1))
            )
        else:
            for i in range(1, n + 1):
                await provider.write(device, entity, {"Number": start + i})
        await provider.reply_custom(event.request_id, "{}")


if __name__ == "__main__":
    asyncio.run(main())
