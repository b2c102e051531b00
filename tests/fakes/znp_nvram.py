"""The emulated Z-Stack 3.30 (CC2652) non-volatile memory, for znp_coordinator.py.

One store of items keyed by (system id, item id, sub id). The legacy OSAL items
that `SYS.OSALNV*` address are (ZSTACK, LEGACY, nv id), as on a Z-Stack 3.30
build, so both command families see the same bytes. Item layouts are
zigpy-znp's own (`zigpy_znp.types`, `zigpy_znp.types.nvids`); structs are
serialised aligned, as a 32-bit ARM build stores them.

What the firmware itself keeps in NV and updates is written here too: the
defaults a freshly flashed stick holds (`factory_items`), what a network
formation stores (`formed_items`) and what a reset with the `STARTUP_OPTION`
clear bits erases (`clear_network`).
"""

from __future__ import annotations

import os

import zigpy_znp.const as znp_const
import zigpy_znp.types as t
from zigpy_znp.types.nvids import ExNvIds, NvSysIds, OsalNvIds

# (system id, item id, sub id)
Key = tuple[int, int, int]

# Structs are stored the way a 32-bit ARM build lays them out.
ALIGN = True
# The stick's own IEEE address (a Texas Instruments OUI).
COORDINATOR_IEEE = t.EUI64.convert("00:12:4b:00:1c:dd:28:4a")


def osal_key(nv_id: int) -> Key:
    """The store key of legacy OSAL item `nv_id`."""
    return (NvSysIds.ZSTACK, ExNvIds.LEGACY, nv_id)


class NvStore:
    """Items as bytes; what `SYS.NV*`/`SYS.OSALNV*` read, write, create and delete."""

    def __init__(self) -> None:
        self.items: dict[Key, bytearray] = {}
        for nv_id, value in factory_items().items():
            self.items[osal_key(nv_id)] = bytearray(value)
        for key, value in factory_tables().items():
            self.items[key] = bytearray(value)

    def length(self, key: Key) -> int:
        item = self.items.get(key)
        return 0 if item is None else len(item)

    def create(self, key: Key, length: int, first: bytes = b"") -> bool:
        """Creates a zero-filled item (with `first` at its start); False if it exists."""
        if key in self.items:
            return False
        item = bytearray(length)
        item[: len(first)] = first[:length]
        self.items[key] = item
        return True

    def delete(self, key: Key) -> bool:
        return self.items.pop(key, None) is not None

    def read(self, key: Key, offset: int, size: int) -> bytes | None:
        """Up to `size` bytes from `offset`; None when the item or offset does not exist."""
        item = self.items.get(key)
        if item is None or offset > len(item):
            return None
        return bytes(item[offset : offset + size])

    def write(self, key: Key, offset: int, data: bytes) -> bool:
        item = self.items.get(key)
        if item is None or offset + len(data) > len(item):
            return False
        item[offset : offset + len(data)] = data
        return True

    def osal(self, nv_id: int) -> bytes | None:
        item = self.items.get(osal_key(nv_id))
        return None if item is None else bytes(item)

    def put_osal(self, nv_id: int, value: bytes) -> None:
        self.items[osal_key(nv_id)] = bytearray(value)

    def put(self, key: Key, value: bytes) -> None:
        self.items[key] = bytearray(value)

    def nib(self) -> t.NIB | None:
        """The network information base, when the stick holds one."""
        raw = self.osal(OsalNvIds.NIB)
        if raw is None:
            return None
        nib, _ = t.NIB.deserialize(raw, align=ALIGN)
        return nib

    def is_formed(self) -> bool:
        return self.osal(OsalNvIds.BDBNODEISONANETWORK) == b"\x01" and self.nib() is not None

    def clear_network(self) -> None:
        """What a reset does when `STARTUP_OPTION` asks to clear state and config:
        the network is forgotten, the factory settings come back."""
        for key in [k for k in self.items if k[1] != ExNvIds.LEGACY]:
            del self.items[key]
        for nv_id in (
            OsalNvIds.NIB,
            OsalNvIds.BDBNODEISONANETWORK,
            OsalNvIds.NWK_ACTIVE_KEY_INFO,
            OsalNvIds.NWK_ALTERN_KEY_INFO,
            OsalNvIds.EXTENDED_PAN_ID,
        ):
            self.items.pop(osal_key(nv_id), None)
        for nv_id, value in factory_items().items():
            self.put_osal(nv_id, value)
        for key, value in factory_tables().items():
            self.put(key, value)

    def restore_missing(self) -> None:
        """What the firmware does at every start: items it needs that were
        deleted come back with their defaults (`EXTADDR` as the hardware address)."""
        for nv_id, value in factory_items().items():
            self.items.setdefault(osal_key(nv_id), bytearray(value))

    def form(self, channels: t.Channels) -> t.NIB:
        """Forms a network from the configured items (`PANID`, `APS_USE_EXT_PANID`,
        `PRECFGKEY`) on the first channel of `channels`, as BDB formation does,
        and stores what the firmware stores. Returns the new NIB."""
        pan_raw = self.osal(OsalNvIds.PANID) or b"\xff\xff"
        pan_id = int.from_bytes(pan_raw[:2], "little")
        if pan_id in (0xFFFF, 0xFFFE, 0x0000):
            pan_id = int.from_bytes(os.urandom(2), "little") & 0x3FFF | 0x0100
        ext_raw = self.osal(OsalNvIds.APS_USE_EXT_PANID) or os.urandom(8)
        ext_pan_id, _ = t.EUI64.deserialize(ext_raw)
        key = self.osal(OsalNvIds.PRECFGKEY) or os.urandom(16)
        channel = next((c for c in range(11, 27) if channels & (1 << c)), 11)
        ieee_raw = self.osal(OsalNvIds.EXTADDR) or COORDINATOR_IEEE.serialize()
        ieee, _ = t.EUI64.deserialize(ieee_raw)
        nib = default_nib().replace(
            nwkDevAddress=0x0000,
            nwkLogicalChannel=channel,
            nwkCoordAddress=0x0000,
            nwkCoordExtAddress=ieee,
            nwkPanId=pan_id,
            nwkState=t.NwkState.NWK_ROUTER,
            channelList=t.Channels.from_channel_list([channel]),
            extendedPANID=ext_pan_id,
            nwkKeyLoaded=True,
        )
        for nv_id, value in formed_items(nib, t.KeyData(key[:16])).items():
            self.put_osal(nv_id, value)
        # One security material entry for this network, frame counter 0.
        material = t.NwkSecMaterialDesc(FrameCounter=0, ExtendedPanID=ext_pan_id)
        empty = t.NwkSecMaterialDesc(
            FrameCounter=0, ExtendedPanID=t.EUI64.convert("00:00:00:00:00:00:00:00")
        )
        for sub_id, entry in enumerate([material, empty, empty, empty]):
            key_ = (NvSysIds.ZSTACK, ExNvIds.NWK_SEC_MATERIAL_TABLE, sub_id)
            self.put(key_, entry.serialize(align=ALIGN))
        return nib


def default_nib() -> t.NIB:
    """The NIB of a stick that has not formed a network yet."""
    return t.NIB(
        SequenceNum=0,
        PassiveAckTimeout=5,
        MaxBroadcastRetries=2,
        MaxChildren=0,
        MaxDepth=20,
        MaxRouters=0,
        dummyNeighborTable=0,
        BroadcastDeliveryTime=30,
        ReportConstantCost=0,
        RouteDiscRetries=0,
        dummyRoutingTable=0,
        SecureAllFrames=1,
        SecurityLevel=5,
        SymLink=1,
        CapabilityFlags=143,
        TransactionPersistenceTime=7,
        nwkProtocolVersion=2,
        RouteDiscoveryTime=13,
        RouteExpiryTime=30,
        nwkDevAddress=0xFFFE,
        nwkLogicalChannel=0,
        nwkCoordAddress=0xFFFE,
        nwkCoordExtAddress=t.EUI64.convert("00:00:00:00:00:00:00:00"),
        nwkPanId=0xFFFF,
        nwkState=t.NwkState.NWK_INIT,
        channelList=t.Channels.NO_CHANNELS,
        beaconOrder=15,
        superFrameOrder=15,
        scanDuration=0,
        battLifeExt=0,
        allocatedRouterAddresses=0,
        allocatedEndDeviceAddresses=0,
        nodeDepth=0,
        extendedPANID=t.EUI64.convert("00:00:00:00:00:00:00:00"),
        nwkKeyLoaded=False,
        spare1=t.NwkKeyDesc(KeySeqNum=0, Key=t.KeyData(bytes(16))),
        spare2=t.NwkKeyDesc(KeySeqNum=0, Key=t.KeyData(bytes(16))),
        spare3=0,
        spare4=0,
        nwkLinkStatusPeriod=15,
        nwkRouterAgeLimit=3,
        nwkUseMultiCast=False,
        nwkIsConcentrator=True,
        nwkConcentratorDiscoveryTime=120,
        nwkConcentratorRadius=10,
        nwkAllFresh=1,
        nwkManagerAddr=0x0000,
        nwkTotalTransmissions=0,
        nwkUpdateId=0,
    )


def factory_items() -> dict[int, bytes]:
    """The OSAL items a freshly flashed Z-Stack 3.30 coordinator holds: every
    setting zigpy-znp reads before it writes (a missing one reads as an error)."""
    one = {
        OsalNvIds.LOGICAL_TYPE: t.DeviceLogicalType.Coordinator,
        OsalNvIds.CONCENTRATOR_ENABLE: 0,
        OsalNvIds.CONCENTRATOR_DISCOVERY: 120,
        OsalNvIds.CONCENTRATOR_RC: 0,
        OsalNvIds.SRC_RTG_EXPIRY_TIME: 10,
        OsalNvIds.NWK_CHILD_AGE_ENABLE: 1,
        OsalNvIds.BCAST_DELIVERY_TIME: 30,
        OsalNvIds.ZDO_DIRECT_CB: 0,
        OsalNvIds.STARTUP_OPTION: 0,
        OsalNvIds.PRECFGKEYS_ENABLE: 0,
    }
    items = {nv_id: bytes([value]) for nv_id, value in one.items()}
    items[OsalNvIds.EXTADDR] = COORDINATOR_IEEE.serialize()
    items[OsalNvIds.PANID] = t.uint16_t(0xFFFF).serialize()
    items[OsalNvIds.CHANLIST] = t.Channels.ALL_CHANNELS.serialize()
    return items


# Entries in each table the firmware keeps at a fixed capacity.
TABLE_SIZE = 16


def factory_tables() -> dict[Key, bytes]:
    """The fixed-capacity tables a Z-Stack 3.30 build keeps in NV, empty: the
    address manager, the hashed and unhashed link keys, the network security
    material."""
    zero_ieee = t.EUI64.convert("00:00:00:00:00:00:00:00")
    fills: dict[int, bytes] = {
        ExNvIds.ADDRMGR: znp_const.EMPTY_ADDR_MGR_ENTRY_ZSTACK3.serialize(align=ALIGN),
        ExNvIds.TCLK_TABLE: t.TCLKDevEntry(
            txFrmCntr=0,
            rxFrmCntr=0,
            extAddr=zero_ieee,
            keyAttributes=t.KeyAttributes.DEFAULT_KEY,
            keyType=t.KeyType.NONE,
            SeedShift_IcIndex=0,
        ).serialize(align=ALIGN),
        ExNvIds.APS_KEY_DATA_TABLE: t.APSKeyDataTableEntry(
            Key=t.KeyData(bytes(16)), TxFrameCounter=0, RxFrameCounter=0
        ).serialize(align=ALIGN),
        ExNvIds.NWK_SEC_MATERIAL_TABLE: t.NwkSecMaterialDesc(
            FrameCounter=0, ExtendedPanID=zero_ieee
        ).serialize(align=ALIGN),
    }
    tables: dict[Key, bytes] = {}
    for item_id, fill in fills.items():
        for sub_id in range(TABLE_SIZE if item_id != ExNvIds.NWK_SEC_MATERIAL_TABLE else 4):
            tables[(NvSysIds.ZSTACK, item_id, sub_id)] = fill
    # The link key table: a 16-bit count, then its entries (6 bytes each, aligned).
    tables[osal_key(OsalNvIds.APS_LINK_KEY_TABLE)] = bytes(2 + 6 * TABLE_SIZE)
    return tables


def formed_items(nib: t.NIB, key: t.KeyData) -> dict[int, bytes]:
    """What formation stores besides the tables: the NIB, the active key, the
    "on a network" flag."""
    desc = t.NwkKeyDesc(KeySeqNum=0, Key=key)
    return {
        OsalNvIds.NIB: nib.serialize(align=ALIGN),
        OsalNvIds.NWK_ACTIVE_KEY_INFO: desc.serialize(align=ALIGN),
        OsalNvIds.NWK_ALTERN_KEY_INFO: desc.serialize(align=ALIGN),
        OsalNvIds.EXTENDED_PAN_ID: nib.extendedPANID.serialize(),
        OsalNvIds.BDBNODEISONANETWORK: b"\x01",
        OsalNvIds.TCLK_SEED: os.urandom(16),
    }
