"""A Z-Stack 3.30 coordinator (a CC2652 stick such as the Sonoff ZBDongle-P)
speaking TI's Monitor-and-Test (MT) serial protocol on one end of a pty.

Built on zigpy-znp's published MT definitions: frames are
`zigpy_znp.frames.TransportFrame`s, requests are parsed and answers built with
the `zigpy_znp.commands` classes, NV items use `zigpy_znp.types`
(znp_nvram.py). End devices behind it (zigbee_devices.py) answer ZDO and ZCL
through zigpy's own definitions. What it answers is what zigpy-znp's start
sends (ping, version, NV reads/writes, BDB formation, resets, endpoint
registration) and what zigpy sends to devices (AF data requests, permit join,
route checks). An unknown request gets Z-Stack's `RPCError` answer and an
`unhandled` event.

Driven by JSON ops on stdin, reporting JSON events on stdout (control.py);
see tests/fakes/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import errno
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, NotRequired

import control
import zigpy.types as _zt
import zigpy.zdo.types as zdo_t
import zigpy_znp.commands as c
import zigpy_znp.types as t
from control import JSONValue, Op, OpError, OpResult
from zigbee_devices import IAS_ZONE, Node, catalogue, jsonable
from zigpy_znp.exceptions import InvalidFrame
from zigpy_znp.frames import GeneralFrame, TransportFrame
from zigpy_znp.types.nvids import OsalNvIds
from znp_nvram import NvStore, osal_key

# Z-Stack 3.30 on a CC2652 (what a ZBDongle-P runs): MT capabilities and version.
CAPABILITIES = (
    t.MTCapabilities.SYS
    | t.MTCapabilities.MAC
    | t.MTCapabilities.NWK
    | t.MTCapabilities.AF
    | t.MTCapabilities.ZDO
    | t.MTCapabilities.SAPI
    | t.MTCapabilities.UTIL
    | t.MTCapabilities.APP
    | t.MTCapabilities.APP_CNF
    | t.MTCapabilities.GP
)
VERSION = {"TransportRev": 2, "ProductId": 1, "MajorRel": 2, "MinorRel": 7, "MaintRel": 1}
CODE_REVISION = 20221226
COORDINATOR_NWK = 0x0000
zt: Any = _zt


class EventFields(control.EventFields, total=False):
    port: str
    nwk: int
    ieee: str
    pan_id: int
    channel: int
    duration: int
    device: str
    endpoint: int
    cluster: int
    command: str
    args: JSONValue
    request: str
    reason: str


class Event(EventFields, control.Event, total=False):
    kind: NotRequired[str]


def emit(event: str, **fields: JSONValue) -> None:
    control.emit(event, **fields)


class Coordinator:
    """The stick: its NV, its registered endpoints, the network it runs and
    the devices that joined it."""

    def __init__(self, port: str) -> None:
        self.port = port
        self.nv = NvStore()
        self.devices = catalogue()
        self.endpoints: dict[int, c.AF.Register.Req] = {}
        self.permit_until = 0.0
        self.running = False
        self.primary_channels = t.Channels.ALL_CHANNELS
        self.fd: int | None = None
        self.buffer = bytearray()
        self.loop = asyncio.get_running_loop()
        self.handlers: dict[type[Any], Callable[[Any], list[t.CommandBase]]] = {
            c.SYS.Ping.Req: lambda _: [c.SYS.Ping.Rsp(Capabilities=CAPABILITIES)],
            c.SYS.Version.Req: self.version,
            c.SYS.ResetReq.Req: self.reset,
            c.SYS.OSALNVLength.Req: self.osal_length,
            c.SYS.OSALNVReadExt.Req: self.osal_read,
            c.SYS.OSALNVRead.Req: self.osal_read_short,
            c.SYS.OSALNVWriteExt.Req: self.osal_write,
            c.SYS.OSALNVWrite.Req: self.osal_write,
            c.SYS.OSALNVItemInit.Req: self.osal_init,
            c.SYS.OSALNVDelete.Req: self.osal_delete,
            c.SYS.NVLength.Req: self.nv_length,
            c.SYS.NVRead.Req: self.nv_read,
            c.SYS.NVWrite.Req: self.nv_write,
            c.SYS.NVCreate.Req: self.nv_create,
            c.SYS.NVDelete.Req: self.nv_delete,
            c.SYS.SetTxPower.Req: lambda r: [c.SYS.SetTxPower.Rsp(StatusOrPower=r.TXPower)],
            c.UTIL.AssocFindDevice.Req: lambda _: [
                c.UTIL.AssocFindDevice.Rsp(Device=t.Bytes(b"\xff" * 36))
            ],
            c.UTIL.LEDControl.Req: lambda _: [c.UTIL.LEDControl.Rsp(Status=t.Status.SUCCESS)],
            c.AppConfig.BDBSetChannel.Req: self.set_channel,
            c.AppConfig.BDBStartCommissioning.Req: self.commission,
            c.AF.Register.Req: self.register,
            c.AF.DataRequestExt.Req: self.data_request,
            c.ZDO.MsgCallbackRegister.Req: lambda _: [
                c.ZDO.MsgCallbackRegister.Rsp(Status=t.Status.SUCCESS)
            ],
            c.ZDO.MgmtPermitJoinReq.Req: self.permit_join,
            c.ZDO.ExtRouteDisc.Req: lambda _: [c.ZDO.ExtRouteDisc.Rsp(Status=t.Status.SUCCESS)],
            c.ZDO.ExtRouteChk.Req: self.route_check,
        }

    # ---- serial line ----

    def open(self) -> None:
        self.fd = os.open(self.port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self.loop.add_reader(self.fd, self.readable)

    def pause_reading(self) -> None:
        fd = self.fd
        if fd is None:
            return
        self.loop.remove_reader(fd)

        def resume() -> None:
            if self.fd == fd:
                self.loop.add_reader(fd, self.readable)

        self.loop.call_later(0.1, resume)

    def power_cycle(self) -> None:
        """The stick on a new port after an unplug: its NV (network, keys)
        kept, its RAM state (running network, endpoints, permit) gone."""
        self.close()
        self.buffer.clear()
        self.running = False
        self.permit_until = 0.0
        self.endpoints.clear()
        self.open()

    def close(self) -> None:
        if self.fd is not None:
            self.loop.remove_reader(self.fd)
            os.close(self.fd)
            self.fd = None

    def readable(self) -> None:
        assert self.fd is not None
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return
        except OSError as err:
            if err.errno != errno.EIO:
                raise
            # The other side is not open (a pty peer reads EIO until it is)
            # or gone (socat ended): look again shortly, not in a busy loop.
            self.pause_reading()
            return
        if not data:
            return
        self.buffer += data
        for frame in self.frames():
            self.dispatch(frame)

    def frames(self) -> list[GeneralFrame]:
        out: list[GeneralFrame] = []
        while True:
            start = self.buffer.find(bytes([TransportFrame.SOF]))
            if start < 0:
                self.buffer.clear()
                return out
            del self.buffer[:start]
            if len(self.buffer) < 5 or len(self.buffer) < self.buffer[1] + 5:
                return out
            try:
                frame, rest = TransportFrame.deserialize(bytes(self.buffer))
            except InvalidFrame:
                del self.buffer[:1]
                continue
            del self.buffer[: len(self.buffer) - len(rest)]
            out.append(frame.payload)

    def send(self, *commands: t.CommandBase) -> None:
        for command in commands:
            data = TransportFrame(command.to_frame(align=True)).serialize()
            if self.fd is None:
                return
            try:
                os.write(self.fd, data)
            except OSError as err:
                emit("error", op=None, message=f"write: {err}")

    def later(self, delay: float, *commands: t.CommandBase) -> None:
        self.loop.call_later(delay, self.send, *commands)

    def dispatch(self, frame: GeneralFrame) -> None:
        cls = c.COMMANDS_BY_ID.get(frame.header)
        if cls is None or cls not in self.handlers:
            emit("unhandled", request=str(cls.__qualname__ if cls else frame.header))
            self.send(
                c.RPCError.CommandNotRecognized.Rsp(
                    ErrorCode=c.rpc_error.ErrorCode.InvalidCommandId,
                    RequestHeader=frame.header,
                )
            )
            return
        request = cls.from_frame(frame, align=True)
        try:
            answers = self.handlers[cls](request)
        except Exception as err:  # noqa: BLE001 - a bug here must not stop the stick
            traceback.print_exc(file=sys.stderr)
            emit("error", op=None, message=f"{cls.__qualname__}: {err!r}")
            return
        self.send(*answers)

    # ---- SYS ----

    def version(self, _: object) -> list[t.CommandBase]:
        return [
            c.SYS.Version.Rsp(
                **VERSION,
                CodeRevision=CODE_REVISION,
                BootloaderBuildType=c.sys.BootloaderBuildType.NON_BOOTLOADER_BUILD,
                BootloaderRevision=0xFFFFFFFF,
            )
        ]

    def reset(self, _: object) -> list[t.CommandBase]:
        """A soft reset: apply `STARTUP_OPTION`, stop the network, announce the restart."""
        option = self.nv.osal(OsalNvIds.STARTUP_OPTION) or b"\x00"
        clear = t.StartupOptions.ClearState | t.StartupOptions.ClearConfig
        if option[0] & clear:
            self.nv.clear_network()
            emit("network_cleared")
        self.nv.restore_missing()
        self.running = False
        self.permit_until = 0.0
        self.endpoints.clear()
        indication = c.SYS.ResetInd.Callback(Reason=t.ResetReason.PowerUp, **VERSION)
        self.later(0.05, indication)
        return []

    def osal_length(self, r: c.SYS.OSALNVLength.Req) -> list[t.CommandBase]:
        return [c.SYS.OSALNVLength.Rsp(ItemLen=self.nv.length(osal_key(r.Id)))]

    def osal_read(self, r: c.SYS.OSALNVReadExt.Req) -> list[t.CommandBase]:
        data = self.nv.read(osal_key(r.Id), r.Offset, 244)
        status = t.Status.SUCCESS if data is not None else t.Status.INVALID_PARAMETER
        return [c.SYS.OSALNVReadExt.Rsp(Status=status, Value=t.ShortBytes(data or b""))]

    def osal_read_short(self, r: c.SYS.OSALNVRead.Req) -> list[t.CommandBase]:
        data = self.nv.read(osal_key(r.Id), r.Offset, 244)
        status = t.Status.SUCCESS if data is not None else t.Status.INVALID_PARAMETER
        return [c.SYS.OSALNVRead.Rsp(Status=status, Value=t.ShortBytes(data or b""))]

    def osal_write(self, r: c.SYS.OSALNVWriteExt.Req) -> list[t.CommandBase]:
        ok = self.nv.write(osal_key(r.Id), r.Offset, bytes(r.Value))
        status = t.Status.SUCCESS if ok else t.Status.INVALID_PARAMETER
        rsp = (
            c.SYS.OSALNVWriteExt.Rsp
            if isinstance(r, c.SYS.OSALNVWriteExt.Req)
            else c.SYS.OSALNVWrite.Rsp
        )
        return [rsp(Status=status)]

    def osal_init(self, r: c.SYS.OSALNVItemInit.Req) -> list[t.CommandBase]:
        created = self.nv.create(osal_key(r.Id), r.ItemLen, bytes(r.Value))
        # Z-Stack answers "uninitialised" for an item it has just created.
        status = t.Status.NV_ITEM_UNINIT if created else t.Status.SUCCESS
        return [c.SYS.OSALNVItemInit.Rsp(Status=status)]

    def osal_delete(self, r: c.SYS.OSALNVDelete.Req) -> list[t.CommandBase]:
        ok = self.nv.delete(osal_key(r.Id))
        status = t.Status.SUCCESS if ok else t.Status.NV_ITEM_UNINIT
        return [c.SYS.OSALNVDelete.Rsp(Status=status)]

    def nv_length(self, r: c.SYS.NVLength.Req) -> list[t.CommandBase]:
        return [c.SYS.NVLength.Rsp(Length=self.nv.length((r.SysId, r.ItemId, r.SubId)))]

    def nv_read(self, r: c.SYS.NVRead.Req) -> list[t.CommandBase]:
        data = self.nv.read((r.SysId, r.ItemId, r.SubId), r.Offset, min(r.Length, 244))
        status = t.Status.SUCCESS if data is not None else t.Status.INVALID_PARAMETER
        return [c.SYS.NVRead.Rsp(Status=status, Value=t.ShortBytes(data or b""))]

    def nv_write(self, r: c.SYS.NVWrite.Req) -> list[t.CommandBase]:
        ok = self.nv.write((r.SysId, r.ItemId, r.SubId), r.Offset, bytes(r.Value))
        status = t.Status.SUCCESS if ok else t.Status.INVALID_PARAMETER
        return [c.SYS.NVWrite.Rsp(Status=status)]

    def nv_create(self, r: c.SYS.NVCreate.Req) -> list[t.CommandBase]:
        created = self.nv.create((r.SysId, r.ItemId, r.SubId), r.Length)
        status = t.Status.NV_ITEM_UNINIT if created else t.Status.SUCCESS
        return [c.SYS.NVCreate.Rsp(Status=status)]

    def nv_delete(self, r: c.SYS.NVDelete.Req) -> list[t.CommandBase]:
        ok = self.nv.delete((r.SysId, r.ItemId, r.SubId))
        status = t.Status.SUCCESS if ok else t.Status.NV_ITEM_UNINIT
        return [c.SYS.NVDelete.Rsp(Status=status)]

    # ---- network start (BDB) ----

    def set_channel(self, r: c.AppConfig.BDBSetChannel.Req) -> list[t.CommandBase]:
        if r.IsPrimary:
            self.primary_channels = r.Channel
        return [c.AppConfig.BDBSetChannel.Rsp(Status=t.Status.SUCCESS)]

    def commission(self, r: c.AppConfig.BDBStartCommissioning.Req) -> list[t.CommandBase]:
        """Formation: a new network when none is stored, else the stored one resumes."""
        notify = c.AppConfig.BDBCommissioningNotification.Callback
        modes = c.app_config.BDBCommissioningMode
        status = c.app_config.BDBCommissioningStatus
        if self.nv.is_formed():
            result = status.FormationFailure  # Z-Stack's answer when already on a network
        else:
            self.nv.form(self.primary_channels)
            result = status.Success
        nib = self.nv.nib()
        assert nib is not None
        self.running = True
        emit(
            "network_started",
            pan_id=int(nib.nwkPanId),
            channel=int(nib.nwkLogicalChannel),
            ieee=str(nib.nwkCoordExtAddress),
        )
        self.later(
            0.05,
            c.ZDO.StateChangeInd.Callback(State=t.DeviceState.StartingAsCoordinator),
            notify(
                Status=status.InProgress, Mode=modes.NwkFormation, RemainingModes=modes.NwkFormation
            ),
            c.ZDO.StateChangeInd.Callback(State=t.DeviceState.StartedAsCoordinator),
            notify(Status=result, Mode=modes.NwkFormation, RemainingModes=modes.NONE),
        )
        return [c.AppConfig.BDBStartCommissioning.Rsp(Status=t.Status.SUCCESS)]

    def register(self, r: c.AF.Register.Req) -> list[t.CommandBase]:
        if r.Endpoint in self.endpoints:
            return [c.AF.Register.Rsp(Status=t.Status.INVALID_PARAMETER)]
        self.endpoints[r.Endpoint] = r
        return [c.AF.Register.Rsp(Status=t.Status.SUCCESS)]

    # ---- ZDO ----

    def permit_join(self, r: c.ZDO.MgmtPermitJoinReq.Req) -> list[t.CommandBase]:
        self.permit_until = time.monotonic() + r.Duration
        emit("permit_join", duration=int(r.Duration))
        self.later(
            0.02, c.ZDO.MgmtPermitJoinRsp.Callback(Src=COORDINATOR_NWK, Status=zdo_t.Status.SUCCESS)
        )
        return [c.ZDO.MgmtPermitJoinReq.Rsp(Status=t.Status.SUCCESS)]

    def route_check(self, r: c.ZDO.ExtRouteChk.Req) -> list[t.CommandBase]:
        known = any(d.joined and d.nwk == r.Dst for d in self.devices.values())
        status = c.zdo.RoutingStatus.SUCCESS if known else c.zdo.RoutingStatus.FAIL
        return [c.ZDO.ExtRouteChk.Rsp(Status=status)]

    def coordinator_zdo(self, cluster_id: int, data: bytes) -> list[tuple[int, bytes]]:
        """ZDO requests to the stick itself, answered from its registered endpoints."""
        nib = self.nv.nib()
        assert nib is not None
        me = Node(
            name="coordinator", ieee=nib.nwkCoordExtAddress, nwk=COORDINATOR_NWK, endpoints={}
        )
        me.logical_type = zdo_t.LogicalType.Coordinator
        from zigbee_devices import Endpoint

        for ep, reg in self.endpoints.items():
            me.endpoints[ep] = Endpoint(
                id=ep,
                device_type=reg.DeviceId,
                clusters={int(cl): {} for cl in reg.InputClusters},
                out_clusters=[int(cl) for cl in reg.OutputClusters],
            )
        return me.zdo(cluster_id, data)

    # ---- AF: frames to devices ----

    def data_request(self, r: c.AF.DataRequestExt.Req) -> list[t.CommandBase]:
        dst = r.DstAddrModeAddress
        ok = [c.AF.DataRequestExt.Rsp(Status=t.Status.SUCCESS)]
        if dst.mode != t.AddrMode.NWK:
            return ok  # broadcasts and groups: nothing answers in this emulation
        if r.DstEndpoint == 0:
            if dst.address == COORDINATOR_NWK:
                answers = self.coordinator_zdo(r.ClusterId, bytes(r.Data))
                self.zdo_answers(COORDINATOR_NWK, answers)
                return ok
            node = self.node_at(dst.address)
            if node is None:
                return ok
            answers = node.zdo(r.ClusterId, bytes(r.Data))
            if r.ClusterId == zdo_t.ZDOCmd.Mgmt_Leave_req:
                self.loop.call_later(0.1, self.leave, node, True)
            self.zdo_answers(node.nwk, answers)
            return ok
        node = self.node_at(dst.address)
        if node is None:
            self.later(
                0.02,
                c.AF.DataConfirm.Callback(
                    Status=t.Status.MAC_NO_ACK, Endpoint=r.SrcEndpoint, TSN=r.TSN
                ),
            )
            return ok
        self.later(
            0.01,
            c.AF.DataConfirm.Callback(Status=t.Status.SUCCESS, Endpoint=r.SrcEndpoint, TSN=r.TSN),
        )
        outcome = node.zcl(r.DstEndpoint, r.ClusterId, bytes(r.Data))
        if outcome.command is not None:
            emit("zcl_command", **outcome.command)
        if outcome.read is not None:
            emit("zcl_read", **outcome.read)
        delay = 0.03
        for cluster_id, data in outcome.replies:
            self.loop.call_later(
                delay, self.incoming, node, r.DstEndpoint, cluster_id, data, r.SrcEndpoint
            )
            delay += 0.01
        return ok

    def node_at(self, nwk: int) -> Node | None:
        """The joined, powered device at `nwk`: none is MAC_NO_ACK on the air."""
        return next(
            (d for d in self.devices.values() if d.joined and d.powered and d.nwk == nwk), None
        )

    def zdo_answers(self, src: int, answers: list[tuple[int, bytes]]) -> None:
        delay = 0.02
        for cluster_id, data in answers:
            self.later(
                delay,
                c.ZDO.MsgCbIncoming.Callback(
                    Src=src,
                    IsBroadcast=t.Bool.false,
                    ClusterId=cluster_id,
                    SecurityUse=0,
                    TSN=data[0],
                    MacDst=COORDINATOR_NWK,
                    Data=t.Bytes(data[1:]),
                ),
            )
            delay += 0.01

    def incoming(
        self, node: Node, src_ep: int, cluster_id: int, data: bytes, dst_ep: int = 1
    ) -> None:
        """A ZCL frame from a device (AF.IncomingMsg), as Z-Stack passes it on.
        Nothing from a device that left or was powered off meanwhile: a reply
        still scheduled then is never sent, as a device off the network sends
        none."""
        if not node.joined or not node.powered:
            return
        self.send(
            c.AF.IncomingMsg.Callback(
                GroupId=0x0000,
                ClusterId=cluster_id,
                SrcAddr=node.nwk,
                SrcEndpoint=src_ep,
                DstEndpoint=dst_ep,
                WasBroadcast=t.Bool.false,
                LQI=200,
                SecurityUse=t.Bool.false,
                TimeStamp=int(time.monotonic() * 1000) & 0xFFFFFFFF,
                TSN=0,
                Data=t.ShortBytes(data),
                MacSrcAddr=node.nwk,
                MsgResultRadius=29,
            )
        )

    # ---- devices joining and leaving ----

    def join(self, node: Node) -> None:
        """The device joins through the coordinator: trust-centre indication,
        then its announcement."""
        node.joined = True
        self.send(
            c.ZDO.TCDevInd.Callback(SrcNwk=node.nwk, SrcIEEE=node.ieee, ParentNwk=COORDINATOR_NWK)
        )
        self.later(
            0.05,
            c.ZDO.MsgCbIncoming.Callback(
                Src=node.nwk,
                IsBroadcast=t.Bool.true,
                ClusterId=zdo_t.ZDOCmd.Device_annce,
                SecurityUse=0,
                TSN=node.next_tsn(),
                MacDst=0xFFFD,
                Data=t.Bytes(node.announce()),
            ),
        )
        emit("joined", device=node.name, ieee=str(node.ieee), nwk=node.nwk)

    def leave(self, node: Node, requested: bool) -> None:
        if not node.joined:
            return
        node.joined = False
        self.send(
            c.ZDO.LeaveInd.Callback(
                NWK=node.nwk,
                IEEE=node.ieee,
                Request=t.Bool(requested),
                Remove=t.Bool.false,
                Rejoin=t.Bool.false,
            )
        )
        emit("left", device=node.name, ieee=str(node.ieee))

    # ---- control ops ----

    def device(self, op: Op) -> Node:
        name = op.get("device")
        if not isinstance(name, str) or name not in self.devices:
            raise OpError(f"device must be one of {sorted(self.devices)}")
        return self.devices[name]

    async def run_op(self, op: Op) -> OpResult:
        kind = op.get("op")
        if kind == "quit":
            return {}
        if kind == "status":
            nib = self.nv.nib()
            return {
                "running": self.running,
                "formed": self.nv.is_formed(),
                "pan_id": None if nib is None else int(nib.nwkPanId),
                "channel": None if nib is None else int(nib.nwkLogicalChannel),
                "permit_join": max(0, round(self.permit_until - time.monotonic())),
                "joined": sorted(d.name for d in self.devices.values() if d.joined),
                "endpoints": sorted(self.endpoints),
            }
        if kind == "join":
            node = self.device(op)
            if not self.running:
                raise OpError("the network is not running")
            if time.monotonic() >= self.permit_until and not op.get("force"):
                raise OpError("the coordinator does not permit joining")
            self.join(node)
            return {"ieee": str(node.ieee), "nwk": node.nwk}
        if kind == "clone":
            return self.clone(op)
        if kind == "reopen":
            try:
                self.power_cycle()
            except OSError as err:
                raise OpError(f"cannot open {self.port}: {err}") from err
            return {}
        if kind == "leave":
            node = self.device(op)
            self.leave(node, False)
            return {}
        if kind == "set":
            return self.set_attribute(op)
        if kind == "power":
            node = self.device(op)
            on = op.get("on")
            if not isinstance(on, bool):
                raise OpError("on must be true or false")
            node.powered = on
            return {}
        if kind == "get":
            node = self.device(op)
            ep = node.endpoints[1]
            cluster = op.get("cluster")
            if not isinstance(cluster, int) or cluster not in ep.clusters:
                raise OpError("cluster must be one of the device's clusters")
            return {"attributes": {str(k): jsonable(v) for k, v in ep.clusters[cluster].items()}}
        raise OpError(f"unknown op {kind!r}")

    def clone(self, op: Op) -> OpResult:
        """Adds `count` copies of a device (for benchmarks): named
        `<device>-<n>`, with their own IEEE (`00:15:8d:00:0b:<n>:02`) and NWK
        (0x9000 + n) addresses."""
        base, count = self.device(op), op.get("count")
        if not isinstance(count, int) or not 1 <= count <= 4096:
            raise OpError("count must be 1..4096")
        names = []
        for n in range(1, count + 1):
            node = copy.deepcopy(base)
            node.name = f"{base.name}-{n}"
            node.ieee = zt.EUI64.convert(f"00:15:8d:00:0b:{n >> 8:02x}:{n & 0xFF:02x}:02")
            node.nwk = 0x9000 + n
            node.joined = False
            self.devices[node.name] = node
            names.append(node.name)
        return {"devices": names, "ieee": [str(self.devices[n].ieee) for n in names]}

    def set_attribute(self, op: Op) -> OpResult:
        """Changes an attribute on the device and reports it (IAS zone status as
        a Zone Status Change Notification)."""
        node = self.device(op)
        cluster, attribute, value = op.get("cluster"), op.get("attribute"), op.get("value")
        ep = node.endpoints[1]
        if not isinstance(cluster, int) or cluster not in ep.clusters:
            raise OpError("cluster must be one of the device's clusters")
        if not isinstance(attribute, int):
            raise OpError("attribute must be an attribute id")
        ep.clusters[cluster][attribute] = value
        if not node.joined or not node.powered:
            return {"delivered": False}
        from zigpy.zcl import Cluster

        cls = Cluster._registry[cluster]
        if cluster == IAS_ZONE and attribute == 0x0002 and isinstance(value, int):
            data = node.zone_notification(value)
        else:
            data = node.report(cluster, ep.clusters[cluster], cls, [attribute])
        self.incoming(node, 1, cluster, data)
        return {"delivered": True}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", required=True, help="the pty end the emulated stick serves")
    parser.add_argument("--open-timeout", type=float, default=5.0)
    args = parser.parse_args()
    coordinator = Coordinator(args.port)
    deadline = time.monotonic() + args.open_timeout
    while True:
        try:
            coordinator.open()
            break
        except OSError as err:
            if time.monotonic() > deadline:
                emit("error", op=None, message=f"cannot open {args.port}: {err}")
                return 1
            await asyncio.sleep(0.05)
    emit("listening", port=args.port)
    await control.serve(coordinator.run_op)
    coordinator.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
