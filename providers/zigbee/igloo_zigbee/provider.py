"""The Zigbee provider: a zigpy application on the stick the core grants,
its devices mirrored into the Igloo tree.

Flow: `Granted` → the radio is chosen (radio.py) and zigpy starts on the
granted fd (transport.py), forming a network on a new stick (settings,
devices and backups in `<data dir>/zigbee.db`) or resuming the stored one.
Each interviewed device becomes an Igloo device keyed by its IEEE address,
named from its manufacturer and model, with entities from its clusters
(entities.py); attribute reports update the values. A change request becomes
ZCL commands; the tree changes when the device reports back. Custom commands:
`zigbee.permit_join {"seconds": N}` and `zigbee.status`. `Revoked` (the stick
was unplugged) stops zigpy and marks every device unavailable; the next grant
resumes the same network and ids.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

import igloo
from zigpy.zcl.helpers import ReportingConfig

from igloo_zigbee import entities, radio, transport
from igloo_zigbee.entities import EntitySpec

LOG = logging.getLogger("igloo_zigbee")
PERMIT_MAX_S = 254
# zigpy cluster events after which its attribute cache holds new values.
CACHE_EVENTS = ("attribute_report", "attribute_read", "attribute_written", "attribute_updated")


@dataclass
class Mirrored:
    """A zigpy device as the tree knows it: its Igloo id and entity numbers."""

    zdev: Any
    id: int
    entities: dict[int, EntitySpec] = field(default_factory=dict)


class ZigbeeProvider:
    """One provider connection and at most one running zigpy application."""

    def __init__(self, provider: igloo.Provider) -> None:
        self.provider = provider
        config = tomllib.loads(provider.config or "")
        configured = config.get("radio")
        self.configured_radio = configured if isinstance(configured, str) else None
        self.app: Any = None
        self.grant: int | None = None
        self.radio: radio.Radio | None = None
        self.state = "waiting_for_stick"
        self.error: str | None = None
        self.devices: dict[str, Mirrored] = {}
        self.by_id: dict[int, Mirrored] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    # ---- events from the core ----

    async def run(self) -> None:
        async for event in self.provider.events():
            if isinstance(event, igloo.Granted):
                await self.granted(event)
            elif isinstance(event, igloo.Revoked):
                await self.revoked(event.grant, event.reason)
            elif isinstance(event, igloo.Custom):
                await self.custom(event)
            elif isinstance(event, igloo.Change):
                await self.change(event)
        await self.stop_app()

    async def granted(self, event: igloo.Granted) -> None:
        attributes = dict(event.attributes)
        if self.grant is not None:
            LOG.warning(
                "a second stick (grant %s) is ignored: one network per provider", event.grant
            )
            os.close(event.fd)
            return
        try:
            chosen = radio.choose(attributes, self.configured_radio)
        except radio.RadioError as err:
            self.error = str(err)
            LOG.error("%s", err)
            os.close(event.fd)
            return
        self.grant, self.radio = event.grant, chosen
        transport.hold(event.grant, event.fd)
        LOG.info("stick granted: %s, radio %s", attributes.get("product", event.name), chosen.name)
        self.spawn(self.start_app())

    async def revoked(self, grant: int, reason: str) -> None:
        if grant != self.grant:
            return
        LOG.info("stick revoked (%s): stopping the network", reason)
        await self.stop_app()
        fd = transport.release(grant)
        if fd is not None:
            os.close(fd)
        self.grant = None
        self.state = "waiting_for_stick"
        for mirrored in self.devices.values():
            await self.provider.set_available(mirrored.id, False)

    async def custom(self, event: igloo.Custom) -> None:
        try:
            body = json.loads(event.body or "{}")
            reply = await self.command(event.command, body if isinstance(body, dict) else {})
        except (ValueError, RuntimeError, TimeoutError) as err:
            await self.provider.reply_error(event.request_id, str(err))
            return
        await self.provider.reply_custom(event.request_id, json.dumps(reply))

    async def command(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        if name == "zigbee.status":
            return self.status()
        if name == "zigbee.permit_join":
            seconds = body.get("seconds", 60)
            if not isinstance(seconds, int) or not 0 <= seconds <= PERMIT_MAX_S:
                raise ValueError(f"seconds must be 0..{PERMIT_MAX_S}")
            if self.app is None or self.state != "running":
                raise RuntimeError(f"the network is not running ({self.state})")
            await self.app.permit(seconds)
            return {"permit_join": seconds}
        raise ValueError(f"unknown command {name}: zigbee.status, zigbee.permit_join")

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "state": self.state,
            "radio": None if self.radio is None else self.radio.name,
            "devices": len(self.devices),
        }
        if self.error:
            out["error"] = self.error
        if self.app is not None and self.state == "running":
            info = self.app.state.network_info
            out.update(pan_id=int(info.pan_id), channel=int(info.channel))
            out["extended_pan_id"] = str(info.extended_pan_id)
        return out

    async def change(self, event: igloo.Change) -> None:
        mirrored = self.by_id.get(event.device)
        spec = None if mirrored is None else mirrored.entities.get(event.entity)
        if mirrored is None or spec is None:
            await self.provider.refuse_change(
                event.device, event.entity, "unknown device or entity"
            )
            return
        try:
            sent = await entities.apply_change(mirrored.zdev, spec, dict(event.values))
        except Exception as err:  # noqa: BLE001 - a radio or device failure is the user's answer
            await self.provider.refuse_change(
                event.device, event.entity, f"the device did not take it: {err}"
            )
            return
        LOG.info("sent %s to %s", ", ".join(sent) or "nothing", mirrored.zdev.ieee)

    # ---- zigpy ----

    async def start_app(self) -> None:
        assert self.grant is not None and self.radio is not None
        database = os.path.join(self.provider.data_dir, "zigbee.db")
        config = radio.app_config(self.radio, self.grant, database)
        self.state = "starting"
        try:
            app_cls = self.radio.application()
            # `new` loads the database (devices, backups) before starting.
            app = await app_cls.new(config, auto_form=True)
        except Exception as err:  # noqa: BLE001 - reported in the status, retried on the next grant
            self.state, self.error = "failed", f"{type(err).__name__}: {err}"
            LOG.error("the Zigbee network did not start: %s", self.error)
            return
        self.app = app
        self.state, self.error = "running", None
        info = app.state.network_info
        LOG.info("network running: PAN 0x%04x, channel %s", info.pan_id, info.channel)
        app.add_listener(self)
        for zdev in list(app.devices.values()):
            if zdev.nwk != app.state.node_info.nwk and zdev.is_initialized:
                await self.mirror(zdev, fresh=False)

    async def stop_app(self) -> None:
        app, self.app = self.app, None
        if app is None:
            return
        # Interviews and set-ups of this application end with it.
        for task in list(self.tasks):
            task.cancel()
        try:
            await app.shutdown()
        except Exception as err:  # noqa: BLE001 - the stick may be gone already
            LOG.info("zigpy shutdown: %s", err)

    def spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # zigpy application listener callbacks (called on the event loop)

    def device_initialized(self, zdev: Any) -> None:
        self.spawn(self.mirror(zdev, fresh=True))

    def device_left(self, zdev: Any) -> None:
        mirrored = self.devices.get(str(zdev.ieee))
        if mirrored is not None:
            self.spawn(self.provider.set_available(mirrored.id, False))

    def device_removed(self, zdev: Any) -> None:
        self.device_left(zdev)

    async def mirror(self, zdev: Any, *, fresh: bool) -> None:
        """Creates (or re-announces) the Igloo device of `zdev` with its entities."""
        key = str(zdev.ieee)
        name = " ".join(p for p in (zdev.manufacturer, zdev.model) if p) or key
        attributes = [
            ("ieee", key),
            ("manufacturer", str(zdev.manufacturer or "")),
            ("model", str(zdev.model or "")),
        ]
        device_id = await self.provider.create_device(key, name, attributes)
        mirrored = Mirrored(zdev=zdev, id=device_id)
        for spec in entities.entities_of(zdev):
            attrs = [("writable", ",".join(spec.writable))] if spec.writable else []
            number = await self.provider.register_entity(device_id, spec.name, attrs)
            mirrored.entities[number] = spec
        self.devices[key] = mirrored
        self.by_id[device_id] = mirrored
        self.watch(mirrored)
        if fresh:
            await self.configure(mirrored)
        await self.write_all(mirrored)

    def watch(self, mirrored: Mirrored) -> None:
        """Writes the device's values again whenever zigpy's cache of a mapped
        cluster changes: a report, a read, a write, a quirk's update."""

        def changed(_event: object) -> None:
            self.spawn(self.write_all(mirrored))

        for spec in set(mirrored.entities.values()):
            for cluster_id in spec.clusters:
                cluster = mirrored.zdev.endpoints[spec.endpoint].in_clusters[cluster_id]
                for event in CACHE_EVENTS:
                    cluster.on_event(event, changed)

    async def configure(self, mirrored: Mirrored) -> None:
        """Binds and configures reporting of the watched attributes, then reads them."""
        for spec in set(mirrored.entities.values()):
            for cluster_id in spec.clusters:
                cluster = mirrored.zdev.endpoints[spec.endpoint].in_clusters[cluster_id]
                watched = entities.WATCHED.get(cluster_id, ())
                try:
                    reported = [a for a in watched if a in entities.REPORTED]
                    if reported:
                        await cluster.bind()
                        every = ReportingConfig(
                            min_interval=0, max_interval=3600, reportable_change=1
                        )
                        await cluster.configure_reporting_multiple(
                            {cluster.find_attribute(a): every for a in reported}
                        )
                    await cluster.read_attributes(list(watched))
                except Exception as err:  # noqa: BLE001 - a sleepy device answers later
                    LOG.info("%s cluster 0x%04x: %s", mirrored.zdev.ieee, cluster_id, err)

    async def write_all(self, mirrored: Mirrored) -> None:
        for number, spec in mirrored.entities.items():
            values = entities.values_of(mirrored.zdev, spec)
            if values:
                await self.provider.write(mirrored.id, number, values)
