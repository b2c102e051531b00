//! The provider sandbox (issue 3, DESIGN §7), shown with the hostile provider
//! (`igloo-hostile`): every action is tried twice in the same core, by a
//! confined provider (denied) and by the same binary with the sandbox turned
//! off (the baseline, where it succeeds), so a denial is the sandbox's doing
//! and not a broken test. Needs root (CI runs as root).

use std::time::Duration;

use igloo_tests::harness::api::Provider;
use igloo_tests::harness::bins::bin;
use igloo_tests::harness::core::{Core, CoreSettings, ProviderSpec, providers_toml};
use igloo_tests::harness::privileged::require_root;
use igloo_tests::harness::sandbox_fixture::{SandboxFixture, denied_with_baseline, run_checks};
use igloo_tests::harness::wait::{TIMEOUT, wait_for};
use serde_json::json;

fn hostile(name: &str) -> ProviderSpec {
    ProviderSpec::new(name, bin("igloo-hostile"))
}

fn provider(core: &Core, name: &str) -> Provider {
    core.api().provider(name)
}

/// The shared fixture with `igloo-hostile` as `hostile` (confined, changed
/// by `extra_hostile`) and as `baseline` (unconfined).
fn fixture(extra_hostile: impl FnOnce(ProviderSpec) -> ProviderSpec) -> SandboxFixture {
    SandboxFixture::start(|port| {
        let confined =
            hostile("hostile").table(&format!("[provider.sandbox]\ntcp_connect = [{port}]"));
        (extra_hostile(confined), hostile("baseline").unconfined())
    })
}

#[test]
fn hostile_actions_are_denied_in_the_sandbox_and_work_without_it() {
    if !require_root("hostile_actions_are_denied_in_the_sandbox_and_work_without_it") {
        return;
    }
    let f = fixture(|p| p);
    let args = f.args();
    let checks = [
        "read_shadow",
        "read_other_data",
        "list_root",
        "write_outside",
        "rename_outside",
        "link_outside",
        "exec_sh",
        "exec_dropped",
        "symlink_escape",
        "mount",
        "signal_core",
        "signal_pid",
        "ptrace_pid",
        "ptrace_core",
        "connect_abstract",
        "connect_unix_path",
        "tcp_allowed",
        "tcp_denied",
        "userns",
        "netns",
        "io_uring",
        "bpf",
        "keyctl",
        "userfaultfd",
        "netlink",
        "packet",
        "vsock",
        "tfo_connect_opt",
    ];
    let confined = run_checks(&f.core, "hostile", &checks, &args);
    let baseline = run_checks(&f.core, "baseline", &checks, &args);

    // Filesystem (Landlock; the provider's own uid alone would not stop a
    // world-writable dir or the symlink).
    for c in [
        "read_shadow",
        "read_other_data",
        "list_root",
        "symlink_escape",
    ] {
        denied_with_baseline(&confined, &baseline, c, &["EACCES"]);
    }
    for c in ["write_outside", "rename_outside", "link_outside"] {
        denied_with_baseline(&confined, &baseline, c, &["EACCES", "EXDEV", "EPERM"]);
    }
    denied_with_baseline(&confined, &baseline, "exec_sh", &["EACCES"]);
    denied_with_baseline(&confined, &baseline, "exec_dropped", &["EACCES"]);
    denied_with_baseline(&confined, &baseline, "mount", &["EPERM"]);
    // Other processes: signals (Landlock scope, uid), ptrace (seccomp).
    for c in ["signal_core", "signal_pid", "ptrace_pid", "ptrace_core"] {
        denied_with_baseline(&confined, &baseline, c, &["EPERM"]);
    }
    // The core's abstract socket (Landlock scope) and a world-connectable
    // pathname socket (seccomp address families).
    denied_with_baseline(&confined, &baseline, "connect_abstract", &["EPERM"]);
    denied_with_baseline(
        &confined,
        &baseline,
        "connect_unix_path",
        &["EPERM", "EAFNOSUPPORT"],
    );
    // TCP ports (Landlock ABI 4): the allowed one works in both runs.
    assert_eq!(
        confined["tcp_allowed"]["ok"],
        json!(true),
        "{}",
        confined["tcp_allowed"]
    );
    denied_with_baseline(&confined, &baseline, "tcp_denied", &["EACCES"]);
    // Kernel attack surface (seccomp).
    for c in [
        "userns",
        "netns",
        "io_uring",
        "bpf",
        "keyctl",
        "userfaultfd",
        "netlink",
        "packet",
        "vsock",
        "tfo_connect_opt",
    ] {
        denied_with_baseline(&confined, &baseline, c, &["EPERM", "EAFNOSUPPORT"]);
    }
    // The sibling and the core are unharmed.
    assert_eq!(f.core.api().health().expect("health")["status"], "ok");
    assert_eq!(provider(&f.core, "victim").state, "running");
}

#[test]
fn confined_identity_is_its_own_uid_without_privileges_or_extra_fds() {
    if !require_root("confined_identity_is_its_own_uid_without_privileges_or_extra_fds") {
        return;
    }
    let f = fixture(|p| p);
    let (status, reply) = f.core.api().command("hostile", "identity", &json!({}));
    assert_eq!(status, 200, "{reply}");
    let id = &reply["body"];
    let p = provider(&f.core, "hostile");
    let uid = p.uid.expect("the API reports the provider's uid");
    assert!(
        (64000..=64999).contains(&uid),
        "uid {uid} from the default range"
    );
    assert_eq!(id["uid"], json!(uid), "{id}");
    assert_eq!(id["euid"], json!(uid), "{id}");
    assert_eq!(id["gid"], json!(uid), "{id}");
    assert_eq!(id["groups"], json!([]), "{id}");
    assert_eq!(id["no_new_privs"], json!(1), "{id}");
    assert_eq!(id["seccomp"], json!(2), "{id}");
    let cap = id["cap_eff"]
        .as_str()
        .unwrap_or("?")
        .trim_start_matches("0x");
    assert!(cap.chars().all(|c| c == '0'), "no capabilities: {id}");
    assert_eq!(id["inherited_fds"], json!([0, 1, 2, 3, 4]), "{id}");
    // The data dir is its own.
    let meta = std::fs::metadata(f.core.data_dir().join("providers/hostile")).expect("data dir");
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), uid);
    // Baseline: the unconfined one runs as root, proving the check reads real values.
    let (_, base) = f.core.api().command("baseline", "identity", &json!({}));
    assert_eq!(base["body"]["uid"], json!(0), "{base}");
    assert_eq!(base["body"]["seccomp"], json!(0), "{base}");
    // The API reports every layer enforced, and none for the baseline.
    let layers = p.sandbox.expect("sandbox layers");
    for l in ["uid", "landlock", "seccomp", "network", "cgroup", "rlimits"] {
        assert_eq!(layers[l]["enforced"], json!(true), "{l}: {layers}");
    }
    assert!(
        layers["landlock_abi"].as_i64().unwrap_or(0) >= 1,
        "{layers}"
    );
    let base_layers = provider(&f.core, "baseline")
        .sandbox
        .expect("baseline layers");
    assert_eq!(base_layers["enabled"], json!(false));
    assert_eq!(base_layers["landlock"]["enforced"], json!(false));
}

#[test]
fn fork_bomb_fd_exhaustion_and_huge_allocations_are_contained() {
    if !require_root("fork_bomb_fd_exhaustion_and_huge_allocations_are_contained") {
        return;
    }
    let f = fixture(|p| {
        p.table("[provider.limits]\npids = 32\nopen_files = 64\nmemory_mib = 64\naddress_space_mib = 2048")
    });
    let victim_pid = provider(&f.core, "victim").pid;
    let r = run_checks(
        &f.core,
        "hostile",
        &["fork_bomb", "fd_exhaust", "huge_alloc"],
        &json!({"fork_cap": 10000, "alloc_mib": 65536}),
    );
    assert_eq!(r["fork_bomb"]["ok"], json!(false), "{}", r["fork_bomb"]);
    assert_eq!(
        r["fork_bomb"]["error"],
        json!("EAGAIN"),
        "{}",
        r["fork_bomb"]
    );
    let made: u64 = r["fork_bomb"]["detail"]
        .as_str()
        .and_then(|d| {
            d.split(|c: char| !c.is_ascii_digit())
                .find(|s| !s.is_empty())
        })
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::MAX);
    assert!(
        made < 32,
        "at most pids=32 tasks, made {made}: {}",
        r["fork_bomb"]
    );
    assert_eq!(
        r["fd_exhaust"]["error"],
        json!("EMFILE"),
        "{}",
        r["fd_exhaust"]
    );
    assert_eq!(
        r["huge_alloc"]["error"],
        json!("ENOMEM"),
        "{}",
        r["huge_alloc"]
    );

    // Touching more than its memory limit gets it OOM-killed in its cgroup; the
    // core restarts it and nothing else notices.
    let before = provider(&f.core, "hostile");
    let _ = f.core.api().command(
        "hostile",
        "check",
        &json!({"checks": ["huge_alloc"], "args": {"alloc_mib": 1024, "touch_mib": 512}}),
    );
    let after = wait_for(
        TIMEOUT,
        "the hostile provider restarted after the OOM kill",
        || {
            let p = provider(&f.core, "hostile");
            if p.restarts > before.restarts && p.state == "running" {
                Ok(p)
            } else {
                Err(format!("{p:?}"))
            }
        },
    );
    let exit = after.last_exit.unwrap_or_default();
    assert!(exit.contains("SIGKILL") || exit.contains("OOM"), "{exit}");
    assert_eq!(f.core.api().health().expect("health")["status"], "ok");
    assert_eq!(
        provider(&f.core, "victim").pid,
        victim_pid,
        "the sibling kept running"
    );
    // The baseline (no cgroup) really could allocate and fork: prove the limits did it.
    let b = run_checks(
        &f.core,
        "baseline",
        &["huge_alloc"],
        &json!({"alloc_mib": 65536}),
    );
    assert_eq!(b["huge_alloc"]["ok"], json!(true), "{}", b["huge_alloc"]);
}

#[test]
fn confined_provider_dies_with_the_core() {
    if !require_root("confined_provider_dies_with_the_core") {
        return;
    }
    let mut f = fixture(|p| p);
    let pid = provider(&f.core, "hostile").pid.expect("pid");
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    f.core.kill();
    wait_for(
        Duration::from_secs(5),
        format!("provider {pid} to die with the core"),
        || {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Gone, or a zombie waiting for init to reap it.
            if stat.is_empty() || stat.contains(") Z ") {
                Ok(())
            } else {
                Err(stat)
            }
        },
    );
}

#[test]
fn untrusted_provider_is_not_started_without_landlock_unless_allowed() {
    if !require_root("untrusted_provider_is_not_started_without_landlock_unless_allowed") {
        return;
    }
    // landlock_max_abi = 0 makes this core behave as on a kernel without Landlock.
    let settings = CoreSettings {
        extra_core: "landlock_max_abi = 0\n".into(),
        ..CoreSettings::default()
    };
    let mut core = Core::start_with(
        settings,
        &providers_toml(&[
            hostile("strange").line("untrusted = true"),
            hostile("tolerated")
                .line("untrusted = true")
                .table("[provider.sandbox]\nallow_without_landlock = true"),
        ]),
    );
    core.wait_provider_running("tolerated", TIMEOUT);
    let tolerated = provider(&core, "tolerated").sandbox.expect("layers");
    assert_eq!(
        tolerated["landlock"]["enforced"],
        json!(false),
        "{tolerated}"
    );
    assert_eq!(tolerated["seccomp"]["enforced"], json!(true), "{tolerated}");
    let refused = wait_for(TIMEOUT, "the untrusted provider to be refused", || {
        let p = provider(&core, "strange");
        match &p.last_exit {
            Some(e) if e.contains("untrusted") => Ok(p),
            _ => Err(format!("{p:?}")),
        }
    });
    assert_ne!(refused.state, "running");
    assert!(refused.pid.is_none(), "never started: {refused:?}");
}

#[test]
fn untrusted_provider_cannot_opt_out_of_the_sandbox_silently() {
    if !require_root("untrusted_provider_cannot_opt_out_of_the_sandbox_silently") {
        return;
    }
    let core = Core::start(&providers_toml(&[
        hostile("careless").line("untrusted = true").unconfined(),
        ProviderSpec::test("fine", "good"),
    ]));
    let refused = wait_for(
        TIMEOUT,
        "the unconfined untrusted provider to be refused",
        || {
            let p = provider(&core, "careless");
            match &p.last_exit {
                Some(e) if e.contains("untrusted") && e.contains("disabled") => Ok(p),
                _ => Err(format!("{p:?}")),
            }
        },
    );
    assert!(refused.pid.is_none(), "{refused:?}");
    // The baseline: the same table without `untrusted` starts (see the fixture's `baseline`).
    wait_for(TIMEOUT, "the trusted provider next to it to run", || {
        let p = provider(&core, "fine");
        if p.state == "running" {
            Ok(())
        } else {
            Err(format!("{p:?}"))
        }
    });
}
