//! What the hostile-provider tests attack (tests/tests/sandbox.rs for the
//! Rust hostile provider, tests/tests/python_provider.rs for the Python
//! one): a core running the confined `hostile`, its unconfined `baseline`
//! (the same program) and a sibling `victim`; a world-writable directory, a
//! world-connectable Unix socket, the core's abstract provider socket and
//! two TCP listeners (one the confined provider may reach), so that only the
//! sandbox can be what denies access to them.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::api::Api;
use super::core::{Core, CoreSettings, ProviderSpec, providers_toml};
use super::wait::TIMEOUT;

/// The running core and the targets; everything is removed on drop.
pub struct SandboxFixture {
    /// The core with `hostile`, `baseline` and `victim`.
    pub core: Core,
    /// A world-writable directory outside every data dir.
    pub outside: tempfile::TempDir,
    /// A file in the victim's data dir.
    pub other_file: PathBuf,
    /// A world-connectable pathname Unix socket.
    pub unix_path: PathBuf,
    _unix: UnixListener,
    /// The TCP listener `hostile` may connect to (its `tcp_connect`).
    pub allowed: TcpListener,
    /// A TCP listener it may not connect to.
    pub denied: TcpListener,
    /// The core's abstract provider socket (`@name`).
    pub abstract_name: String,
}

impl SandboxFixture {
    /// Starts the core with the providers `providers(allowed_port)` returns:
    /// (the confined `hostile`, whose `[provider.sandbox]` must hold
    /// `tcp_connect = [allowed_port]`, and the unconfined `baseline`), plus
    /// the `victim`, and waits until all three run.
    ///
    /// # Panics
    /// If a listener cannot be made or a provider does not come up.
    pub fn start(providers: impl FnOnce(u16) -> (ProviderSpec, ProviderSpec)) -> SandboxFixture {
        let allowed = TcpListener::bind("127.0.0.1:0").expect("bind");
        let denied = TcpListener::bind("127.0.0.1:0").expect("bind");
        let allowed_port = allowed.local_addr().expect("addr").port();
        let abstract_name = format!("igloo-test-{}-{allowed_port}", std::process::id());
        let (hostile, baseline) = providers(allowed_port);
        let settings = CoreSettings {
            extra_core: format!("provider_socket = \"@{abstract_name}\"\n"),
            ..CoreSettings::default()
        };
        let mut core = Core::start_with(
            settings,
            &providers_toml(&[hostile, baseline, ProviderSpec::test("victim", "good")]),
        );
        for p in ["hostile", "baseline", "victim"] {
            core.wait_provider_running(p, TIMEOUT);
        }
        let other_file = core.data_dir().join("providers/victim/secret");
        std::fs::write(&other_file, b"victim's secret").expect("write victim secret");
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::set_permissions(outside.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
        let unix_path = outside.path().join("service.sock");
        let unix = UnixListener::bind(&unix_path).expect("bind unix");
        std::fs::set_permissions(&unix_path, std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
        SandboxFixture {
            core,
            outside,
            other_file,
            unix_path,
            _unix: unix,
            allowed,
            denied,
            abstract_name,
        }
    }

    /// The `args` of a `check` command naming these targets.
    pub fn args(&self) -> Value {
        let victim = self.core.api().provider("victim").pid.expect("victim pid");
        json!({
            "other_file": self.other_file,
            "outside_dir": self.outside.path(),
            "escape_target": self.other_file,
            "pid": victim,
            "abstract": self.abstract_name,
            "unix_path": self.unix_path,
            "tcp_allowed": self.allowed.local_addr().expect("addr").to_string(),
            "tcp_denied": self.denied.local_addr().expect("addr").to_string(),
        })
    }
}

/// Runs `checks` in provider `name` and returns name → result object.
pub fn run_checks(
    core: &Core,
    name: &str,
    checks: &[&str],
    args: &Value,
) -> BTreeMap<String, Value> {
    run_checks_on(core.api(), name, checks, args)
}

/// [`run_checks`] through any API client (e.g. a QEMU guest's).
///
/// # Panics
/// If the command fails or its reply has no `results` object.
pub fn run_checks_on(
    api: &Api,
    name: &str,
    checks: &[&str],
    args: &Value,
) -> BTreeMap<String, Value> {
    let (status, reply) = api.command(name, "check", &json!({"checks": checks, "args": args}));
    assert_eq!(status, 200, "check command to {name}: {reply}");
    let results = reply["body"]["results"]
        .as_object()
        .unwrap_or_else(|| panic!("no results from {name}: {reply}"));
    results
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Asserts the confined run denied `check` with one of `errors`, and the
/// baseline run did it.
pub fn denied_with_baseline(
    confined: &BTreeMap<String, Value>,
    baseline: &BTreeMap<String, Value>,
    check: &str,
    errors: &[&str],
) {
    let c = &confined[check];
    let b = &baseline[check];
    assert_eq!(
        b["ok"],
        json!(true),
        "baseline {check} must succeed without the sandbox: {b}"
    );
    assert_eq!(
        c["ok"],
        json!(false),
        "{check} must be denied in the sandbox: {c}"
    );
    let err = c["error"].as_str().unwrap_or_default();
    assert!(
        errors.contains(&err),
        "{check} denied with {err}, expected one of {errors:?}: {c}"
    );
}
