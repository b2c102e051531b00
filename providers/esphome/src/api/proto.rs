//! ESPHome native API messages, hand-written with `prost` derives.
//!
//! Source: the message definitions published as `api.proto` by ESPHome and
//! aioesphomeapi (field numbers, types and the `id` option of each message).
//! The numbers here were checked against aioesphomeapi 46.23.0's generated
//! `api_pb2`: `tests/proto_vectors.rs` decodes messages it serialized
//! (`tests/vectors/`, written by `tests/vectors/generate.py`).
//!
//! Only the messages this client uses are defined; deprecated fields and
//! nested messages it does not use are left out (protobuf decoding skips
//! unknown fields), and each struct's doc lists what it leaves out. Enum-typed
//! fields are `i32` as on the wire: prost's generated getters (e.g.
//! [`LightStateResponse::color_mode`]) give the enum, falling back to its
//! zero variant for values this build does not know.
//!
//! On the wire a message is its id ([`ApiMessage::TYPE`]) and its protobuf
//! payload; framing is [`super`]'s business. [`decode`] turns a device
//! message into [`Incoming`]; [`Outgoing::encode`] prepares a client message.

use prost::Message as _;

/// Implemented by every message: its id on the wire.
pub trait ApiMessage: prost::Message + Default {
    /// The message id (`option (id)` in `api.proto`).
    const TYPE: u16;
    /// The message name as in `api.proto`, for logs.
    const NAME: &'static str;
}

/// A message ready to send: id + encoded protobuf payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The message id ([`ApiMessage::TYPE`]).
    pub msg_type: u16,
    /// The protobuf encoding of the message.
    pub payload: Vec<u8>,
}

impl Outgoing {
    /// Encodes `m` with its id.
    pub fn encode<M: ApiMessage>(m: &M) -> Outgoing {
        Outgoing {
            msg_type: M::TYPE,
            payload: m.encode_to_vec(),
        }
    }
}

/// Every device→client message we handle, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// Id 2: answer to our [`HelloRequest`].
    HelloResponse(HelloResponse),
    /// Id 5: the device closes the connection; answer [`DisconnectResponse`].
    DisconnectRequest(DisconnectRequest),
    /// Id 6: the device acknowledges our [`DisconnectRequest`].
    DisconnectResponse,
    /// Id 7: the device's keep-alive; answer [`PingResponse`].
    PingRequest,
    /// Id 8: answer to our [`PingRequest`].
    PingResponse,
    /// Id 10: answer to [`DeviceInfoRequest`].
    DeviceInfoResponse(DeviceInfoResponse),
    /// Id 19: the entity list is complete.
    ListEntitiesDone,
    /// Id 36: the device asks for the time; answer [`GetTimeResponse`].
    GetTimeRequest,
    /// Id 12.
    ListBinarySensor(ListEntitiesBinarySensorResponse),
    /// Id 16.
    ListSensor(ListEntitiesSensorResponse),
    /// Id 18.
    ListTextSensor(ListEntitiesTextSensorResponse),
    /// Id 17.
    ListSwitch(ListEntitiesSwitchResponse),
    /// Id 15.
    ListLight(ListEntitiesLightResponse),
    /// Id 13.
    ListCover(ListEntitiesCoverResponse),
    /// Id 14.
    ListFan(ListEntitiesFanResponse),
    /// Id 46.
    ListClimate(ListEntitiesClimateResponse),
    /// Id 49.
    ListNumber(ListEntitiesNumberResponse),
    /// Id 52.
    ListSelect(ListEntitiesSelectResponse),
    /// Id 61.
    ListButton(ListEntitiesButtonResponse),
    /// Id 58.
    ListLock(ListEntitiesLockResponse),
    /// Id 21.
    BinarySensorState(BinarySensorStateResponse),
    /// Id 25.
    SensorState(SensorStateResponse),
    /// Id 27.
    TextSensorState(TextSensorStateResponse),
    /// Id 26.
    SwitchState(SwitchStateResponse),
    /// Id 24.
    LightState(LightStateResponse),
    /// Id 22.
    CoverState(CoverStateResponse),
    /// Id 23.
    FanState(FanStateResponse),
    /// Id 47.
    ClimateState(ClimateStateResponse),
    /// Id 50.
    NumberState(NumberStateResponse),
    /// Id 53.
    SelectState(SelectStateResponse),
    /// Id 59.
    LockState(LockStateResponse),
    /// A message id this client does not handle (logged by the caller); carries the id.
    Other(u16),
}

/// Decodes a device message.
///
/// Ids this client does not handle give [`Incoming::Other`] without looking at
/// the payload. Messages without fields are still checked to be valid protobuf.
///
/// # Errors
/// The payload is not valid protobuf for that id ([`prost::DecodeError`]).
pub fn decode(msg_type: u16, payload: &[u8]) -> Result<Incoming, prost::DecodeError> {
    use Incoming as I;
    Ok(match msg_type {
        HelloResponse::TYPE => I::HelloResponse(HelloResponse::decode(payload)?),
        DisconnectRequest::TYPE => I::DisconnectRequest(DisconnectRequest::decode(payload)?),
        DisconnectResponse::TYPE => {
            DisconnectResponse::decode(payload)?;
            I::DisconnectResponse
        }
        PingRequest::TYPE => {
            PingRequest::decode(payload)?;
            I::PingRequest
        }
        PingResponse::TYPE => {
            PingResponse::decode(payload)?;
            I::PingResponse
        }
        DeviceInfoResponse::TYPE => I::DeviceInfoResponse(DeviceInfoResponse::decode(payload)?),
        ListEntitiesDoneResponse::TYPE => {
            ListEntitiesDoneResponse::decode(payload)?;
            I::ListEntitiesDone
        }
        GetTimeRequest::TYPE => {
            GetTimeRequest::decode(payload)?;
            I::GetTimeRequest
        }
        ListEntitiesBinarySensorResponse::TYPE => {
            I::ListBinarySensor(ListEntitiesBinarySensorResponse::decode(payload)?)
        }
        ListEntitiesSensorResponse::TYPE => {
            I::ListSensor(ListEntitiesSensorResponse::decode(payload)?)
        }
        ListEntitiesTextSensorResponse::TYPE => {
            I::ListTextSensor(ListEntitiesTextSensorResponse::decode(payload)?)
        }
        ListEntitiesSwitchResponse::TYPE => {
            I::ListSwitch(ListEntitiesSwitchResponse::decode(payload)?)
        }
        ListEntitiesLightResponse::TYPE => {
            I::ListLight(ListEntitiesLightResponse::decode(payload)?)
        }
        ListEntitiesCoverResponse::TYPE => {
            I::ListCover(ListEntitiesCoverResponse::decode(payload)?)
        }
        ListEntitiesFanResponse::TYPE => I::ListFan(ListEntitiesFanResponse::decode(payload)?),
        ListEntitiesClimateResponse::TYPE => {
            I::ListClimate(ListEntitiesClimateResponse::decode(payload)?)
        }
        ListEntitiesNumberResponse::TYPE => {
            I::ListNumber(ListEntitiesNumberResponse::decode(payload)?)
        }
        ListEntitiesSelectResponse::TYPE => {
            I::ListSelect(ListEntitiesSelectResponse::decode(payload)?)
        }
        ListEntitiesButtonResponse::TYPE => {
            I::ListButton(ListEntitiesButtonResponse::decode(payload)?)
        }
        ListEntitiesLockResponse::TYPE => I::ListLock(ListEntitiesLockResponse::decode(payload)?),
        BinarySensorStateResponse::TYPE => {
            I::BinarySensorState(BinarySensorStateResponse::decode(payload)?)
        }
        SensorStateResponse::TYPE => I::SensorState(SensorStateResponse::decode(payload)?),
        TextSensorStateResponse::TYPE => {
            I::TextSensorState(TextSensorStateResponse::decode(payload)?)
        }
        SwitchStateResponse::TYPE => I::SwitchState(SwitchStateResponse::decode(payload)?),
        LightStateResponse::TYPE => I::LightState(LightStateResponse::decode(payload)?),
        CoverStateResponse::TYPE => I::CoverState(CoverStateResponse::decode(payload)?),
        FanStateResponse::TYPE => I::FanState(FanStateResponse::decode(payload)?),
        ClimateStateResponse::TYPE => I::ClimateState(ClimateStateResponse::decode(payload)?),
        NumberStateResponse::TYPE => I::NumberState(NumberStateResponse::decode(payload)?),
        SelectStateResponse::TYPE => I::SelectState(SelectStateResponse::decode(payload)?),
        LockStateResponse::TYPE => I::LockState(LockStateResponse::decode(payload)?),
        other => I::Other(other),
    })
}

/// For `ListEntities*Response` ids of entity types this provider does not map:
/// the ESPHome domain name, e.g. `Some("camera")` for 43. `None` for every
/// other id (including the mapped entity types).
pub fn unsupported_entity_type(msg_type: u16) -> Option<&'static str> {
    Some(match msg_type {
        41 => "services",
        43 => "camera",
        55 => "siren",
        63 => "media_player",
        94 => "alarm_control_panel",
        97 => "text",
        100 => "date",
        103 => "time",
        107 => "event",
        109 => "valve",
        112 => "datetime",
        116 => "update",
        132 => "water_heater",
        135 => "infrared",
        148 => "radio_frequency",
        _ => return None,
    })
}

/// The `api.proto` name of a message id, when known (for logs), e.g.
/// 43 → `"ListEntitiesCameraResponse"`. Covers every id aioesphomeapi 46.23.0
/// defines (1-162), including the many this client never handles.
pub fn message_name(msg_type: u16) -> Option<&'static str> {
    Some(match msg_type {
        1 => "HelloRequest",
        2 => "HelloResponse",
        3 => "AuthenticationRequest",
        4 => "AuthenticationResponse",
        5 => "DisconnectRequest",
        6 => "DisconnectResponse",
        7 => "PingRequest",
        8 => "PingResponse",
        9 => "DeviceInfoRequest",
        10 => "DeviceInfoResponse",
        11 => "ListEntitiesRequest",
        12 => "ListEntitiesBinarySensorResponse",
        13 => "ListEntitiesCoverResponse",
        14 => "ListEntitiesFanResponse",
        15 => "ListEntitiesLightResponse",
        16 => "ListEntitiesSensorResponse",
        17 => "ListEntitiesSwitchResponse",
        18 => "ListEntitiesTextSensorResponse",
        19 => "ListEntitiesDoneResponse",
        20 => "SubscribeStatesRequest",
        21 => "BinarySensorStateResponse",
        22 => "CoverStateResponse",
        23 => "FanStateResponse",
        24 => "LightStateResponse",
        25 => "SensorStateResponse",
        26 => "SwitchStateResponse",
        27 => "TextSensorStateResponse",
        28 => "SubscribeLogsRequest",
        29 => "SubscribeLogsResponse",
        30 => "CoverCommandRequest",
        31 => "FanCommandRequest",
        32 => "LightCommandRequest",
        33 => "SwitchCommandRequest",
        34 => "SubscribeHomeassistantServicesRequest",
        35 => "HomeassistantActionRequest",
        36 => "GetTimeRequest",
        37 => "GetTimeResponse",
        38 => "SubscribeHomeAssistantStatesRequest",
        39 => "SubscribeHomeAssistantStateResponse",
        40 => "HomeAssistantStateResponse",
        41 => "ListEntitiesServicesResponse",
        42 => "ExecuteServiceRequest",
        43 => "ListEntitiesCameraResponse",
        44 => "CameraImageResponse",
        45 => "CameraImageRequest",
        46 => "ListEntitiesClimateResponse",
        47 => "ClimateStateResponse",
        48 => "ClimateCommandRequest",
        49 => "ListEntitiesNumberResponse",
        50 => "NumberStateResponse",
        51 => "NumberCommandRequest",
        52 => "ListEntitiesSelectResponse",
        53 => "SelectStateResponse",
        54 => "SelectCommandRequest",
        55 => "ListEntitiesSirenResponse",
        56 => "SirenStateResponse",
        57 => "SirenCommandRequest",
        58 => "ListEntitiesLockResponse",
        59 => "LockStateResponse",
        60 => "LockCommandRequest",
        61 => "ListEntitiesButtonResponse",
        62 => "ButtonCommandRequest",
        63 => "ListEntitiesMediaPlayerResponse",
        64 => "MediaPlayerStateResponse",
        65 => "MediaPlayerCommandRequest",
        66 => "SubscribeBluetoothLEAdvertisementsRequest",
        67 => "BluetoothLEAdvertisementResponse",
        68 => "BluetoothDeviceRequest",
        69 => "BluetoothDeviceConnectionResponse",
        70 => "BluetoothGATTGetServicesRequest",
        71 => "BluetoothGATTGetServicesResponse",
        72 => "BluetoothGATTGetServicesDoneResponse",
        73 => "BluetoothGATTReadRequest",
        74 => "BluetoothGATTReadResponse",
        75 => "BluetoothGATTWriteRequest",
        76 => "BluetoothGATTReadDescriptorRequest",
        77 => "BluetoothGATTWriteDescriptorRequest",
        78 => "BluetoothGATTNotifyRequest",
        79 => "BluetoothGATTNotifyDataResponse",
        80 => "SubscribeBluetoothConnectionsFreeRequest",
        81 => "BluetoothConnectionsFreeResponse",
        82 => "BluetoothGATTErrorResponse",
        83 => "BluetoothGATTWriteResponse",
        84 => "BluetoothGATTNotifyResponse",
        85 => "BluetoothDevicePairingResponse",
        86 => "BluetoothDeviceUnpairingResponse",
        87 => "UnsubscribeBluetoothLEAdvertisementsRequest",
        88 => "BluetoothDeviceClearCacheResponse",
        89 => "SubscribeVoiceAssistantRequest",
        90 => "VoiceAssistantRequest",
        91 => "VoiceAssistantResponse",
        92 => "VoiceAssistantEventResponse",
        93 => "BluetoothLERawAdvertisementsResponse",
        94 => "ListEntitiesAlarmControlPanelResponse",
        95 => "AlarmControlPanelStateResponse",
        96 => "AlarmControlPanelCommandRequest",
        97 => "ListEntitiesTextResponse",
        98 => "TextStateResponse",
        99 => "TextCommandRequest",
        100 => "ListEntitiesDateResponse",
        101 => "DateStateResponse",
        102 => "DateCommandRequest",
        103 => "ListEntitiesTimeResponse",
        104 => "TimeStateResponse",
        105 => "TimeCommandRequest",
        106 => "VoiceAssistantAudio",
        107 => "ListEntitiesEventResponse",
        108 => "EventResponse",
        109 => "ListEntitiesValveResponse",
        110 => "ValveStateResponse",
        111 => "ValveCommandRequest",
        112 => "ListEntitiesDateTimeResponse",
        113 => "DateTimeStateResponse",
        114 => "DateTimeCommandRequest",
        115 => "VoiceAssistantTimerEventResponse",
        116 => "ListEntitiesUpdateResponse",
        117 => "UpdateStateResponse",
        118 => "UpdateCommandRequest",
        119 => "VoiceAssistantAnnounceRequest",
        120 => "VoiceAssistantAnnounceFinished",
        121 => "VoiceAssistantConfigurationRequest",
        122 => "VoiceAssistantConfigurationResponse",
        123 => "VoiceAssistantSetConfiguration",
        124 => "NoiseEncryptionSetKeyRequest",
        125 => "NoiseEncryptionSetKeyResponse",
        126 => "BluetoothScannerStateResponse",
        127 => "BluetoothScannerSetModeRequest",
        128 => "ZWaveProxyFrame",
        129 => "ZWaveProxyRequest",
        130 => "HomeassistantActionResponse",
        131 => "ExecuteServiceResponse",
        132 => "ListEntitiesWaterHeaterResponse",
        133 => "WaterHeaterStateResponse",
        134 => "WaterHeaterCommandRequest",
        135 => "ListEntitiesInfraredResponse",
        136 => "InfraredRFTransmitRawTimingsRequest",
        137 => "InfraredRFReceiveEvent",
        138 => "SerialProxyConfigureRequest",
        139 => "SerialProxyDataReceived",
        140 => "SerialProxyWriteRequest",
        141 => "SerialProxySetModemPinsRequest",
        142 => "SerialProxyGetModemPinsRequest",
        143 => "SerialProxyGetModemPinsResponse",
        144 => "SerialProxyRequest",
        145 => "BluetoothSetConnectionParamsRequest",
        146 => "BluetoothSetConnectionParamsResponse",
        147 => "SerialProxyRequestResponse",
        148 => "ListEntitiesRadioFrequencyResponse",
        149 => "DeviceCapabilitiesRequest",
        150 => "DeviceCapabilitiesResponse",
        151 => "ZWaveProxyRequestResponse",
        152 => "SerialProxySetModeRequest",
        153 => "InfraredRFTransmitCompleteResponse",
        154 => "SubscribeSerialProxyIdentityRequest",
        155 => "SerialProxyIdentity",
        156 => "DeviceWizardRequest",
        157 => "DeviceWizardResponse",
        158 => "WizardInputSetRequest",
        159 => "SendspinPairingTokenRequest",
        160 => "SendspinPairingTokenResponse",
        161 => "GetYamlRequest",
        162 => "GetYamlResponse",
        _ => return None,
    })
}

/// Implements [`ApiMessage`] for each `Type = id`.
macro_rules! api_messages {
    ($($ty:ident = $id:literal,)*) => {
        $(impl ApiMessage for $ty {
            const TYPE: u16 = $id;
            const NAME: &'static str = stringify!($ty);
        })*
    };
}

api_messages! {
    HelloRequest = 1,
    HelloResponse = 2,
    DisconnectRequest = 5,
    DisconnectResponse = 6,
    PingRequest = 7,
    PingResponse = 8,
    DeviceInfoRequest = 9,
    DeviceInfoResponse = 10,
    ListEntitiesRequest = 11,
    ListEntitiesBinarySensorResponse = 12,
    ListEntitiesCoverResponse = 13,
    ListEntitiesFanResponse = 14,
    ListEntitiesLightResponse = 15,
    ListEntitiesSensorResponse = 16,
    ListEntitiesSwitchResponse = 17,
    ListEntitiesTextSensorResponse = 18,
    ListEntitiesDoneResponse = 19,
    SubscribeStatesRequest = 20,
    BinarySensorStateResponse = 21,
    CoverStateResponse = 22,
    FanStateResponse = 23,
    LightStateResponse = 24,
    SensorStateResponse = 25,
    SwitchStateResponse = 26,
    TextSensorStateResponse = 27,
    CoverCommandRequest = 30,
    FanCommandRequest = 31,
    LightCommandRequest = 32,
    SwitchCommandRequest = 33,
    GetTimeRequest = 36,
    GetTimeResponse = 37,
    ListEntitiesClimateResponse = 46,
    ClimateStateResponse = 47,
    ClimateCommandRequest = 48,
    ListEntitiesNumberResponse = 49,
    NumberStateResponse = 50,
    NumberCommandRequest = 51,
    ListEntitiesSelectResponse = 52,
    SelectStateResponse = 53,
    SelectCommandRequest = 54,
    ListEntitiesLockResponse = 58,
    LockStateResponse = 59,
    LockCommandRequest = 60,
    ListEntitiesButtonResponse = 61,
    ButtonCommandRequest = 62,
}

// ---------------------------------------------------------------------------
// Enums. Values as in `api.proto`; variant names drop the common prefix
// (`COLOR_MODE_RGB` → `ColorMode::Rgb`).
// ---------------------------------------------------------------------------

/// Why a connection is closed ([`DisconnectRequest::reason`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum DisconnectReason {
    /// No reason given.
    Unspecified = 0,
    /// The device closes a connection that was only open for provisioning.
    ProvisioningClosed = 1,
}

/// Entity category: where a user interface shows the entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum EntityCategory {
    /// An ordinary entity.
    None = 0,
    /// A setting of the device.
    Config = 1,
    /// Diagnostic information about the device.
    Diagnostic = 2,
}

/// Sensor state class (Home Assistant's statistics semantics).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum SensorStateClass {
    /// No state class.
    None = 0,
    /// An instantaneous measurement.
    Measurement = 1,
    /// A counter that only increases (resets to 0 are restarts).
    TotalIncreasing = 2,
    /// A total that may go up and down.
    Total = 3,
    /// An angle measurement (wraps around at 360°).
    MeasurementAngle = 4,
}

/// Light colour mode. Each value is a bit set of capabilities: 1 on/off,
/// 2 brightness, 4 white, 8 colour temperature, 16 cold/warm white, 32 RGB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ColorMode {
    /// Unknown mode.
    Unknown = 0,
    /// On/off only.
    OnOff = 1,
    /// Brightness without on/off (old firmware).
    LegacyBrightness = 2,
    /// Dimmable.
    Brightness = 3,
    /// Single white channel.
    White = 7,
    /// Tunable white by colour temperature.
    ColorTemperature = 11,
    /// Tunable white by cold and warm channels.
    ColdWarmWhite = 19,
    /// RGB.
    Rgb = 35,
    /// RGB plus a white channel.
    RgbWhite = 39,
    /// RGB plus tunable white by colour temperature.
    RgbColorTemperature = 47,
    /// RGB plus cold and warm white channels.
    RgbColdWarmWhite = 51,
}

impl ColorMode {
    /// Capability bit: on/off.
    pub const CAP_ON_OFF: i32 = 1;
    /// Capability bit: brightness.
    pub const CAP_BRIGHTNESS: i32 = 2;
    /// Capability bit: a white channel.
    pub const CAP_WHITE: i32 = 4;
    /// Capability bit: colour temperature.
    pub const CAP_COLOR_TEMPERATURE: i32 = 8;
    /// Capability bit: cold and warm white channels.
    pub const CAP_COLD_WARM_WHITE: i32 = 16;
    /// Capability bit: RGB.
    pub const CAP_RGB: i32 = 32;
}

/// What a cover is doing ([`CoverStateResponse::current_operation`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum CoverOperation {
    /// Not moving.
    Idle = 0,
    /// Opening.
    IsOpening = 1,
    /// Closing.
    IsClosing = 2,
}

/// Fan direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum FanDirection {
    /// Forward.
    Forward = 0,
    /// Reverse.
    Reverse = 1,
}

/// Climate operating mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ClimateMode {
    /// Off.
    Off = 0,
    /// Heat and cool to stay between the low and high set points.
    HeatCool = 1,
    /// Cool.
    Cool = 2,
    /// Heat.
    Heat = 3,
    /// Fan only.
    FanOnly = 4,
    /// Dry (dehumidify).
    Dry = 5,
    /// Automatic (the device's own schedule or logic).
    Auto = 6,
}

/// What a climate device is doing now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ClimateAction {
    /// Off.
    Off = 0,
    /// Cooling.
    Cooling = 2,
    /// Heating.
    Heating = 3,
    /// Idle (on, not heating or cooling).
    Idle = 4,
    /// Drying.
    Drying = 5,
    /// Fan only.
    Fan = 6,
    /// Defrosting (heat pumps).
    Defrosting = 7,
}

/// Climate fan mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ClimateFanMode {
    /// Fan on.
    On = 0,
    /// Fan off.
    Off = 1,
    /// Automatic.
    Auto = 2,
    /// Low.
    Low = 3,
    /// Medium.
    Medium = 4,
    /// High.
    High = 5,
    /// Middle.
    Middle = 6,
    /// Focused air flow.
    Focus = 7,
    /// Diffuse air flow.
    Diffuse = 8,
    /// Quiet.
    Quiet = 9,
}

/// Climate swing mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ClimateSwingMode {
    /// No swing.
    Off = 0,
    /// Both directions.
    Both = 1,
    /// Vertical.
    Vertical = 2,
    /// Horizontal.
    Horizontal = 3,
}

/// Climate preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ClimatePreset {
    /// No preset.
    None = 0,
    /// Home.
    Home = 1,
    /// Away.
    Away = 2,
    /// Boost.
    Boost = 3,
    /// Comfort.
    Comfort = 4,
    /// Eco.
    Eco = 5,
    /// Sleep.
    Sleep = 6,
    /// Activity.
    Activity = 7,
}

/// Unit of a climate device's temperatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum TemperatureUnit {
    /// °C.
    Celsius = 0,
    /// °F.
    Fahrenheit = 1,
    /// K.
    Kelvin = 2,
}

/// Preferred input widget of a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum NumberMode {
    /// Let the user interface choose.
    Auto = 0,
    /// A text box.
    Box = 1,
    /// A slider.
    Slider = 2,
}

/// State of a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum LockState {
    /// Unknown.
    None = 0,
    /// Locked.
    Locked = 1,
    /// Unlocked.
    Unlocked = 2,
    /// Jammed.
    Jammed = 3,
    /// Locking.
    Locking = 4,
    /// Unlocking.
    Unlocking = 5,
    /// Opening the latch.
    Opening = 6,
    /// Latch open.
    Open = 7,
}

/// Command to a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum LockCommand {
    /// Unlock.
    Unlock = 0,
    /// Lock.
    Lock = 1,
    /// Open the latch (only when the lock supports it).
    Open = 2,
}

// ---------------------------------------------------------------------------
// Messages, in the order of `api.proto`'s sections.
// ---------------------------------------------------------------------------

/// First message of a connection (client → device): who the client is and which API version it speaks.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloRequest {
    /// Client name shown in the device's log, e.g. `igloo-esphome 0.1`.
    #[prost(string, tag = "1")]
    pub client_info: String,
    /// Major API version the client speaks (1).
    #[prost(uint32, tag = "2")]
    pub api_version_major: u32,
    /// Minor API version the client speaks.
    #[prost(uint32, tag = "3")]
    pub api_version_minor: u32,
    /// Set when the client answers a connection the device opened (ESPHome outgoing connections); false for ordinary clients.
    #[prost(bool, tag = "4")]
    pub outgoing_connection_target: bool,
}

/// The device's answer to [`HelloRequest`] (device → client).
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloResponse {
    /// Major API version of the device; a different major is incompatible.
    #[prost(uint32, tag = "1")]
    pub api_version_major: u32,
    /// Minor API version of the device.
    #[prost(uint32, tag = "2")]
    pub api_version_minor: u32,
    /// Server description, e.g. `kitchen (esphome v2025.7.0)`.
    #[prost(string, tag = "3")]
    pub server_info: String,
    /// The device's node name (its `esphome: name:`).
    #[prost(string, tag = "4")]
    pub name: String,
}

/// Either side announces it closes the connection; the other answers [`DisconnectResponse`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct DisconnectRequest {
    /// Why the sender closes the connection, a [`DisconnectReason`] value.
    #[prost(enumeration = "DisconnectReason", tag = "1")]
    pub reason: i32,
}

/// Acknowledges a [`DisconnectRequest`]; no fields.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DisconnectResponse {}

/// Keep-alive sent by either side; the other answers [`PingResponse`]. No fields.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PingRequest {}

/// Answer to [`PingRequest`]; no fields.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PingResponse {}

/// Asks for [`DeviceInfoResponse`] (client → device); no fields.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DeviceInfoRequest {}

/// Describes the device (device → client).
///
/// Not decoded: `uses_password` (1, deprecated), `legacy_bluetooth_proxy_version` (11, deprecated), `legacy_voice_assistant_version` (14, deprecated), `devices` (20), `areas` (21), `area` (22), `serial_proxies` (25).
#[derive(Clone, PartialEq, prost::Message)]
pub struct DeviceInfoResponse {
    /// Node name (`esphome: name:`), also its mDNS host name.
    #[prost(string, tag = "2")]
    pub name: String,
    /// Wi-Fi/Ethernet MAC address as `AA:BB:CC:DD:EE:FF`.
    #[prost(string, tag = "3")]
    pub mac_address: String,
    /// ESPHome version the firmware was built with, e.g. `2025.7.0`.
    #[prost(string, tag = "4")]
    pub esphome_version: String,
    /// Build time as text, e.g. `Jul 20 2025, 10:11:12`.
    #[prost(string, tag = "5")]
    pub compilation_time: String,
    /// Board name, e.g. `esp32dev`.
    #[prost(string, tag = "6")]
    pub model: String,
    /// The device uses deep sleep (it drops off the network periodically).
    #[prost(bool, tag = "7")]
    pub has_deep_sleep: bool,
    /// `esphome: project: name:`, e.g. `vendor.product`; empty when not set.
    #[prost(string, tag = "8")]
    pub project_name: String,
    /// `esphome: project: version:`; empty when not set.
    #[prost(string, tag = "9")]
    pub project_version: String,
    /// Port of the device's web server, 0 when it has none.
    #[prost(uint32, tag = "10")]
    pub webserver_port: u32,
    /// Chip vendor, e.g. `Espressif`.
    #[prost(string, tag = "12")]
    pub manufacturer: String,
    /// Human-readable device name (`esphome: friendly_name:`); may be empty.
    #[prost(string, tag = "13")]
    pub friendly_name: String,
    /// Bluetooth proxy feature bit set, 0 when it is not a proxy.
    #[prost(uint32, tag = "15")]
    pub bluetooth_proxy_feature_flags: u32,
    /// Area the device suggests for itself (`esphome: area:`); may be empty.
    #[prost(string, tag = "16")]
    pub suggested_area: String,
    /// Voice assistant feature bit set, 0 when none.
    #[prost(uint32, tag = "17")]
    pub voice_assistant_feature_flags: u32,
    /// Bluetooth MAC address, `AA:BB:CC:DD:EE:FF`; empty when no Bluetooth.
    #[prost(string, tag = "18")]
    pub bluetooth_mac_address: String,
    /// The firmware supports Noise encryption of the API.
    #[prost(bool, tag = "19")]
    pub api_encryption_supported: bool,
    /// Z-Wave proxy feature bit set, 0 when none.
    #[prost(uint32, tag = "23")]
    pub zwave_proxy_feature_flags: u32,
    /// Z-Wave home id of a Z-Wave proxy, 0 when none.
    #[prost(uint32, tag = "24")]
    pub zwave_home_id: u32,
    /// An encryption key can be set over the API (not configured in YAML).
    #[prost(bool, tag = "26")]
    pub api_encryption_provisionable: bool,
    /// The firmware can open API connections to a client itself.
    #[prost(bool, tag = "27")]
    pub api_outgoing_connection_supported: bool,
}

/// Asks the device to list its entities (client → device): it answers one `ListEntities*Response` per entity, then [`ListEntitiesDoneResponse`]. No fields.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListEntitiesRequest {}

/// Ends the entity list (device → client); no fields.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListEntitiesDoneResponse {}

/// Subscribes to state messages (client → device): the device sends every current state, then each change. No fields.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SubscribeStatesRequest {}

/// The device asks the client for the time (device → client); answered with [`GetTimeResponse`]. No fields.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetTimeRequest {}

/// The time, answering a [`GetTimeRequest`] (client → device).
///
/// Not decoded: `timezone` (2, deprecated), `parsed_timezone` (3).
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetTimeResponse {
    /// Current time as Unix seconds (UTC).
    #[prost(fixed32, tag = "1")]
    pub epoch_seconds: u32,
}

/// A binary sensor (device → client, while listing).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListEntitiesBinarySensorResponse {
    /// Object id: the entity's name in snake_case, unique within its domain on the device (e.g. `living_room_lamp`).
    #[prost(string, tag = "1")]
    pub object_id: String,
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    /// Display name as configured; may be empty (the entity then takes the device's friendly name).
    #[prost(string, tag = "3")]
    pub name: String,
    /// Home Assistant device class, e.g. `temperature`, `door`; empty when not set.
    #[prost(string, tag = "5")]
    pub device_class: String,
    /// The sensor is ESPHome's connection `status` sensor (true while the device is connected).
    #[prost(bool, tag = "6")]
    pub is_status_binary_sensor: bool,
    /// The entity should start hidden/disabled until a user enables it.
    #[prost(bool, tag = "7")]
    pub disabled_by_default: bool,
    /// Material Design icon as configured, e.g. `mdi:thermometer`; empty when not set.
    #[prost(string, tag = "8")]
    pub icon: String,
    /// Entity category, an [`EntityCategory`] value (config, diagnostic, or none).
    #[prost(enumeration = "EntityCategory", tag = "9")]
    pub entity_category: i32,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "10")]
    pub device_id: u32,
}

/// State of a binary sensor (device → client).
#[derive(Clone, PartialEq, prost::Message)]
pub struct BinarySensorStateResponse {
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// The binary value; true = on/detected/open (Home Assistant semantics).
    #[prost(bool, tag = "2")]
    pub state: bool,
    /// The device has no value yet: `state` carries no information.
    #[prost(bool, tag = "3")]
    pub missing_state: bool,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "4")]
    pub device_id: u32,
}

/// A numeric sensor (device → client, while listing).
///
/// Not decoded: `legacy_last_reset_type` (11, deprecated).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListEntitiesSensorResponse {
    /// Object id: the entity's name in snake_case, unique within its domain on the device (e.g. `living_room_lamp`).
    #[prost(string, tag = "1")]
    pub object_id: String,
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    /// Display name as configured; may be empty (the entity then takes the device's friendly name).
    #[prost(string, tag = "3")]
    pub name: String,
    /// Material Design icon as configured, e.g. `mdi:thermometer`; empty when not set.
    #[prost(string, tag = "5")]
    pub icon: String,
    /// Unit of the state as configured, e.g. `°C`, `%`, `W`; empty when unitless.
    #[prost(string, tag = "6")]
    pub unit_of_measurement: String,
    /// Number of decimals the value is meaningful to (may be negative).
    #[prost(int32, tag = "7")]
    pub accuracy_decimals: i32,
    /// Every reading is published even when unchanged.
    #[prost(bool, tag = "8")]
    pub force_update: bool,
    /// Home Assistant device class, e.g. `temperature`, `door`; empty when not set.
    #[prost(string, tag = "9")]
    pub device_class: String,
    /// State class, a [`SensorStateClass`] value.
    #[prost(enumeration = "SensorStateClass", tag = "10")]
    pub state_class: i32,
    /// The entity should start hidden/disabled until a user enables it.
    #[prost(bool, tag = "12")]
    pub disabled_by_default: bool,
    /// Entity category, an [`EntityCategory`] value (config, diagnostic, or none).
    #[prost(enumeration = "EntityCategory", tag = "13")]
    pub entity_category: i32,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "14")]
    pub device_id: u32,
}

/// State of a numeric sensor (device → client).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SensorStateResponse {
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// The reading in the entity's `unit_of_measurement`; NaN when unknown.
    #[prost(float, tag = "2")]
    pub state: f32,
    /// The device has no value yet: `state` carries no information.
    #[prost(bool, tag = "3")]
    pub missing_state: bool,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "4")]
    pub device_id: u32,
}

/// A text sensor (device → client, while listing).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListEntitiesTextSensorResponse {
    /// Object id: the entity's name in snake_case, unique within its domain on the device (e.g. `living_room_lamp`).
    #[prost(string, tag = "1")]
    pub object_id: String,
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    /// Display name as configured; may be empty (the entity then takes the device's friendly name).
    #[prost(string, tag = "3")]
    pub name: String,
    /// Material Design icon as configured, e.g. `mdi:thermometer`; empty when not set.
    #[prost(string, tag = "5")]
    pub icon: String,
    /// The entity should start hidden/disabled until a user enables it.
    #[prost(bool, tag = "6")]
    pub disabled_by_default: bool,
    /// Entity category, an [`EntityCategory`] value (config, diagnostic, or none).
    #[prost(enumeration = "EntityCategory", tag = "7")]
    pub entity_category: i32,
    /// Home Assistant device class, e.g. `temperature`, `door`; empty when not set.
    #[prost(string, tag = "8")]
    pub device_class: String,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "9")]
    pub device_id: u32,
}

/// State of a text sensor (device → client).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TextSensorStateResponse {
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// The text value.
    #[prost(string, tag = "2")]
    pub state: String,
    /// The device has no value yet: `state` carries no information.
    #[prost(bool, tag = "3")]
    pub missing_state: bool,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "4")]
    pub device_id: u32,
}

/// A switch (device → client, while listing).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListEntitiesSwitchResponse {
    /// Object id: the entity's name in snake_case, unique within its domain on the device (e.g. `living_room_lamp`).
    #[prost(string, tag = "1")]
    pub object_id: String,
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    /// Display name as configured; may be empty (the entity then takes the device's friendly name).
    #[prost(string, tag = "3")]
    pub name: String,
    /// Material Design icon as configured, e.g. `mdi:thermometer`; empty when not set.
    #[prost(string, tag = "5")]
    pub icon: String,
    /// The device cannot read the real state back; what it reports is assumed.
    #[prost(bool, tag = "6")]
    pub assumed_state: bool,
    /// The entity should start hidden/disabled until a user enables it.
    #[prost(bool, tag = "7")]
    pub disabled_by_default: bool,
    /// Entity category, an [`EntityCategory`] value (config, diagnostic, or none).
    #[prost(enumeration = "EntityCategory", tag = "8")]
    pub entity_category: i32,
    /// Home Assistant device class, e.g. `temperature`, `door`; empty when not set.
    #[prost(string, tag = "9")]
    pub device_class: String,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "10")]
    pub device_id: u32,
}

/// State of a switch (device → client).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SwitchStateResponse {
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// On/off state; true = on.
    #[prost(bool, tag = "2")]
    pub state: bool,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "3")]
    pub device_id: u32,
    /// The device has no value yet: `state` carries no information.
    #[prost(bool, tag = "4")]
    pub missing_state: bool,
}

/// Turns a switch on or off (client → device).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SwitchCommandRequest {
    /// Key of the switch.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// Requested state; true = on.
    #[prost(bool, tag = "2")]
    pub state: bool,
    /// Sub-device id of the switch, as listed.
    #[prost(uint32, tag = "3")]
    pub device_id: u32,
}

/// A light (device → client, while listing).
///
/// Not decoded: `legacy_supports_brightness` (5, deprecated), `legacy_supports_rgb` (6, deprecated), `legacy_supports_white_value` (7, deprecated), `legacy_supports_color_temperature` (8, deprecated).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListEntitiesLightResponse {
    /// Object id: the entity's name in snake_case, unique within its domain on the device (e.g. `living_room_lamp`).
    #[prost(string, tag = "1")]
    pub object_id: String,
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    /// Display name as configured; may be empty (the entity then takes the device's friendly name).
    #[prost(string, tag = "3")]
    pub name: String,
    /// Coldest colour temperature in mired (lowest value); 0 when not applicable.
    #[prost(float, tag = "9")]
    pub min_mireds: f32,
    /// Warmest colour temperature in mired (highest value); 0 when not applicable.
    #[prost(float, tag = "10")]
    pub max_mireds: f32,
    /// Names of the light's effects (ESPHome lists `None` first when it has any).
    #[prost(string, repeated, tag = "11")]
    pub effects: Vec<String>,
    /// Colour modes the light supports, [`ColorMode`] values (a bit set of capabilities each).
    #[prost(enumeration = "ColorMode", repeated, tag = "12")]
    pub supported_color_modes: Vec<i32>,
    /// The entity should start hidden/disabled until a user enables it.
    #[prost(bool, tag = "13")]
    pub disabled_by_default: bool,
    /// Material Design icon as configured, e.g. `mdi:thermometer`; empty when not set.
    #[prost(string, tag = "14")]
    pub icon: String,
    /// Entity category, an [`EntityCategory`] value (config, diagnostic, or none).
    #[prost(enumeration = "EntityCategory", tag = "15")]
    pub entity_category: i32,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "16")]
    pub device_id: u32,
}

/// State of a light (device → client).
#[derive(Clone, PartialEq, prost::Message)]
pub struct LightStateResponse {
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// On/off state; true = on.
    #[prost(bool, tag = "2")]
    pub state: bool,
    /// Master brightness, 0.0-1.0.
    #[prost(float, tag = "3")]
    pub brightness: f32,
    /// Red, 0.0-1.0; RGB is normalised so that the largest channel is 1.0.
    #[prost(float, tag = "4")]
    pub red: f32,
    /// Green, 0.0-1.0 (normalised with `red` and `blue`).
    #[prost(float, tag = "5")]
    pub green: f32,
    /// Blue, 0.0-1.0 (normalised with `red` and `green`).
    #[prost(float, tag = "6")]
    pub blue: f32,
    /// White channel, 0.0-1.0.
    #[prost(float, tag = "7")]
    pub white: f32,
    /// Colour temperature in mired.
    #[prost(float, tag = "8")]
    pub color_temperature: f32,
    /// Active effect name (`None` when no effect runs).
    #[prost(string, tag = "9")]
    pub effect: String,
    /// Brightness of the RGB channels relative to the white ones, 0.0-1.0.
    #[prost(float, tag = "10")]
    pub color_brightness: f32,
    /// The active colour mode, a [`ColorMode`] value.
    #[prost(enumeration = "ColorMode", tag = "11")]
    pub color_mode: i32,
    /// Cold white channel, 0.0-1.0.
    #[prost(float, tag = "12")]
    pub cold_white: f32,
    /// Warm white channel, 0.0-1.0.
    #[prost(float, tag = "13")]
    pub warm_white: f32,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "14")]
    pub device_id: u32,
}

/// Changes a light (client → device): each `has_*` flag says its value is set; unset values are left alone.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LightCommandRequest {
    /// Key of the light.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// `state` is set.
    #[prost(bool, tag = "2")]
    pub has_state: bool,
    /// Requested on/off state.
    #[prost(bool, tag = "3")]
    pub state: bool,
    /// `brightness` is set.
    #[prost(bool, tag = "4")]
    pub has_brightness: bool,
    /// Requested master brightness, 0.0-1.0.
    #[prost(float, tag = "5")]
    pub brightness: f32,
    /// `red`, `green` and `blue` are set.
    #[prost(bool, tag = "6")]
    pub has_rgb: bool,
    /// Requested red, 0.0-1.0 (the device normalises RGB).
    #[prost(float, tag = "7")]
    pub red: f32,
    /// Requested green, 0.0-1.0.
    #[prost(float, tag = "8")]
    pub green: f32,
    /// Requested blue, 0.0-1.0.
    #[prost(float, tag = "9")]
    pub blue: f32,
    /// `white` is set.
    #[prost(bool, tag = "10")]
    pub has_white: bool,
    /// Requested white channel, 0.0-1.0.
    #[prost(float, tag = "11")]
    pub white: f32,
    /// `color_temperature` is set.
    #[prost(bool, tag = "12")]
    pub has_color_temperature: bool,
    /// Requested colour temperature in mired.
    #[prost(float, tag = "13")]
    pub color_temperature: f32,
    /// `transition_length` is set.
    #[prost(bool, tag = "14")]
    pub has_transition_length: bool,
    /// Transition length in milliseconds.
    #[prost(uint32, tag = "15")]
    pub transition_length: u32,
    /// `flash_length` is set.
    #[prost(bool, tag = "16")]
    pub has_flash_length: bool,
    /// Flash length in milliseconds.
    #[prost(uint32, tag = "17")]
    pub flash_length: u32,
    /// `effect` is set.
    #[prost(bool, tag = "18")]
    pub has_effect: bool,
    /// Effect to start, one of the listed `effects` (`None` stops the effect).
    #[prost(string, tag = "19")]
    pub effect: String,
    /// `color_brightness` is set.
    #[prost(bool, tag = "20")]
    pub has_color_brightness: bool,
    /// Requested brightness of the RGB channels, 0.0-1.0.
    #[prost(float, tag = "21")]
    pub color_brightness: f32,
    /// `color_mode` is set.
    #[prost(bool, tag = "22")]
    pub has_color_mode: bool,
    /// Requested colour mode, a [`ColorMode`] value the light supports.
    #[prost(enumeration = "ColorMode", tag = "23")]
    pub color_mode: i32,
    /// `cold_white` is set.
    #[prost(bool, tag = "24")]
    pub has_cold_white: bool,
    /// Requested cold white channel, 0.0-1.0.
    #[prost(float, tag = "25")]
    pub cold_white: f32,
    /// `warm_white` is set.
    #[prost(bool, tag = "26")]
    pub has_warm_white: bool,
    /// Requested warm white channel, 0.0-1.0.
    #[prost(float, tag = "27")]
    pub warm_white: f32,
    /// Sub-device id of the light, as listed.
    #[prost(uint32, tag = "28")]
    pub device_id: u32,
}

/// A cover (device → client, while listing).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListEntitiesCoverResponse {
    /// Object id: the entity's name in snake_case, unique within its domain on the device (e.g. `living_room_lamp`).
    #[prost(string, tag = "1")]
    pub object_id: String,
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    /// Display name as configured; may be empty (the entity then takes the device's friendly name).
    #[prost(string, tag = "3")]
    pub name: String,
    /// The device cannot read the real state back; what it reports is assumed.
    #[prost(bool, tag = "5")]
    pub assumed_state: bool,
    /// The cover reports and accepts a position (else only open/closed).
    #[prost(bool, tag = "6")]
    pub supports_position: bool,
    /// The cover reports and accepts a tilt.
    #[prost(bool, tag = "7")]
    pub supports_tilt: bool,
    /// Home Assistant device class, e.g. `temperature`, `door`; empty when not set.
    #[prost(string, tag = "8")]
    pub device_class: String,
    /// The entity should start hidden/disabled until a user enables it.
    #[prost(bool, tag = "9")]
    pub disabled_by_default: bool,
    /// Material Design icon as configured, e.g. `mdi:thermometer`; empty when not set.
    #[prost(string, tag = "10")]
    pub icon: String,
    /// Entity category, an [`EntityCategory`] value (config, diagnostic, or none).
    #[prost(enumeration = "EntityCategory", tag = "11")]
    pub entity_category: i32,
    /// The cover can be stopped.
    #[prost(bool, tag = "12")]
    pub supports_stop: bool,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "13")]
    pub device_id: u32,
    /// Tilt movement can be stopped separately.
    #[prost(bool, tag = "14")]
    pub supports_stop_tilt: bool,
    /// The cover accepts a toggle command.
    #[prost(bool, tag = "15")]
    pub supports_toggle: bool,
}

/// State of a cover (device → client).
///
/// Not decoded: `legacy_state` (2, deprecated).
#[derive(Clone, PartialEq, prost::Message)]
pub struct CoverStateResponse {
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// Position 0.0 (closed) to 1.0 (open); without position support 0.0 = closed, 1.0 = open.
    #[prost(float, tag = "3")]
    pub position: f32,
    /// Tilt 0.0 (closed) to 1.0 (open).
    #[prost(float, tag = "4")]
    pub tilt: f32,
    /// What the cover is doing, a [`CoverOperation`] value.
    #[prost(enumeration = "CoverOperation", tag = "5")]
    pub current_operation: i32,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "6")]
    pub device_id: u32,
}

/// Moves a cover (client → device): each `has_*` flag says its value is set.
///
/// Not decoded: `has_legacy_command` (2, deprecated), `legacy_command` (3, deprecated).
#[derive(Clone, PartialEq, prost::Message)]
pub struct CoverCommandRequest {
    /// Key of the cover.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// `position` is set.
    #[prost(bool, tag = "4")]
    pub has_position: bool,
    /// Target position 0.0 (closed) to 1.0 (open).
    #[prost(float, tag = "5")]
    pub position: f32,
    /// `tilt` is set.
    #[prost(bool, tag = "6")]
    pub has_tilt: bool,
    /// Target tilt 0.0 (closed) to 1.0 (open).
    #[prost(float, tag = "7")]
    pub tilt: f32,
    /// Stop the movement.
    #[prost(bool, tag = "8")]
    pub stop: bool,
    /// Sub-device id of the cover, as listed.
    #[prost(uint32, tag = "9")]
    pub device_id: u32,
    /// Stop the tilt movement.
    #[prost(bool, tag = "10")]
    pub stop_tilt: bool,
    /// Toggle (open when closed, close when open, or stop).
    #[prost(bool, tag = "11")]
    pub toggle: bool,
}

/// A fan (device → client, while listing).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListEntitiesFanResponse {
    /// Object id: the entity's name in snake_case, unique within its domain on the device (e.g. `living_room_lamp`).
    #[prost(string, tag = "1")]
    pub object_id: String,
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    /// Display name as configured; may be empty (the entity then takes the device's friendly name).
    #[prost(string, tag = "3")]
    pub name: String,
    /// The fan can oscillate.
    #[prost(bool, tag = "5")]
    pub supports_oscillation: bool,
    /// The fan has speed levels (`speed_level` 1..`supported_speed_count`).
    #[prost(bool, tag = "6")]
    pub supports_speed: bool,
    /// The fan's direction can be changed.
    #[prost(bool, tag = "7")]
    pub supports_direction: bool,
    /// Number of speed levels (levels are 1..count).
    #[prost(int32, tag = "8")]
    pub supported_speed_count: i32,
    /// The entity should start hidden/disabled until a user enables it.
    #[prost(bool, tag = "9")]
    pub disabled_by_default: bool,
    /// Material Design icon as configured, e.g. `mdi:thermometer`; empty when not set.
    #[prost(string, tag = "10")]
    pub icon: String,
    /// Entity category, an [`EntityCategory`] value (config, diagnostic, or none).
    #[prost(enumeration = "EntityCategory", tag = "11")]
    pub entity_category: i32,
    /// Names of the fan's preset modes.
    #[prost(string, repeated, tag = "12")]
    pub supported_preset_modes: Vec<String>,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "13")]
    pub device_id: u32,
}

/// State of a fan (device → client).
///
/// Not decoded: `speed` (4, deprecated).
#[derive(Clone, PartialEq, prost::Message)]
pub struct FanStateResponse {
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// On/off state; true = on.
    #[prost(bool, tag = "2")]
    pub state: bool,
    /// Oscillation on.
    #[prost(bool, tag = "3")]
    pub oscillating: bool,
    /// Direction, a [`FanDirection`] value.
    #[prost(enumeration = "FanDirection", tag = "5")]
    pub direction: i32,
    /// Speed level, 1..`supported_speed_count` (0 when off or unknown).
    #[prost(int32, tag = "6")]
    pub speed_level: i32,
    /// Active preset mode; empty when none.
    #[prost(string, tag = "7")]
    pub preset_mode: String,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "8")]
    pub device_id: u32,
}

/// Changes a fan (client → device): each `has_*` flag says its value is set.
///
/// Not decoded: `has_speed` (4, deprecated), `speed` (5, deprecated).
#[derive(Clone, PartialEq, prost::Message)]
pub struct FanCommandRequest {
    /// Key of the fan.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// `state` is set.
    #[prost(bool, tag = "2")]
    pub has_state: bool,
    /// Requested on/off state.
    #[prost(bool, tag = "3")]
    pub state: bool,
    /// `oscillating` is set.
    #[prost(bool, tag = "6")]
    pub has_oscillating: bool,
    /// Requested oscillation.
    #[prost(bool, tag = "7")]
    pub oscillating: bool,
    /// `direction` is set.
    #[prost(bool, tag = "8")]
    pub has_direction: bool,
    /// Requested direction, a [`FanDirection`] value.
    #[prost(enumeration = "FanDirection", tag = "9")]
    pub direction: i32,
    /// `speed_level` is set.
    #[prost(bool, tag = "10")]
    pub has_speed_level: bool,
    /// Requested speed level, 1..`supported_speed_count`.
    #[prost(int32, tag = "11")]
    pub speed_level: i32,
    /// `preset_mode` is set.
    #[prost(bool, tag = "12")]
    pub has_preset_mode: bool,
    /// Requested preset mode, one of `supported_preset_modes`.
    #[prost(string, tag = "13")]
    pub preset_mode: String,
    /// Sub-device id of the fan, as listed.
    #[prost(uint32, tag = "14")]
    pub device_id: u32,
}

/// A climate device (thermostat, HVAC) (device → client, while listing).
///
/// Not decoded: `legacy_supports_away` (11, deprecated).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListEntitiesClimateResponse {
    /// Object id: the entity's name in snake_case, unique within its domain on the device (e.g. `living_room_lamp`).
    #[prost(string, tag = "1")]
    pub object_id: String,
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    /// Display name as configured; may be empty (the entity then takes the device's friendly name).
    #[prost(string, tag = "3")]
    pub name: String,
    /// The device reports `current_temperature`.
    #[prost(bool, tag = "5")]
    pub supports_current_temperature: bool,
    /// The device has low/high set points instead of one target temperature.
    #[prost(bool, tag = "6")]
    pub supports_two_point_target_temperature: bool,
    /// Modes the device supports, [`ClimateMode`] values.
    #[prost(enumeration = "ClimateMode", repeated, tag = "7")]
    pub supported_modes: Vec<i32>,
    /// Lowest settable target temperature, in the device's unit (°C unless `temperature_unit` says otherwise).
    #[prost(float, tag = "8")]
    pub visual_min_temperature: f32,
    /// Highest settable target temperature, same unit.
    #[prost(float, tag = "9")]
    pub visual_max_temperature: f32,
    /// Step of the target temperature, same unit.
    #[prost(float, tag = "10")]
    pub visual_target_temperature_step: f32,
    /// The device reports what it is doing (`action`).
    #[prost(bool, tag = "12")]
    pub supports_action: bool,
    /// Fan modes, [`ClimateFanMode`] values.
    #[prost(enumeration = "ClimateFanMode", repeated, tag = "13")]
    pub supported_fan_modes: Vec<i32>,
    /// Swing modes, [`ClimateSwingMode`] values.
    #[prost(enumeration = "ClimateSwingMode", repeated, tag = "14")]
    pub supported_swing_modes: Vec<i32>,
    /// Names of custom fan modes.
    #[prost(string, repeated, tag = "15")]
    pub supported_custom_fan_modes: Vec<String>,
    /// Presets, [`ClimatePreset`] values.
    #[prost(enumeration = "ClimatePreset", repeated, tag = "16")]
    pub supported_presets: Vec<i32>,
    /// Names of custom presets.
    #[prost(string, repeated, tag = "17")]
    pub supported_custom_presets: Vec<String>,
    /// The entity should start hidden/disabled until a user enables it.
    #[prost(bool, tag = "18")]
    pub disabled_by_default: bool,
    /// Material Design icon as configured, e.g. `mdi:thermometer`; empty when not set.
    #[prost(string, tag = "19")]
    pub icon: String,
    /// Entity category, an [`EntityCategory`] value (config, diagnostic, or none).
    #[prost(enumeration = "EntityCategory", tag = "20")]
    pub entity_category: i32,
    /// Display step of the current temperature.
    #[prost(float, tag = "21")]
    pub visual_current_temperature_step: f32,
    /// The device reports `current_humidity`.
    #[prost(bool, tag = "22")]
    pub supports_current_humidity: bool,
    /// The device accepts a target humidity.
    #[prost(bool, tag = "23")]
    pub supports_target_humidity: bool,
    /// Lowest settable target humidity, %.
    #[prost(float, tag = "24")]
    pub visual_min_humidity: f32,
    /// Highest settable target humidity, %.
    #[prost(float, tag = "25")]
    pub visual_max_humidity: f32,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "26")]
    pub device_id: u32,
    /// Feature bit set of newer firmware (duplicates the `supports_*` booleans); 0 from older firmware.
    #[prost(uint32, tag = "27")]
    pub feature_flags: u32,
    /// Unit of the temperatures on the wire, a [`TemperatureUnit`] value (Celsius unless set).
    #[prost(enumeration = "TemperatureUnit", tag = "28")]
    pub temperature_unit: i32,
}

/// State of a climate device (device → client). Temperatures are in the unit of the entity's `temperature_unit` (°C by default).
///
/// Not decoded: `unused_legacy_away` (7, deprecated).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ClimateStateResponse {
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// Operating mode, a [`ClimateMode`] value.
    #[prost(enumeration = "ClimateMode", tag = "2")]
    pub mode: i32,
    /// Measured temperature; NaN when unknown.
    #[prost(float, tag = "3")]
    pub current_temperature: f32,
    /// Set point (single-point devices).
    #[prost(float, tag = "4")]
    pub target_temperature: f32,
    /// Lower set point (two-point devices).
    #[prost(float, tag = "5")]
    pub target_temperature_low: f32,
    /// Upper set point (two-point devices).
    #[prost(float, tag = "6")]
    pub target_temperature_high: f32,
    /// What the device is doing, a [`ClimateAction`] value.
    #[prost(enumeration = "ClimateAction", tag = "8")]
    pub action: i32,
    /// Fan mode, a [`ClimateFanMode`] value.
    #[prost(enumeration = "ClimateFanMode", tag = "9")]
    pub fan_mode: i32,
    /// Swing mode, a [`ClimateSwingMode`] value.
    #[prost(enumeration = "ClimateSwingMode", tag = "10")]
    pub swing_mode: i32,
    /// Active custom fan mode; empty when none.
    #[prost(string, tag = "11")]
    pub custom_fan_mode: String,
    /// Preset, a [`ClimatePreset`] value.
    #[prost(enumeration = "ClimatePreset", tag = "12")]
    pub preset: i32,
    /// Active custom preset; empty when none.
    #[prost(string, tag = "13")]
    pub custom_preset: String,
    /// Measured relative humidity, %; NaN when unknown.
    #[prost(float, tag = "14")]
    pub current_humidity: f32,
    /// Target relative humidity, %.
    #[prost(float, tag = "15")]
    pub target_humidity: f32,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "16")]
    pub device_id: u32,
    /// The device has no value yet: `state` carries no information.
    #[prost(bool, tag = "17")]
    pub missing_state: bool,
}

/// Changes a climate device (client → device): each `has_*` flag says its value is set.
///
/// Not decoded: `unused_has_legacy_away` (10, deprecated), `unused_legacy_away` (11, deprecated).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ClimateCommandRequest {
    /// Key of the climate entity.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// `mode` is set.
    #[prost(bool, tag = "2")]
    pub has_mode: bool,
    /// Requested mode, a [`ClimateMode`] value.
    #[prost(enumeration = "ClimateMode", tag = "3")]
    pub mode: i32,
    /// `target_temperature` is set.
    #[prost(bool, tag = "4")]
    pub has_target_temperature: bool,
    /// Requested set point.
    #[prost(float, tag = "5")]
    pub target_temperature: f32,
    /// `target_temperature_low` is set.
    #[prost(bool, tag = "6")]
    pub has_target_temperature_low: bool,
    /// Requested lower set point.
    #[prost(float, tag = "7")]
    pub target_temperature_low: f32,
    /// `target_temperature_high` is set.
    #[prost(bool, tag = "8")]
    pub has_target_temperature_high: bool,
    /// Requested upper set point.
    #[prost(float, tag = "9")]
    pub target_temperature_high: f32,
    /// `fan_mode` is set.
    #[prost(bool, tag = "12")]
    pub has_fan_mode: bool,
    /// Requested fan mode, a [`ClimateFanMode`] value.
    #[prost(enumeration = "ClimateFanMode", tag = "13")]
    pub fan_mode: i32,
    /// `swing_mode` is set.
    #[prost(bool, tag = "14")]
    pub has_swing_mode: bool,
    /// Requested swing mode, a [`ClimateSwingMode`] value.
    #[prost(enumeration = "ClimateSwingMode", tag = "15")]
    pub swing_mode: i32,
    /// `custom_fan_mode` is set.
    #[prost(bool, tag = "16")]
    pub has_custom_fan_mode: bool,
    /// Requested custom fan mode.
    #[prost(string, tag = "17")]
    pub custom_fan_mode: String,
    /// `preset` is set.
    #[prost(bool, tag = "18")]
    pub has_preset: bool,
    /// Requested preset, a [`ClimatePreset`] value.
    #[prost(enumeration = "ClimatePreset", tag = "19")]
    pub preset: i32,
    /// `custom_preset` is set.
    #[prost(bool, tag = "20")]
    pub has_custom_preset: bool,
    /// Requested custom preset.
    #[prost(string, tag = "21")]
    pub custom_preset: String,
    /// `target_humidity` is set.
    #[prost(bool, tag = "22")]
    pub has_target_humidity: bool,
    /// Requested target humidity, %.
    #[prost(float, tag = "23")]
    pub target_humidity: f32,
    /// Sub-device id of the climate entity, as listed.
    #[prost(uint32, tag = "24")]
    pub device_id: u32,
}

/// A number input (device → client, while listing).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListEntitiesNumberResponse {
    /// Object id: the entity's name in snake_case, unique within its domain on the device (e.g. `living_room_lamp`).
    #[prost(string, tag = "1")]
    pub object_id: String,
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    /// Display name as configured; may be empty (the entity then takes the device's friendly name).
    #[prost(string, tag = "3")]
    pub name: String,
    /// Material Design icon as configured, e.g. `mdi:thermometer`; empty when not set.
    #[prost(string, tag = "5")]
    pub icon: String,
    /// Lowest accepted value.
    #[prost(float, tag = "6")]
    pub min_value: f32,
    /// Highest accepted value.
    #[prost(float, tag = "7")]
    pub max_value: f32,
    /// Step between accepted values.
    #[prost(float, tag = "8")]
    pub step: f32,
    /// The entity should start hidden/disabled until a user enables it.
    #[prost(bool, tag = "9")]
    pub disabled_by_default: bool,
    /// Entity category, an [`EntityCategory`] value (config, diagnostic, or none).
    #[prost(enumeration = "EntityCategory", tag = "10")]
    pub entity_category: i32,
    /// Unit as configured; empty when unitless.
    #[prost(string, tag = "11")]
    pub unit_of_measurement: String,
    /// Preferred input widget, a [`NumberMode`] value.
    #[prost(enumeration = "NumberMode", tag = "12")]
    pub mode: i32,
    /// Home Assistant device class, e.g. `temperature`, `door`; empty when not set.
    #[prost(string, tag = "13")]
    pub device_class: String,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "14")]
    pub device_id: u32,
}

/// State of a number (device → client).
#[derive(Clone, PartialEq, prost::Message)]
pub struct NumberStateResponse {
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// The value; NaN when unknown.
    #[prost(float, tag = "2")]
    pub state: f32,
    /// The device has no value yet: `state` carries no information.
    #[prost(bool, tag = "3")]
    pub missing_state: bool,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "4")]
    pub device_id: u32,
}

/// Sets a number (client → device).
#[derive(Clone, PartialEq, prost::Message)]
pub struct NumberCommandRequest {
    /// Key of the number.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// Requested value, within `min_value..=max_value`.
    #[prost(float, tag = "2")]
    pub state: f32,
    /// Sub-device id of the number, as listed.
    #[prost(uint32, tag = "3")]
    pub device_id: u32,
}

/// A select (choice among fixed options) (device → client, while listing).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListEntitiesSelectResponse {
    /// Object id: the entity's name in snake_case, unique within its domain on the device (e.g. `living_room_lamp`).
    #[prost(string, tag = "1")]
    pub object_id: String,
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    /// Display name as configured; may be empty (the entity then takes the device's friendly name).
    #[prost(string, tag = "3")]
    pub name: String,
    /// Material Design icon as configured, e.g. `mdi:thermometer`; empty when not set.
    #[prost(string, tag = "5")]
    pub icon: String,
    /// The allowed options, in order.
    #[prost(string, repeated, tag = "6")]
    pub options: Vec<String>,
    /// The entity should start hidden/disabled until a user enables it.
    #[prost(bool, tag = "7")]
    pub disabled_by_default: bool,
    /// Entity category, an [`EntityCategory`] value (config, diagnostic, or none).
    #[prost(enumeration = "EntityCategory", tag = "8")]
    pub entity_category: i32,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "9")]
    pub device_id: u32,
}

/// State of a select (device → client).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SelectStateResponse {
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// The selected option.
    #[prost(string, tag = "2")]
    pub state: String,
    /// The device has no value yet: `state` carries no information.
    #[prost(bool, tag = "3")]
    pub missing_state: bool,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "4")]
    pub device_id: u32,
}

/// Selects an option (client → device).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SelectCommandRequest {
    /// Key of the select.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// Option to select, one of `options`.
    #[prost(string, tag = "2")]
    pub state: String,
    /// Sub-device id of the select, as listed.
    #[prost(uint32, tag = "3")]
    pub device_id: u32,
}

/// A button (device → client, while listing).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListEntitiesButtonResponse {
    /// Object id: the entity's name in snake_case, unique within its domain on the device (e.g. `living_room_lamp`).
    #[prost(string, tag = "1")]
    pub object_id: String,
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    /// Display name as configured; may be empty (the entity then takes the device's friendly name).
    #[prost(string, tag = "3")]
    pub name: String,
    /// Material Design icon as configured, e.g. `mdi:thermometer`; empty when not set.
    #[prost(string, tag = "5")]
    pub icon: String,
    /// The entity should start hidden/disabled until a user enables it.
    #[prost(bool, tag = "6")]
    pub disabled_by_default: bool,
    /// Entity category, an [`EntityCategory`] value (config, diagnostic, or none).
    #[prost(enumeration = "EntityCategory", tag = "7")]
    pub entity_category: i32,
    /// Home Assistant device class, e.g. `temperature`, `door`; empty when not set.
    #[prost(string, tag = "8")]
    pub device_class: String,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "9")]
    pub device_id: u32,
}

/// Presses a button (client → device).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ButtonCommandRequest {
    /// Key of the button.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// Sub-device id of the button, as listed.
    #[prost(uint32, tag = "2")]
    pub device_id: u32,
}

/// A lock (device → client, while listing).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListEntitiesLockResponse {
    /// Object id: the entity's name in snake_case, unique within its domain on the device (e.g. `living_room_lamp`).
    #[prost(string, tag = "1")]
    pub object_id: String,
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    /// Display name as configured; may be empty (the entity then takes the device's friendly name).
    #[prost(string, tag = "3")]
    pub name: String,
    /// Material Design icon as configured, e.g. `mdi:thermometer`; empty when not set.
    #[prost(string, tag = "5")]
    pub icon: String,
    /// The entity should start hidden/disabled until a user enables it.
    #[prost(bool, tag = "6")]
    pub disabled_by_default: bool,
    /// Entity category, an [`EntityCategory`] value (config, diagnostic, or none).
    #[prost(enumeration = "EntityCategory", tag = "7")]
    pub entity_category: i32,
    /// The device cannot read the real state back; what it reports is assumed.
    #[prost(bool, tag = "8")]
    pub assumed_state: bool,
    /// The lock can open the latch (`LockCommand::Open`).
    #[prost(bool, tag = "9")]
    pub supports_open: bool,
    /// Commands need a code.
    #[prost(bool, tag = "10")]
    pub requires_code: bool,
    /// Regular expression the code must match; empty when any.
    #[prost(string, tag = "11")]
    pub code_format: String,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "12")]
    pub device_id: u32,
}

/// State of a lock (device → client).
#[derive(Clone, PartialEq, prost::Message)]
pub struct LockStateResponse {
    /// Entity key (fixed32): ESPHome's hash of the object id; names the entity in state and command messages.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// Lock state, a [`LockState`] value.
    #[prost(enumeration = "LockState", tag = "2")]
    pub state: i32,
    /// Sub-device id (ESPHome `devices:`), 0 for the main device.
    #[prost(uint32, tag = "3")]
    pub device_id: u32,
}

/// Locks, unlocks or opens a lock (client → device).
#[derive(Clone, PartialEq, prost::Message)]
pub struct LockCommandRequest {
    /// Key of the lock.
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// What to do, a [`LockCommand`] value.
    #[prost(enumeration = "LockCommand", tag = "2")]
    pub command: i32,
    /// `code` is set.
    #[prost(bool, tag = "3")]
    pub has_code: bool,
    /// Code for locks that require one.
    #[prost(string, tag = "4")]
    pub code: String,
    /// Sub-device id of the lock, as listed.
    #[prost(uint32, tag = "5")]
    pub device_id: u32,
}
