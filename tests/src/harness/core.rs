//! The Igloo core (`igloo run`) under test: a generated `igloo.toml` with a
//! private data dir and a free loopback API port, a captured log, and
//! lifecycle control (SIGKILL, SIGTERM, restart on the same data and port).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

use crate::harness::api::Api;
use crate::harness::bins::{bin, bin_dir};
use crate::harness::cli::{CliOutput, igloo_with_token, igloo_with_token_input};
use crate::harness::events::EventStream;
use crate::harness::logfile::LogFile;
use crate::harness::mosquitto::{Mosquitto, terminate};
use crate::harness::ports::free_port;
use crate::harness::wait::{TIMEOUT, wait_for};

/// One `[[provider]]` table of the core config.
#[derive(Debug, Clone)]
pub struct ProviderSpec {
    /// Provider name (`[a-z0-9_-]`).
    pub name: String,
    /// Executable (absolute path).
    pub exec: PathBuf,
    /// Arguments.
    pub args: Vec<String>,
    /// `[provider.restart] initial_backoff_ms`.
    pub initial_backoff_ms: u64,
    /// `[provider.restart] max_backoff_ms`.
    pub max_backoff_ms: u64,
    /// `[provider.restart] stable_after_ms`.
    pub stable_after_ms: u64,
    /// `[provider.config]` entries, in order.
    pub config: Vec<(String, toml::Value)>,
    /// `network` (default `any` here, so tests never touch the host's nftables;
    /// the core's own default is `lan`).
    pub network: String,
    /// Extra provider-level `key = value` lines (e.g. `untrusted = true`).
    pub lines: Vec<String>,
    /// Extra sub-tables appended verbatim (e.g. `[provider.sandbox]`, `[[provider.grant]]`).
    pub tables: Vec<String>,
}

impl ProviderSpec {
    /// A provider running `exec`, with short back-off (200 ms doubling to 2 s,
    /// reset after 60 s).
    pub fn new(name: &str, exec: PathBuf) -> ProviderSpec {
        ProviderSpec {
            name: name.to_string(),
            exec,
            args: Vec::new(),
            initial_backoff_ms: 200,
            max_backoff_ms: 2_000,
            stable_after_ms: 60_000,
            config: Vec::new(),
            network: "any".to_string(),
            lines: Vec::new(),
            tables: Vec::new(),
        }
    }

    /// Sets `network = "<policy>"`.
    pub fn network(mut self, policy: &str) -> ProviderSpec {
        self.network = policy.to_string();
        self
    }

    /// Adds a provider-level `key = value` line (value is TOML text).
    pub fn line(mut self, line: &str) -> ProviderSpec {
        self.lines.push(line.to_string());
        self
    }

    /// Appends a sub-table, e.g. `"[provider.sandbox]\nenabled = false"`.
    pub fn table(mut self, toml: &str) -> ProviderSpec {
        self.tables.push(toml.to_string());
        self
    }

    /// Runs the provider without any confinement (`[provider.sandbox] enabled = false`):
    /// the baseline of the sandbox tests.
    pub fn unconfined(self) -> ProviderSpec {
        self.table("[provider.sandbox]\nenabled = false")
    }

    /// The MQTT provider (`igloo-mqtt`) on `broker` with base topic `zigbee2mqtt`.
    pub fn mqtt(name: &str, broker: &Mosquitto) -> ProviderSpec {
        ProviderSpec::new(name, bin("igloo-mqtt"))
            .config("broker", broker.address())
            .config("base_topic", "zigbee2mqtt")
    }

    /// The test provider (`igloo-test-provider`) in `mode` (set in `[provider.config]`).
    pub fn test(name: &str, mode: &str) -> ProviderSpec {
        ProviderSpec::new(name, bin("igloo-test-provider")).config("mode", mode)
    }

    /// Sets a `[provider.config]` entry (replacing an earlier value of `key`).
    pub fn config(mut self, key: &str, value: impl Into<toml::Value>) -> ProviderSpec {
        let value = value.into();
        match self.config.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => self.config.push((key.to_string(), value)),
        }
        self
    }

    /// Adds a command-line argument.
    pub fn arg(mut self, arg: &str) -> ProviderSpec {
        self.args.push(arg.to_string());
        self
    }

    /// Sets the restart back-off.
    pub fn backoff(mut self, initial_ms: u64, max_ms: u64) -> ProviderSpec {
        self.initial_backoff_ms = initial_ms;
        self.max_backoff_ms = max_ms;
        self
    }

    /// The `[[provider]]` table as TOML text.
    pub fn to_toml(&self) -> String {
        self.render(false)
    }

    /// The `[[provider]]` table in the schema of the first release's core
    /// (`protocol-v1`, which refuses unknown keys): without `network`. Extra
    /// lines and tables are still written verbatim.
    pub fn to_toml_v1(&self) -> String {
        self.render(true)
    }

    fn render(&self, legacy_v1: bool) -> String {
        let s = |v: &str| toml::Value::String(v.to_string()).to_string();
        let args: Vec<String> = self.args.iter().map(|a| s(a)).collect();
        let network = if legacy_v1 {
            String::new()
        } else {
            format!("network = {}\n", s(&self.network))
        };
        let mut out = format!(
            "[[provider]]\nname = {}\nexec = {}\nargs = [{}]\n{network}{}\n[provider.restart]\n\
             initial_backoff_ms = {}\nmax_backoff_ms = {}\nstable_after_ms = {}\n\n[provider.config]\n",
            s(&self.name),
            s(&self.exec.to_string_lossy()),
            args.join(", "),
            self.lines
                .iter()
                .map(|l| format!("{l}\n"))
                .collect::<String>(),
            self.initial_backoff_ms,
            self.max_backoff_ms,
            self.stable_after_ms,
        );
        for (k, v) in &self.config {
            out.push_str(&format!("{k} = {v}\n"));
        }
        out.push('\n');
        for t in &self.tables {
            out.push_str(t);
            out.push_str("\n\n");
        }
        out
    }
}

/// The `[[provider]]` tables for `specs`.
pub fn providers_toml(specs: &[ProviderSpec]) -> String {
    specs.iter().map(ProviderSpec::to_toml).collect()
}

/// The `[[provider]]` tables for `specs` in the first release's schema
/// (see [`ProviderSpec::to_toml_v1`]), for a core started with
/// [`CoreSettings::legacy_v1`].
pub fn providers_toml_v1(specs: &[ProviderSpec]) -> String {
    specs.iter().map(ProviderSpec::to_toml_v1).collect()
}

/// Core timing settings written to `[core]`.
#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// `heartbeat_interval_ms`.
    pub heartbeat_interval_ms: u64,
    /// `heartbeat_timeout_ms`.
    pub heartbeat_timeout_ms: u64,
    /// Write `provider_socket = "<tempdir>/providers.sock"` (see [`Core::provider_socket`]).
    pub provider_socket: bool,
    /// Extra `[core]` lines, verbatim (e.g. `sysfs_root = "..."`).
    pub extra_core: String,
    /// Extra top-level tables written after `[core]`, verbatim (e.g. an
    /// `[ota]` section from [`crate::harness::ota::FakeBoard::ota_toml`]).
    pub extra_toml: String,
    /// The core executable; `None` = today's `igloo` from the target dir.
    /// See [`Core::start_release`] for a released core.
    pub binary: Option<PathBuf>,
    /// Write only what the first release's config schema accepts (its
    /// `[core]` refuses unknown keys): no `cgroup` and `nft_table`. The
    /// provider tables must then come from [`providers_toml_v1`].
    pub legacy_v1: bool,
    /// `RUST_LOG` for the core (it wins over `[core] log`, which comes from
    /// `IGLOO_TEST_LOG`); `None` = the test's own environment.
    pub rust_log: Option<String>,
    /// How authentication is set up (ignored for a released core, which has none).
    pub auth: AuthMode,
}

/// How the harness sets up a core's authentication (docs/security.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Onboard the owner ([`OWNER`], [`OWNER_PASSWORD`]) with the setup code,
    /// log in for an `admin` token and send it with every request of
    /// [`Core::api`], [`Core::cli`] and [`Core::events`] (the default).
    Owner,
    /// Leave the core as a fresh gateway is: no owner, no token.
    Fresh,
}

/// The owner the harness onboards.
pub const OWNER: &str = "owner";
/// The owner's password in tests (a test value, never a real secret).
pub const OWNER_PASSWORD: &str = "test-owner-password-7f3a";

impl Default for CoreSettings {
    fn default() -> CoreSettings {
        CoreSettings {
            heartbeat_interval_ms: 200,
            heartbeat_timeout_ms: 1_500,
            provider_socket: false,
            extra_core: String::new(),
            extra_toml: String::new(),
            binary: None,
            legacy_v1: false,
            rust_log: None,
            auth: AuthMode::Owner,
        }
    }
}

/// A running core. Killed on drop (with the providers it left behind); its log
/// tail is printed when the test is failing.
pub struct Core {
    dir: TempDir,
    config_path: PathBuf,
    port: u16,
    log: LogFile,
    api: Api,
    child: Option<Child>,
    /// Provider pids seen while this core ran, checked for leftovers on drop.
    provider_pids: HashSet<u32>,
    /// The core's `[core] cgroup` name, removed on drop.
    cgroup: String,
    /// The core executable ([`CoreSettings::binary`]).
    binary: Option<PathBuf>,
    /// [`CoreSettings::rust_log`].
    rust_log: Option<String>,
    /// The core's local socket (`[auth] local_socket`), for today's core.
    local_socket: PathBuf,
    /// [`CoreSettings::auth`].
    auth: AuthMode,
}

impl Core {
    /// Starts a core with the given `[[provider]]` tables on a fresh data dir
    /// and waits for `GET /api/v1/health`.
    pub fn start(providers_toml: &str) -> Core {
        Core::start_with(CoreSettings::default(), providers_toml)
    }

    /// A core built from the source of release `tag` (see [`crate::harness::compat`];
    /// built on first use) with the given `[[provider]]` tables, which must be
    /// in that release's schema ([`providers_toml_v1`] for `protocol-v1`).
    pub fn start_release(tag: &str, providers_toml: &str) -> Core {
        let settings = CoreSettings {
            binary: Some(crate::harness::compat::release_bin(tag, "igloo")),
            legacy_v1: true,
            ..CoreSettings::default()
        };
        Core::start_with(settings, providers_toml)
    }

    /// [`Core::start`] with explicit timing settings.
    pub fn start_with(settings: CoreSettings, providers_toml: &str) -> Core {
        let dir = tempfile::Builder::new()
            .prefix("igloo-test-core-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir for the core: {e}"));
        // Providers may run under their own uid: let them traverse to their data dirs.
        set_mode(dir.path(), 0o755);
        let data = dir.path().join("data");
        std::fs::create_dir(&data)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", data.display()));
        set_mode(&data, 0o755);
        let port = free_port();
        let log_filter = std::env::var("IGLOO_TEST_LOG").unwrap_or_else(|_| "info".to_string());
        let s = |v: &str| toml::Value::String(v.to_string()).to_string();
        let socket = if settings.provider_socket {
            format!(
                "provider_socket = {}\n",
                s(&dir.path().join("providers.sock").to_string_lossy())
            )
        } else {
            String::new()
        };
        // Each core gets its own cgroup parent and nftables table name, so
        // cores of tests running in parallel never share or remove each other's.
        let unique = format!("igloo-test-{}-{}", std::process::id(), port);
        let cgroup = if settings.legacy_v1 || settings.extra_core.contains("cgroup =") {
            String::new()
        } else {
            format!("cgroup = {}\n", s(&unique))
        };
        let table = if settings.legacy_v1 || settings.extra_core.contains("nft_table =") {
            String::new()
        } else {
            format!("nft_table = {}\n", s(&unique))
        };
        // Each core its own local socket: the default, /run/igloo/api.sock,
        // would be shared by the cores of tests running in parallel.
        let local_socket = dir.path().join("api.sock");
        let auth = if settings.legacy_v1 || settings.extra_toml.contains("[auth]") {
            String::new()
        } else {
            format!(
                "[auth]\nlocal_socket = {}\n",
                s(&local_socket.to_string_lossy())
            )
        };
        let config = format!(
            "# Written by the igloo-tests harness.\n[core]\n{cgroup}{table}data_dir = {}\napi_listen = {}\n\
             heartbeat_interval_ms = {}\nheartbeat_timeout_ms = {}\nlog = {}\n{socket}{}\n\n{auth}{}\n\n{providers_toml}",
            s(&data.to_string_lossy()),
            s(&format!("127.0.0.1:{port}")),
            settings.heartbeat_interval_ms,
            settings.heartbeat_timeout_ms,
            s(&log_filter),
            settings.extra_core,
            settings.extra_toml,
        );
        let config_path = dir.path().join("igloo.toml");
        std::fs::write(&config_path, config)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", config_path.display()));
        let log = LogFile::new(dir.path().join("core.log"));
        let mut core = Core {
            cgroup: unique,
            dir,
            config_path,
            port,
            log,
            api: Api::new(format!("http://127.0.0.1:{port}")),
            child: None,
            provider_pids: HashSet::new(),
            binary: settings.binary,
            rust_log: settings.rust_log,
            local_socket,
            auth: settings.auth,
        };
        core.spawn();
        core
    }

    /// With [`AuthMode::Owner`] and no token yet: onboards the owner when
    /// the core asks for it (a released core without authentication does
    /// not know the route and is left alone).
    fn onboard_if_asked(&mut self) {
        if self.auth != AuthMode::Owner || self.api.token().is_some() {
            return;
        }
        if let Ok((200, v)) = self.api.get("/api/v1/auth/onboarding")
            && v["needed"] == true
        {
            let token = crate::harness::auth::onboard(&self.api, &self.data_dir());
            self.api = self.api.with_token(Some(&token));
        }
    }

    fn spawn(&mut self) {
        let exe = self.binary.clone().unwrap_or_else(|| bin("igloo"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log.path())
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.log.path().display()));
        let log2 = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot clone the log file handle: {e}"));
        let mut command = Command::new(&exe);
        if let Some(filter) = &self.rust_log {
            command.env("RUST_LOG", filter);
        }
        let child = command
            .arg("run")
            .arg("--config")
            .arg(&self.config_path)
            .env("NO_COLOR", "1")
            .env("RUST_BACKTRACE", "1")
            .env_remove("IGLOO_API")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        self.child = Some(child);
        let started = Instant::now();
        loop {
            if self.api.health().is_ok() {
                self.onboard_if_asked();
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "`igloo run --config {}` exited with {status} before serving /api/v1/health; log:\n{}",
                    self.config_path.display(),
                    self.log.tail(40)
                );
            }
            if started.elapsed() > TIMEOUT {
                panic!(
                    "`igloo run` did not answer GET /api/v1/health on 127.0.0.1:{} within {:?}; log:\n{}",
                    self.port,
                    TIMEOUT,
                    self.log.tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The API client.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// The API base URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> &str {
        self.api.base()
    }

    /// The core's captured stdout and stderr (provider stderr included).
    pub fn log(&self) -> &LogFile {
        &self.log
    }

    /// Whether the log has a line containing `needle`.
    pub fn log_contains(&self, needle: &str) -> bool {
        self.log.contains(needle)
    }

    /// Waits for a log line containing every needle and returns it.
    pub fn wait_log(&self, timeout: Duration, needles: &[&str]) -> String {
        self.log.wait_line(timeout, needles)
    }

    /// The socket for providers started by hand, when [`CoreSettings::provider_socket`] is set.
    pub fn provider_socket(&self) -> PathBuf {
        self.dir.path().join("providers.sock")
    }

    /// The generated config file.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The core's data dir.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The core executable this harness runs.
    pub fn binary(&self) -> PathBuf {
        self.binary.clone().unwrap_or_else(|| bin("igloo"))
    }

    /// The core's pid.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Opens the event stream.
    pub fn events(&self) -> EventStream {
        EventStream::connect_with(self.url(), self.api.token())
    }

    /// Runs `igloo --api <this core> <args…>` with this core's token (if any).
    pub fn cli(&self, args: &[&str]) -> CliOutput {
        igloo_with_token(self.url(), self.api.token(), args)
    }

    /// [`Core::cli`] with `input` written to the CLI's stdin (a pipe).
    pub fn cli_with_input(&self, args: &[&str], input: &str) -> CliOutput {
        igloo_with_token_input(self.url(), self.api.token(), args, Some(input))
    }

    /// The API client without credentials (what anyone on the LAN has).
    pub fn anonymous_api(&self) -> Api {
        self.api.with_token(None)
    }

    /// The admin token the harness made (with [`AuthMode::Owner`]).
    pub fn token(&self) -> Option<&str> {
        self.api.token()
    }

    /// The core's local socket (`[auth] local_socket`).
    pub fn local_socket(&self) -> &Path {
        &self.local_socket
    }

    /// The pid of provider `name` once it is `running` with a pid.
    pub fn wait_provider_running(&mut self, name: &str, timeout: Duration) -> u32 {
        let api = self.api.clone();
        let pid = wait_for(timeout, format!("provider {name} to be running"), || {
            let all = api.try_get_ok::<Vec<crate::harness::api::Provider>>("/api/v1/providers")?;
            match all.iter().find(|p| p.name == name) {
                Some(p) if p.state == "running" && p.pid.is_some() => Ok(p.pid.unwrap_or_default()),
                Some(p) => Err(format!("{p:?}")),
                None => Err(format!("not listed: {all:?}")),
            }
        });
        self.provider_pids.insert(pid);
        pid
    }

    fn remember_provider_pids(&mut self) {
        if let Ok(all) = self
            .api
            .try_get_ok::<Vec<crate::harness::api::Provider>>("/api/v1/providers")
        {
            self.provider_pids.extend(all.iter().filter_map(|p| p.pid));
        }
    }

    /// SIGKILLs the core and reaps it.
    pub fn kill(&mut self) -> Option<ExitStatus> {
        self.remember_provider_pids();
        let status = self.child.take().and_then(|mut c| {
            let _ = c.kill();
            c.wait().ok()
        });
        self.log.mark("core killed with SIGKILL");
        status
    }

    /// SIGTERMs the core and waits up to 10 s for it to exit (then SIGKILL).
    pub fn stop(&mut self) -> Option<ExitStatus> {
        self.remember_provider_pids();
        let status = self
            .child
            .take()
            .and_then(|mut c| terminate(&mut c, Duration::from_secs(10)));
        let how = status.map_or_else(|| "was not running".to_string(), |s| s.to_string());
        self.log.mark(&format!("core stopped with SIGTERM: {how}"));
        status
    }

    /// Stops the core (SIGTERM) if it runs and starts it again with the same
    /// config, data dir and port.
    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
        self.start_again();
    }

    /// Stops the core (SIGTERM) if it runs and starts `binary` (`None` =
    /// today's `igloo`) on the same config, data dir and port: a system
    /// update, or a rollback to an older core.
    pub fn restart_as(&mut self, binary: Option<PathBuf>) {
        if self.child.is_some() {
            self.stop();
        }
        self.binary = binary;
        self.start_again();
    }

    /// Starts the core again after [`Core::kill`] or [`Core::stop`].
    pub fn start_again(&mut self) {
        self.log.mark("core starting again");
        self.spawn();
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        self.drop_inner();
        remove_cgroups(&self.cgroup);
    }
}

/// Removes what a killed core may have left of its cgroups (the `cgroup`
/// parent under each hierarchy): kills the processes still in them, then
/// removes the directories.
fn remove_cgroups(parent: &str) {
    for root in [
        "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/pids",
        "/sys/fs/cgroup",
        "/sys/fs/cgroup/unified",
    ] {
        let dir = Path::new(root).join(parent);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let sub = e.path();
            if !sub.is_dir() {
                continue;
            }
            for _ in 0..50 {
                let procs = std::fs::read_to_string(sub.join("cgroup.procs")).unwrap_or_default();
                let pids: Vec<i32> = procs
                    .lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect();
                if pids.is_empty() {
                    break;
                }
                for pid in pids {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = std::fs::remove_dir(&sub);
        }
        let _ = std::fs::remove_dir(&dir);
    }
}

impl Core {
    fn drop_inner(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "----- igloo core log tail ({}) -----\n{}\n-----",
                self.log.path().display(),
                self.log.tail(80)
            );
        }
        if self.child.is_some() {
            self.stop();
        }
        // Providers that outlived the core (they should not: PR_SET_PDEATHSIG)
        // must not outlive the test. Only pids running one of our binaries
        // (today's or a release's).
        let ours = [bin_dir(), crate::harness::compat::compat_root()];
        for pid in &self.provider_pids {
            let exe = std::fs::read_link(format!("/proc/{pid}/exe"));
            if exe.is_ok_and(|e| ours.iter().any(|o| e.starts_with(o)))
                && let Ok(raw) = i32::try_from(*pid)
            {
                let _ = kill(Pid::from_raw(raw), Signal::SIGKILL);
            }
        }
    }
}

/// The outcome of `igloo run` on a config that should be refused.
#[derive(Debug)]
pub struct RefusedRun {
    /// Where the config was written.
    pub config_path: PathBuf,
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// stdout and stderr together.
    pub output: String,
    _dir: TempDir,
}

/// Writes `config` to a fresh `igloo.toml` and runs `igloo run --config` on
/// it, expecting it to exit by itself within 10 s.
///
/// # Panics
/// If it keeps running (it is then killed).
pub fn run_config(config: &str) -> RefusedRun {
    let dir = tempfile::Builder::new()
        .prefix("igloo-test-config-")
        .tempdir()
        .unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
    let config_path = dir.path().join("igloo.toml");
    std::fs::write(&config_path, config)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", config_path.display()));
    let out_path = dir.path().join("output.log");
    let out = std::fs::File::create(&out_path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", out_path.display()));
    let out2 = out
        .try_clone()
        .unwrap_or_else(|e| panic!("cannot clone the log file handle: {e}"));
    let exe = bin("igloo");
    let mut child = Command::new(&exe)
        .arg("run")
        .arg("--config")
        .arg(&config_path)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(out2)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`igloo run` kept running on an invalid config instead of exiting; config:\n{config}\noutput:\n{}",
                LogFile::new(&out_path).text()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    RefusedRun {
        config_path,
        code: status.code(),
        output: LogFile::new(&out_path).text(),
        _dir: dir,
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}
