//! The real `igloo-mqtt` binary against a real Mosquitto and a fake core that
//! speaks the real protocol on a Unix socket (`IGLOO_SOCKET`).
//!
//! Needs `mosquitto` (Debian package `mosquitto`) on PATH or in /usr/sbin.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use igloo_provider::protocol::message::{
    Custom, DeviceCreated, SetAvailability, Welcome, WriteComponents,
};
use igloo_provider::protocol::{
    Component, DEFAULT_MAX_FRAME, DeviceId, ErrorCode, MAX_COMPONENT_ID, MAX_MESSAGE_ID, Message,
    PROTOCOL_MAJOR, PROTOCOL_MINOR, decode_payload, frame::to_frame_bytes,
};
use rumqttc::{AsyncClient, MqttOptions, Packet, QoS};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;
use tokio::sync::mpsc;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(30);

/// A Mosquitto on a free loopback port; killed on drop.
struct Broker {
    port: u16,
    conf: PathBuf,
    child: Option<Child>,
}

fn mosquitto_exe() -> PathBuf {
    for dir in std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .chain(["/usr/sbin", "/usr/local/sbin"])
    {
        let p = Path::new(dir).join("mosquitto");
        if p.is_file() {
            return p;
        }
    }
    panic!("mosquitto not found: install the Debian package `mosquitto`");
}

impl Broker {
    fn start(dir: &Path) -> Broker {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
        )
        .expect("write mosquitto.conf");
        let mut b = Broker {
            port,
            conf,
            child: None,
        };
        b.restart();
        b
    }

    fn restart(&mut self) {
        let child = Command::new(mosquitto_exe())
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn mosquitto");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("mosquitto did not listen on {}", self.port);
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The provider process; killed on drop.
struct ProviderProcess {
    child: Child,
    stderr: PathBuf,
}

impl ProviderProcess {
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for ProviderProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The core side of the connection: messages from the provider arrive on
/// `rx` (CreateDevice already answered); `tx` sends to the provider.
/// Dropping it closes the connection.
struct FakeCore {
    rx: mpsc::UnboundedReceiver<Message>,
    tx: mpsc::UnboundedSender<Message>,
    seen: Vec<Message>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for FakeCore {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl FakeCore {
    /// The first message matching `want`, among those already seen or (waiting
    /// for it) the next ones; the others are kept in `seen`.
    async fn expect<T>(&mut self, what: &str, mut want: impl FnMut(&Message) -> Option<T>) -> T {
        if let Some((i, v)) = self
            .seen
            .iter()
            .enumerate()
            .find_map(|(i, m)| want(m).map(|v| (i, v)))
        {
            self.seen.remove(i);
            return v;
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(m)) => {
                    if let Some(v) = want(&m) {
                        return v;
                    }
                    self.seen.push(m);
                }
                Ok(None) => panic!(
                    "provider closed the connection while waiting for {what}; saw {:#?}",
                    self.seen
                ),
                Err(_) => panic!("timed out waiting for {what}; saw {:#?}", self.seen),
            }
        }
    }

    fn send(&self, m: Message) {
        self.tx.send(m).expect("core writer alive");
    }
}

async fn write_frame(w: &mut (impl AsyncWriteExt + Unpin), m: &Message) -> std::io::Result<()> {
    let bytes = to_frame_bytes(m, DEFAULT_MAX_FRAME).map_err(std::io::Error::other)?;
    w.write_all(&bytes).await
}

/// Starts the provider binary with `config` as its `[provider.config]` and
/// completes the handshake.
async fn start_provider(dir: &Path, config: &str) -> (ProviderProcess, FakeCore) {
    let sock = dir.join("core.sock");
    let _ = std::fs::remove_file(&sock);
    let listener = UnixListener::bind(&sock).expect("bind core socket");
    let stderr = dir.join(format!("provider-{}.log", rand_suffix()));
    let child = Command::new(env!("CARGO_BIN_EXE_igloo-mqtt"))
        .env("IGLOO_SOCKET", &sock)
        .env_remove("IGLOO_FD")
        .env("RUST_LOG", "igloo_mqtt=trace,info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("spawn igloo-mqtt");
    let process = ProviderProcess { child, stderr };
    let (stream, _) = timeout(WAIT, listener.accept())
        .await
        .expect("provider connects")
        .expect("accept");
    let (mut read, mut write) = stream.into_split();
    let hello = read_frame(&mut read).await.expect("hello");
    assert!(
        matches!(hello, Message::Hello(ref h) if h.name == "igloo-mqtt"),
        "{hello:?}"
    );
    let welcome = Welcome {
        protocol_major: PROTOCOL_MAJOR,
        protocol_minor: PROTOCOL_MINOR,
        core_version: "test".into(),
        max_component_id: MAX_COMPONENT_ID,
        max_message_id: MAX_MESSAGE_ID,
        config: config.to_string(),
        data_dir: dir.display().to_string(),
    };
    write_frame(&mut write, &Message::Welcome(welcome))
        .await
        .expect("welcome");

    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Message>();
    let (in_tx, in_rx) = mpsc::unbounded_channel();
    let writer = tokio::spawn(async move {
        while let Some(m) = out_rx.recv().await {
            if write_frame(&mut write, &m).await.is_err() {
                return;
            }
        }
    });
    let replies = out_tx.clone();
    let reader = tokio::spawn(async move {
        let mut keys: Vec<String> = Vec::new();
        while let Some(m) = read_frame(&mut read).await {
            if let Message::CreateDevice(c) = &m {
                let n = match keys.iter().position(|k| *k == c.key) {
                    Some(i) => i,
                    None => {
                        keys.push(c.key.clone());
                        keys.len() - 1
                    }
                };
                let _ = replies.send(Message::DeviceCreated(DeviceCreated {
                    request_id: c.request_id,
                    device: DeviceId(n as u64 + 1),
                }));
            }
            if in_tx.send(m).is_err() {
                return;
            }
        }
    });
    let core = FakeCore {
        rx: in_rx,
        tx: out_tx,
        seen: Vec::new(),
        tasks: vec![writer, reader],
    };
    (process, core)
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

async fn read_frame(r: &mut (impl AsyncReadExt + Unpin)) -> Option<Message> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await.ok()?;
    let mut payload = vec![0; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut payload).await.ok()?;
    Some(decode_payload(&payload).expect("valid frame from the provider"))
}

/// A test MQTT client standing in for Zigbee2MQTT.
async fn z2m_client(
    port: u16,
    subscribe: &str,
) -> (AsyncClient, mpsc::UnboundedReceiver<(String, String)>) {
    let mut o = MqttOptions::new(format!("fake-z2m-{}", rand_suffix()), "127.0.0.1", port);
    o.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut eventloop) = AsyncClient::new(o, 32);
    let (tx, rx) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let mut ready = Some(ready_tx);
    client
        .subscribe(subscribe, QoS::AtLeastOnce)
        .await
        .expect("queue subscribe");
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(rumqttc::Event::Incoming(Packet::SubAck(_))) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(());
                    }
                }
                Ok(rumqttc::Event::Incoming(Packet::Publish(p))) => {
                    let body = String::from_utf8_lossy(&p.payload).to_string();
                    if tx.send((p.topic, body)).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    timeout(WAIT, ready_rx)
        .await
        .expect("test client subscribed")
        .expect("suback");
    (client, rx)
}

async fn publish(client: &AsyncClient, topic: &str, payload: &str, retain: bool) {
    client
        .publish(topic, QoS::AtLeastOnce, retain, payload.as_bytes().to_vec())
        .await
        .expect("queue publish");
}

const DEVICES: &str = r#"[
  {"ieee_address":"0x00124b0021b7d5e1","type":"Coordinator","friendly_name":"Coordinator","definition":null},
  {"ieee_address":"0x000b57fffec6a5b2","type":"Router","friendly_name":"living/lamp",
   "definition":{"model":"LED1545G12","vendor":"IKEA","description":"TRADFRI bulb E26/E27, white spectrum",
     "exposes":[
       {"type":"light","features":[
         {"type":"binary","name":"state","property":"state","access":7,"value_on":"ON","value_off":"OFF","value_toggle":"TOGGLE"},
         {"type":"numeric","name":"brightness","property":"brightness","access":7,"value_min":0,"value_max":254},
         {"type":"numeric","name":"color_temp","property":"color_temp","access":7,"unit":"mired","value_min":250,"value_max":454}]},
       {"type":"numeric","name":"linkquality","label":"Linkquality","property":"linkquality","access":1,"unit":"lqi"}]}},
  {"ieee_address":"0x00158d0001a2b3c4","type":"EndDevice","friendly_name":"bedroom_climate",
   "definition":{"model":"WSDCGQ11LM","vendor":"Aqara","description":"Temperature and humidity sensor",
     "exposes":[
       {"type":"numeric","name":"temperature","label":"Temperature","property":"temperature","access":1,"unit":"°C"},
       {"type":"numeric","name":"humidity","label":"Humidity","property":"humidity","access":1,"unit":"%"},
       {"type":"numeric","name":"voltage","label":"Voltage","property":"voltage","access":1,"unit":"mV"}]}}
]"#;

fn write_of(m: &Message) -> Option<(u64, u32, Vec<Component>)> {
    match m {
        Message::WriteComponents(WriteComponents {
            device,
            entity,
            values,
        }) => Some((device.0, *entity, values.clone())),
        _ => None,
    }
}

fn availability(m: &Message) -> Option<(u64, bool)> {
    match m {
        Message::SetAvailability(SetAvailability { device, available }) => {
            Some((device.0, *available))
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zigbee2mqtt_devices_state_commands_and_broker_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut broker = Broker::start(dir.path());
    let (z2m, mut set_topics) = z2m_client(broker.port, "zigbee2mqtt/+/+/set").await;
    publish(&z2m, "zigbee2mqtt/bridge/devices", DEVICES, true).await;
    // Retained state published before the provider exists.
    publish(
        &z2m,
        "zigbee2mqtt/living/lamp",
        r#"{"state":"ON","brightness":127,"color_temp":370,"linkquality":87}"#,
        true,
    )
    .await;

    let config = format!(
        "broker = \"127.0.0.1:{}\"\nbase_topic = \"zigbee2mqtt\"\nkeep_alive_secs = 5\n",
        broker.port
    );
    let (process, mut core) = start_provider(dir.path(), &config).await;

    let lamp = core
        .expect("CreateDevice for the lamp", |m| match m {
            Message::CreateDevice(c) if c.key == "0x000b57fffec6a5b2" => {
                Some((c.name.clone(), c.attributes.clone()))
            }
            _ => None,
        })
        .await;
    assert_eq!(lamp.0, "living/lamp");
    assert!(
        lamp.1
            .contains(&("model".to_string(), "LED1545G12".to_string()))
    );
    let light = core
        .expect("the lamp's state", |m| {
            write_of(m).filter(|(d, e, v)| *d == 1 && *e == 0 && v.len() > 1)
        })
        .await;
    assert_eq!(
        light.2,
        vec![
            Component::Switch(true),
            Component::Brightness(50.0),
            Component::ColorTemperature(370)
        ]
    );

    // A state update for the sensor (after its device exists).
    core.expect("the sensor's entities", |m| match m {
        Message::RegisterEntity(r) if r.device.0 == 2 && r.name == "Voltage" => Some(()),
        _ => None,
    })
    .await;
    publish(
        &z2m,
        "zigbee2mqtt/bedroom_climate",
        r#"{"temperature":21.5,"humidity":"junk","voltage":2995}"#,
        false,
    )
    .await;
    let t = core
        .expect("the sensor's temperature", |m| {
            write_of(m).filter(|(d, e, _)| *d == 2 && *e == 0)
        })
        .await;
    assert_eq!(t.2, vec![Component::Temperature(21.5)]);
    let v = core
        .expect("the sensor's voltage", |m| {
            write_of(m).filter(|(d, e, _)| *d == 2 && *e == 2)
        })
        .await;
    assert_eq!(v.2, vec![Component::Voltage(2.995)]);

    // A change request becomes one /set publish.
    core.send(Message::WriteComponents(WriteComponents {
        device: DeviceId(1),
        entity: 0,
        values: vec![Component::Switch(true), Component::Brightness(50.0)],
    }));
    let (topic, body) = timeout(WAIT, set_topics.recv())
        .await
        .expect("a /set publish")
        .expect("test client alive");
    assert_eq!(topic, "zigbee2mqtt/living/lamp/set");
    assert_eq!(body, r#"{"brightness":127,"state":"ON"}"#);

    // Custom commands.
    core.send(Message::Custom(Custom {
        request_id: 41,
        command: "mqtt.status".into(),
        body: String::new(),
    }));
    let status = core
        .expect("mqtt.status reply", |m| match m {
            Message::CustomReply(r) if r.request_id == 41 => Some(r.body.clone()),
            _ => None,
        })
        .await;
    let status: serde_json::Value = serde_json::from_str(&status).expect("status is JSON");
    assert_eq!(status["connected"], true, "{status}");
    assert_eq!(status["devices"], 2, "{status}");
    assert_eq!(status["discovery"]["prefix"], "homeassistant", "{status}");
    core.send(Message::Custom(Custom {
        request_id: 42,
        command: "mqtt.frobnicate".into(),
        body: "{}".into(),
    }));
    let code = core
        .expect("unsupported reply", |m| match m {
            Message::Error(e) if e.request_id == 42 => Some(e.code),
            _ => None,
        })
        .await;
    assert_eq!(code, ErrorCode::UNSUPPORTED);

    // Broker restart: unavailable, then available, and subscribed again.
    broker.stop();
    // Forget the availability reports from device creation.
    core.seen.retain(|m| availability(m).is_none());
    let mut down = Vec::new();
    while down.len() < 2 {
        let a = core.expect("devices unavailable", availability).await;
        if !a.1 {
            down.push(a.0);
        }
    }
    down.sort();
    assert_eq!(down, [1, 2]);
    broker.restart();
    let mut up = Vec::new();
    while up.len() < 2 {
        let a = core.expect("devices available again", availability).await;
        if a.1 {
            up.push(a.0);
        }
    }
    up.sort();
    assert_eq!(up, [1, 2]);
    // The broker lost its retained messages; a fresh client republishes like Zigbee2MQTT does.
    let (z2m, _rx) = z2m_client(broker.port, "unused/#").await;
    // The provider subscribes right after its CONNACK; give it a moment.
    let mut got = None;
    for _ in 0..50 {
        publish(&z2m, "zigbee2mqtt/living/lamp", r#"{"state":"OFF"}"#, false).await;
        let r = tokio::time::timeout(Duration::from_millis(200), async {
            loop {
                match core.rx.recv().await {
                    Some(m) => {
                        if let Some(w) = write_of(&m).filter(|(d, e, _)| *d == 1 && *e == 0) {
                            return Some(w);
                        }
                    }
                    None => return None,
                }
            }
        })
        .await;
        if let Ok(w) = r {
            got = w;
            break;
        }
    }
    assert_eq!(
        got.map(|w| w.2),
        Some(vec![Component::Switch(false)]),
        "no state after the broker restart: the provider did not subscribe again\n{}",
        process.stderr()
    );

    // The core closes the connection: the provider exits 0.
    drop(core);
    let mut process = process;
    let status = wait_exit(&mut process.child).await;
    assert_eq!(status, Some(0), "{}", process.stderr());
}

async fn wait_exit(child: &mut Child) -> Option<i32> {
    for _ in 0..300 {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_config_exits_with_code_78_after_reporting_the_key() {
    for (config, needle) in [
        ("brokr = \"127.0.0.1:1883\"\n", "brokr"),
        ("broker = \"localhost\"\n", "broker = \"localhost\""),
        ("base_topic = \"z2m/#\"\n", "base_topic"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut process, _core) = start_provider(dir.path(), config).await;
        let status = wait_exit(&mut process.child).await;
        let stderr = process.stderr();
        assert_eq!(status, Some(78), "{config}: {stderr}");
        assert!(stderr.contains(needle), "{config}: {stderr}");
        assert!(stderr.contains("invalid [provider.config]"), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_broker_keeps_running_and_answers_status() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port(); // nothing listens there
    let config = format!("broker = \"127.0.0.1:{port}\"\n");
    let (mut process, mut core) = start_provider(dir.path(), &config).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        process.child.try_wait().ok().flatten(),
        None,
        "exited: {}",
        process.stderr()
    );
    core.send(Message::Custom(Custom {
        request_id: 7,
        command: "mqtt.status".into(),
        body: String::new(),
    }));
    let status = core
        .expect("mqtt.status reply", |m| match m {
            Message::CustomReply(r) if r.request_id == 7 => Some(r.body.clone()),
            _ => None,
        })
        .await;
    let status: serde_json::Value = serde_json::from_str(&status).expect("status is JSON");
    assert_eq!(status["connected"], false, "{status}");
    assert_eq!(status["devices"], 0, "{status}");
    assert_eq!(status["discovery"]["prefix"], "homeassistant", "{status}");
    assert!(
        process.stderr().contains("MQTT connection failed"),
        "{}",
        process.stderr()
    );
}
