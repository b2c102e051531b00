"""The Zigbee provider: a zigpy application on the stick the core grants,
its devices mirrored into the Igloo tree.

Flow: `Granted` → the radio is chosen (radio.py) and zigpy starts on the
granted fd (transport.py), forming a network on a new stick (settings,
devices and backups in `<data dir>/zigbee.db`) or resuming the stored one.
Each interviewed device becomes an Igloo device keyed by its IEEE address,
named from its manufacturer and model, with entities from its clusters
(entities.py); attribute reports update the values. A change request becomes
ZCL commands (commands.py); the tree changes when the device reports back.
Custom commands: `zigbee.permit_join {"seconds": N}`, `zigbee.remove
{"device": ID}` (asks the device to leave and forgets it: zigpy's remove) and
`zigbee.status`.
`Revoked` (the stick was unplugged) stops zigpy and marks every device
unavailable; so does the stick failing under zigpy (its fd reads EIO or
hangs up: zigpy's `connection_lost`) before or without a revocation. The
provider keeps running and the next grant resumes the same network and ids.
A device silent past its power source's timeout is unavailable until it
sends again (availability.py). A device that left the network stays
unavailable whatever frames still arrive from it, until it joins again
(a join or a Device_annce), also across restarts (left.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import igloo
from zigpy.zcl.helpers import ReportingConfig

from igloo_zigbee import availability, commands, entities, radio, settings, transport
from igloo_zigbee.entities import EntitySpec
from igloo_zigbee.left import LeftDevices

LOG = logging.getLogger("igloo_zigbee")
PERMIT_MAX_S = 254
# zigpy cluster events after which its attribute cache holds what the device
# said (a report, a read answer, a notification). Not `attribute_written`:
# a write is confirmed by its read-back (commands.py).
CACHE_EVENTS = ("attribute_report", "attribute_read", "attribute_updated")
# How long zigpy may take to shut down on a stick that no longer answers.
SHUTDOWN_TIMEOUT_S = 10.0
IAS_ZONE_STATUS = 0x0002


@dataclass
class Mirrored:
    """A zigpy device as the tree knows it: its Igloo id and entity numbers."""

    zdev: Any
    id: int
    entities: dict[int, EntitySpec] = field(default_factory=dict)
    available: bool = True
    #: It left the network: frames still in flight from it (or relayed
    #: late) do not make it available; only its next join does.
    left: bool = False


class _DeviceEvents:
    """zigpy device and ZDO listener: a frame from a device the tree holds
    unavailable (silent, or its stick was back) makes it available again;
    a Device_annce also ends a leave."""

    def __init__(self, provider: ZigbeeProvider, mirrored: Mirrored) -> None:
        self.provider, self.mirrored = provider, mirrored

    def device_last_seen_updated(self, _last_seen: object) -> None:
        self.provider.heard(self.mirrored)

    def device_announce(self, _zdev: object) -> None:
        self.provider.rejoined(self.mirrored)


class _ZoneEvents:
    """zigpy cluster listener on an IAS Zone: a Zone Status Change
    Notification becomes the cached `zone_status` (so the entity follows
    it), and a Zone Enroll Request is answered."""

    def __init__(self, provider: ZigbeeProvider, cluster: Any) -> None:
        self.provider, self.cluster = provider, cluster

    def cluster_command(self, _tsn: int, command_id: int, args: Any) -> None:
        if command_id == 0x00:
            status = getattr(args, "zone_status", None)
            if status is None and isinstance(args, list | tuple) and args:
                status = args[0]
            if status is not None:
                self.cluster.update_attribute(IAS_ZONE_STATUS, status)
        elif command_id == 0x01:
            self.provider.spawn(self.provider.enroll(self.cluster))


class ZigbeeProvider:
    """One provider connection and at most one running zigpy application."""

    def __init__(self, provider: igloo.Provider) -> None:
        self.provider = provider
        self.settings = settings.parse(provider.config or "")
        self.app: Any = None
        self.grant: int | None = None
        self.radio: radio.Radio | None = None
        self.state = "waiting_for_stick"
        self.error: str | None = None
        self.devices: dict[str, Mirrored] = {}
        self.by_id: dict[int, Mirrored] = {}
        self.left = LeftDevices(provider.data_dir)
        self.tasks: set[asyncio.Task[None]] = set()
        self.lost_task: asyncio.Task[None] | None = None

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
                # A slow or absent device must not hold up the other events.
                self.spawn(self.change(event))
        await self.stop_app()

    async def granted(self, event: igloo.Granted) -> None:
        attributes = dict(event.attributes)
        if self.grant is not None and self.state == "stick_lost":
            # The failed stick's grant is still held by the core until it
            # sees the unplug; this one replaces it.
            self.forget_grant()
        if self.grant is not None:
            LOG.warning(
                "a second stick (grant %s) is ignored: one network per provider", event.grant
            )
            os.close(event.fd)
            return
        try:
            chosen = radio.choose(
                attributes,
                self.settings.radio,
                self.settings.baudrate,
                self.settings.flow_control,
            )
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
        self.forget_grant()
        self.state = "waiting_for_stick"
        await self.all_unavailable()

    def forget_grant(self) -> None:
        if self.grant is not None and (fd := transport.release(self.grant)) is not None:
            os.close(fd)
        self.grant = None

    async def all_unavailable(self) -> None:
        for mirrored in self.devices.values():
            mirrored.available = False
            await self.provider.set_available(mirrored.id, False)

    async def stick_lost(self, exc: object) -> None:
        """The stick failed under zigpy (reads EIO, hang-up) without a
        revocation: zigpy stops, devices go unavailable, the provider waits
        for the next grant (a replugged stick)."""
        if self.app is None:
            return
        LOG.warning("the stick stopped answering (%s): network stopped until it is back", exc)
        await self.stop_app()
        self.state, self.error = "stick_lost", f"connection lost: {exc}"
        await self.all_unavailable()

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
        if name == "zigbee.remove":
            device = body.get("device")
            # bool is an int to Python: `true` must not mean device 1.
            mirrored = None
            if isinstance(device, int) and not isinstance(device, bool):
                mirrored = self.by_id.get(device)
            if mirrored is None:
                raise ValueError(f"device must be the id of a Zigbee device, not {device!r}")
            if self.app is None or self.state != "running":
                raise RuntimeError(f"the network is not running ({self.state})")
            ieee = str(mirrored.zdev.ieee)
            # zigpy sends the device a leave request in the background and
            # reports `device_removed` now, which removes it from the tree.
            await self.app.remove(mirrored.zdev.ieee)
            return {"removed": ieee}
        raise ValueError(
            f"unknown command {name}: zigbee.status, zigbee.permit_join, zigbee.remove"
        )

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
            sent = await commands.apply_change(mirrored.zdev, spec, dict(event.values))
        except commands.Refused as err:
            await self.provider.refuse_change(event.device, event.entity, str(err))
            return
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
        await self.attach(app)

    async def attach(self, app: Any) -> None:
        """Serves a started zigpy application: listens to it, watches for
        silent devices and mirrors the devices it already knows."""
        self.app = app
        self.error = None
        info = app.state.network_info
        LOG.info("network running: PAN 0x%04x, channel %s", info.pan_id, info.channel)
        app.add_listener(self)
        self.spawn(self.watch_silence(time.time()))
        for zdev in list(app.devices.values()):
            if zdev.nwk != app.state.node_info.nwk and zdev.is_initialized:
                await self.mirror(zdev, fresh=False)
        # The status says "running" once every known device is announced
        # again with its availability, unless the stick failed meanwhile.
        if self.app is app:
            self.state = "running"

    async def stop_app(self) -> None:
        app, self.app = self.app, None
        if app is None:
            return
        # Interviews, set-ups and watches of this application end with it
        # (not the task stopping it).
        current = asyncio.current_task()
        for task in list(self.tasks):
            if task is not current:
                task.cancel()
        try:
            async with asyncio.timeout(SHUTDOWN_TIMEOUT_S):
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

    def device_joined(self, zdev: Any) -> None:
        mirrored = self.devices.get(str(zdev.ieee))
        if mirrored is not None:
            self.rejoined(mirrored)

    def device_left(self, zdev: Any) -> None:
        mirrored = self.devices.get(str(zdev.ieee))
        if mirrored is None:
            return
        mirrored.left = True
        self.left.add(str(zdev.ieee))
        if mirrored.available:
            mirrored.available = False
            self.spawn(self.provider.set_available(mirrored.id, False))

    def device_removed(self, zdev: Any) -> None:
        """zigpy forgot the device (`zigbee.remove`): it leaves the tree; its
        id stays reserved for its IEEE address should it be paired again."""
        key = str(zdev.ieee)
        mirrored = self.devices.pop(key, None)
        self.left.discard(key)
        if mirrored is None:
            return
        self.by_id.pop(mirrored.id, None)
        LOG.info("%s removed from the network", key)
        self.spawn(self.provider.remove_device(mirrored.id))

    def connection_lost(self, exc: object) -> None:
        # Not in `self.tasks`: stopping the application cancels those.
        task = asyncio.get_running_loop().create_task(self.stick_lost(exc))
        self.lost_task = task

    async def watch_silence(self, since: float) -> None:
        """Marks devices silent past their power source's timeout unavailable;
        a mains-powered one only when it does not answer a poll either."""
        interval = availability.check_interval_s(self.settings)
        polling: set[str] = set()
        while True:
            await asyncio.sleep(interval)
            heard = [m.zdev for m in self.devices.values() if m.available]
            for zdev in availability.stale(self.settings, heard, time.time(), since):
                key = str(zdev.ieee)
                if key in polling:
                    continue
                if availability.pollable(zdev):
                    polling.add(key)
                    self.spawn(self.poll(self.devices[key], polling))
                else:
                    await self.silent(self.devices[key])

    async def poll(self, mirrored: Mirrored, polling: set[str]) -> None:
        """Asks a silent mains device; it becomes unavailable if it does not
        answer (an answer stamps zigpy's `last_seen`, so it is not stale)."""
        try:
            if not await availability.answers_poll(mirrored.zdev):
                await self.silent(mirrored)
        finally:
            polling.discard(str(mirrored.zdev.ieee))

    async def silent(self, mirrored: Mirrored) -> None:
        """`mirrored` passed its silence timeout: unavailable until heard."""
        if self.devices.get(str(mirrored.zdev.ieee)) is not mirrored or not mirrored.available:
            return
        zdev = mirrored.zdev
        mirrored.available = False
        LOG.info(
            "%s silent for %.0f s (%s): unavailable",
            zdev.ieee,
            availability.timeout_s(self.settings, zdev),
            availability.power_source(zdev),
        )
        await self.provider.set_available(mirrored.id, False)

    def heard(self, mirrored: Mirrored) -> None:
        """A frame came from `mirrored`: available again if it was not."""
        current = self.devices.get(str(mirrored.zdev.ieee))
        if current is not mirrored or mirrored.left or mirrored.available:
            return
        if self.app is None:
            return
        mirrored.available = True
        self.spawn(self.provider.set_available(mirrored.id, True))

    def rejoined(self, mirrored: Mirrored) -> None:
        """`mirrored` joined again (a rejoin or a Device_annce): it is on the
        network, and available once the network runs."""
        mirrored.left = False
        self.left.discard(str(mirrored.zdev.ieee))
        self.heard(mirrored)

    async def mirror(self, zdev: Any, *, fresh: bool) -> None:
        """Creates (or re-announces) the Igloo device of `zdev` with its entities."""
        key = str(zdev.ieee)
        name = " ".join(p for p in (zdev.manufacturer, zdev.model) if p) or key
        attributes = [
            ("ieee", key),
            ("manufacturer", str(zdev.manufacturer or "")),
            ("model", str(zdev.model or "")),
            ("power_source", availability.power_source(zdev)),
        ]
        await self.read_zone_types(zdev)
        if fresh:
            # Interviewed: it has just joined.
            self.left.discard(key)
        left = key in self.left
        # A device that left is announced unavailable: it is never shown
        # available, not even for a moment after a restart.
        device_id = await self.provider.create_device(key, name, attributes, available=not left)
        mirrored = Mirrored(zdev=zdev, id=device_id, available=not left, left=left)
        for spec in entities.entities_of(zdev):
            attrs = [("writable", ",".join(spec.writable))] if spec.writable else []
            number = await self.provider.register_entity(device_id, spec.name, attrs)
            mirrored.entities[number] = spec
        self.devices[key] = mirrored
        self.by_id[device_id] = mirrored
        self.watch(mirrored)
        events = _DeviceEvents(self, mirrored)
        zdev.add_listener(events)
        zdev.zdo.add_listener(events)
        await self.provider.set_available(device_id, mirrored.available)
        if fresh:
            await self.configure(mirrored)
        await self.write_all(mirrored)

    async def read_zone_types(self, zdev: Any) -> None:
        """Reads the zone type of IAS zones whose type zigpy has not cached:
        it decides the entity (contact, motion, water leak, smoke)."""
        for ep_id, ep in zdev.endpoints.items():
            zone = ep.in_clusters.get(entities.IAS_ZONE) if ep_id else None
            if zone is None or zone.get("zone_type") is not None:
                continue
            try:
                await zone.read_attributes(["zone_type"])
            except Exception as err:  # noqa: BLE001 - a sleepy device answers later
                LOG.info("%s zone type: %s", zdev.ieee, err)

    async def enroll(self, cluster: Any) -> None:
        """IAS enrollment: this coordinator as the CIE, then an enroll response."""
        try:
            ieee = self.app.state.node_info.ieee
            await cluster.write_attributes({"cie_addr": ieee})
            await cluster.enroll_response(enroll_response_code=0, zone_id=0)
        except Exception as err:  # noqa: BLE001 - the device asks again
            LOG.info("IAS enrollment of %s: %s", cluster.endpoint.device.ieee, err)

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
                if cluster_id == entities.IAS_ZONE:
                    cluster.add_listener(_ZoneEvents(self, cluster))

    async def configure(self, mirrored: Mirrored) -> None:
        """Binds and configures reporting of the watched attributes, then
        reads them (a read is tried even when binding failed: the values
        are still worth having). IAS zones are enrolled."""
        for spec in set(mirrored.entities.values()):
            for cluster_id in spec.clusters:
                cluster = mirrored.zdev.endpoints[spec.endpoint].in_clusters[cluster_id]
                watched = entities.WATCHED.get(cluster_id, ())
                reported = [a for a in watched if a in entities.REPORTED]
                steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = []
                if reported:
                    every = ReportingConfig(min_interval=0, max_interval=3600, reportable_change=1)
                    config = {cluster.find_attribute(a): every for a in reported}
                    steps.append(("bind", cluster.bind))
                    steps.append(
                        ("reporting", partial(cluster.configure_reporting_multiple, config))
                    )
                steps.append(("read", partial(cluster.read_attributes, list(watched))))
                if cluster_id == entities.IAS_ZONE:
                    steps.append(("enroll", partial(self.enroll, cluster)))
                for step, run in steps:
                    try:
                        await run()
                    except Exception as err:  # noqa: BLE001 - a sleepy device answers later
                        LOG.info(
                            "%s cluster 0x%04x %s: %s", mirrored.zdev.ieee, cluster_id, step, err
                        )

    async def write_all(self, mirrored: Mirrored) -> None:
        for number, spec in mirrored.entities.items():
            values = entities.values_of(mirrored.zdev, spec)
            if values:
                await self.provider.write(mirrored.id, number, values)
