//! Providers written in Python with the `igloo` package (the Rust SDK as a
//! PyO3 module, `providers/python`), run by Debian's `python3` under the
//! core's full sandbox (its own uid, Landlock, seccomp): the example
//! provider's devices, values, change requests (confirmed and refused),
//! custom commands and a restart with its ids kept; the SDK's errors as
//! Python exceptions; the stubs match the module (`mypy.stubtest`) and the
//! example passes `mypy --strict`; the generated component classes
//! (`igloo.registry`) match `components.toml`, are not stale, type-check and
//! carry values to the core's tree.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use igloo_tests::harness::fake::python;
use igloo_tests::harness::privileged::require_root;
use igloo_tests::harness::python::{Package, example, test_script};
use igloo_tests::harness::sandbox_fixture::{SandboxFixture, denied_with_baseline, run_checks};
use igloo_tests::{Core, TIMEOUT, providers_toml, wait_for};
use serde_json::json;

#[test]
fn hostile_python_actions_are_denied_in_the_sandbox_and_work_without_it() {
    if !require_root("hostile_python_actions_are_denied_in_the_sandbox_and_work_without_it") {
        return;
    }
    let package = Package::build();
    let script = test_script("hostile_provider.py");
    let f = SandboxFixture::start(|port| {
        (
            package.provider("hostile", &script, &format!("tcp_connect = [{port}]")),
            package
                .unconfined_provider("baseline", &script)
                .unconfined(),
        )
    });
    let args = f.args();
    let checks = [
        "read_shadow",
        "read_other_data",
        "list_root",
        "write_outside",
        "exec_sh",
        "exec_dropped",
        "signal_pid",
        "connect_abstract",
        "tcp_allowed",
        "tcp_denied",
        "userns",
    ];
    let confined = run_checks(&f.core, "hostile", &checks, &args);
    let baseline = run_checks(&f.core, "baseline", &checks, &args);
    let denied_with = |check: &str, errors: &[&str]| {
        denied_with_baseline(&confined, &baseline, check, errors);
    };
    for c in ["read_shadow", "read_other_data", "list_root"] {
        denied_with(c, &["EACCES"]);
    }
    denied_with("write_outside", &["EACCES", "EPERM"]);
    // Its interpreter lives in /usr/bin: the sandbox grants that file, not
    // the shell beside it.
    denied_with("exec_sh", &["EACCES"]);
    denied_with("exec_dropped", &["EACCES"]);
    denied_with("signal_pid", &["EPERM"]);
    denied_with("connect_abstract", &["EPERM"]);
    assert_eq!(
        confined["tcp_allowed"]["ok"], true,
        "{}",
        confined["tcp_allowed"]
    );
    denied_with("tcp_denied", &["EACCES"]);
    denied_with("userns", &["EPERM"]);
    assert_eq!(f.core.api().provider("victim").state, "running");
}

#[test]
fn the_python_example_provider_runs_confined_and_answers_change_requests() {
    let package = Package::build();
    let spec = package
        .provider("lamp", &example("lamp.py"), "")
        .config("interval_s", 0.2);
    let mut core = Core::start(&providers_toml(&[spec]));
    let api = core.api().clone();
    let lamp = api.wait_device_by_key("lamp-1");
    let meter = api.wait_device_by_key("thermometer-1");
    assert_eq!(lamp.name, "Desk lamp");
    assert_eq!(lamp.entity("Light").components["Switch"], json!(false));
    // The thermometer reports by itself.
    let first = meter.number("Temperature", "Temperature").unwrap_or(0.0);
    wait_for(TIMEOUT, "a newer temperature", || {
        let now = api
            .device(meter.id)
            .number("Temperature", "Temperature")
            .unwrap_or(0.0);
        (now > first)
            .then_some(())
            .ok_or(format!("{now} ≤ {first}"))
    });
    // A change request, confirmed by the provider.
    let path = format!("/api/v1/devices/{}/entities/Light?wait_ms=10000", lamp.id);
    let (status, body) = api
        .post(&path, &json!({"Switch": true, "Brightness": 70}))
        .expect("set");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["components"]["Switch"], true);
    assert_eq!(body["components"]["Brightness"], 70.0);
    // Refused by the provider, with its reason.
    let (status, body) = api.post(&path, &json!({"Brightness": 13})).expect("set");
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("13 % is unlucky"),
        "{body}"
    );
    // A custom command.
    let (status, body) = api.command("lamp", "example.status", &json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["body"]["lamp"]["Switch"], true, "{body}");
    let (status, body) = api.command("lamp", "example.nothing", &json!({}));
    assert_eq!(status, 422, "{body}");
    // Confined like any provider: its own uid, every layer.
    let p = api.provider("lamp");
    let sandbox = p.sandbox.clone().unwrap_or_default();
    for layer in ["uid", "landlock", "seccomp"] {
        assert_eq!(sandbox[layer]["enforced"], true, "{layer}: {sandbox}");
    }
    // Killed, it is restarted and keeps its ids.
    let pid = core.wait_provider_running("lamp", TIMEOUT);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill");
    wait_for(Duration::from_secs(30), "the provider to run again", || {
        let p = api.try_provider("lamp")?;
        (p.state == "running" && p.pid.is_some_and(|n| n != pid))
            .then_some(())
            .ok_or(format!("{p:?}"))
    });
    assert_eq!(api.wait_device_by_key("lamp-1").id, lamp.id);
    assert_eq!(api.wait_device_by_key("thermometer-1").id, meter.id);
}

/// The automation example (`threshold.py`, no devices of its own) watches
/// the tree and switches the lamp example's light on when the thermometer
/// example's temperature rises above 21 °C: tree events and a change request
/// through the core, from Python. The same automation with `tree = "read"`
/// sees the same crossing and is refused by the core; with a threshold that
/// is not a number it reports its config error (`report_config_error`) and
/// the core holds it at that line with exit status 78.
#[test]
fn the_python_automation_example_watches_the_tree_and_switches_the_lamp_on() {
    let package = Package::build();
    let automation = |name: &str, tree: &str| {
        package
            .provider(name, &example("threshold.py"), "")
            .line(&format!("tree = \"{tree}\""))
            .config("watch", "Thermometer/Temperature/Temperature")
            .config("above", 21.0)
            .config("switch_on", "Desk lamp/Light")
    };
    let specs = [
        package
            .provider("lamp", &example("lamp.py"), "")
            .config("interval_s", 0.2),
        automation("threshold", "control"),
        automation("reader", "read"),
        automation("misconfigured", "read").config("above", "warm"),
    ];
    let core = Core::start(&providers_toml(&specs));
    let api = core.api().clone();
    let lamp = api.wait_device_by_key("lamp-1");
    let meter = api.wait_device_by_key("thermometer-1");
    let status = |name: &str| -> Result<serde_json::Value, String> {
        let (code, body) = api.command(name, "threshold.status", &json!({}));
        (code == 200)
            .then(|| body["body"].clone())
            .ok_or(format!("{code} {body}"))
    };
    // An automation never fires for the value it found in the snapshot, and
    // the thermometer may pass 21 °C before both have theirs: once both know
    // the tree, the lamp provider starts over, its light off and its
    // thermometer from 20 °C, so each sees the crossing.
    for name in ["threshold", "reader"] {
        wait_for(TIMEOUT, format!("{name} synced"), || {
            let s = status(name)?;
            (s["devices"].as_u64().unwrap_or(0) >= 2)
                .then_some(())
                .ok_or(format!("{s}"))
        });
    }
    let before = api.provider("lamp").pid;
    let (code, body) = api.restart_provider("lamp");
    assert!((200..300).contains(&code), "{code} {body}");
    wait_for(TIMEOUT, "the lamp provider started over", || {
        let p = api.try_provider("lamp")?;
        (p.state == "running" && p.pid.is_some() && p.pid != before)
            .then_some(())
            .ok_or(format!("{p:?}"))
    });
    wait_for(TIMEOUT, "the lamp switched on by the automation", || {
        let d = api.device(lamp.id);
        let t = api.device(meter.id).number("Temperature", "Temperature");
        (d.entity("Light").components["Switch"] == json!(true))
            .then_some(())
            .ok_or(format!(
                "lamp {:?} at {t:?} °C",
                d.entity("Light").components
            ))
    });
    let status = |name: &str| status(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let s = status("threshold");
    // Once after the restart, and perhaps once before it; on the way up.
    assert!(matches!(s["fired"].as_u64(), Some(1 | 2)), "{s}");
    assert!(s["last"].as_f64().is_some_and(|t| t > 21.0), "{s}");
    assert_eq!(s["refused"], json!([]), "{s}");
    assert!(s["devices"].as_u64().unwrap_or(0) >= 2, "{s}");
    // With read access only, the same request is the core's FORBIDDEN.
    let s = wait_for(TIMEOUT, "the reader's request refused", || {
        let s = status("reader");
        (s["refused"].as_array().is_some_and(|r| !r.is_empty()))
            .then_some(s.clone())
            .ok_or(format!("{s}"))
    });
    assert_eq!(s["fired"], 0, "{s}");
    assert!(
        s["refused"][0]
            .as_str()
            .is_some_and(|m| m.contains("tree = \"control\"")),
        "{s}"
    );
    let p = wait_for(TIMEOUT, "the misconfigured automation held", || {
        let p = api.try_provider("misconfigured")?;
        (p.state == "config_error")
            .then_some(p.clone())
            .ok_or(format!("{p:?}"))
    });
    let problem = p.config_error.clone().expect("config_error is set");
    assert_eq!(problem["key"], "above", "{problem}");
    assert!(
        problem["message"]
            .as_str()
            .is_some_and(|m| m.contains("above must be a number, not 'warm'")),
        "{problem}"
    );
    let text = std::fs::read_to_string(core.config_path()).expect("the core's config");
    let line = text
        .lines()
        .position(|l| l.starts_with("above = \"warm\""))
        .map(|i| i as u64 + 1);
    assert_eq!(problem["line"].as_u64(), line, "{problem}");
    assert_eq!(p.exit.clone().expect("exit")["code"], 78, "{p:?}");
}

#[test]
fn component_errors_are_python_exceptions_that_name_what_was_expected() {
    let package = Package::build();
    let script =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/checks_provider.py");
    let core = Core::start(&providers_toml(&[package.provider("checks", &script, "")]));
    core.wait_log(TIMEOUT, &["checks done"]);
    let log = core.log().text();
    let checks: Vec<&str> = log.lines().filter(|l| l.contains("check ")).collect();
    assert_eq!(checks.len(), 4, "{checks:#?}");
    assert!(
        checks.iter().all(|l| l.contains("check ok:")),
        "{checks:#?}"
    );
    let d = core.api().wait_device_by_key("checks-1");
    assert_eq!(d.entity("Light").components["Brightness"], json!(40.5));
}

#[test]
fn the_stubs_match_the_module_and_the_example_is_strictly_typed() {
    let package = Package::build();
    for args in [
        vec!["-m", "mypy.stubtest", "igloo._igloo"],
        vec![
            "-m",
            "mypy",
            "--strict",
            &example("lamp.py").display().to_string(),
            &example("threshold.py").display().to_string(),
        ],
    ] {
        let out = Command::new(python())
            .args(&args)
            .env("PYTHONPATH", package.path())
            .env("MYPYPATH", package.path())
            .output()
            .expect("mypy");
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `python ARGS` (the test venv's) with `package` importable.
fn run_python(package: &Package, args: &[&str]) -> Output {
    Command::new(python())
        .args(args)
        .env("PYTHONPATH", package.path())
        .env("MYPYPATH", package.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap_or_else(|e| panic!("python {args:?}: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The workspace root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `providers/python/tools/gen_registry.py --check FILE`, with the wheel's module.
fn registry_check(package: &Package, file: &Path) -> Output {
    let tool = root().join("providers/python/tools/gen_registry.py");
    run_python(
        package,
        &[
            &tool.display().to_string(),
            "--check",
            &file.display().to_string(),
        ],
    )
}

#[test]
fn the_registry_classes_match_components_toml_and_a_stale_file_fails_the_check() {
    let package = Package::build();
    let toml = root().join("components.toml");
    let out = run_python(
        &package,
        &[
            &test_script("check_registry.py").display().to_string(),
            &toml.display().to_string(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    // The committed file and the one in the wheel are what the module generates.
    let committed = root().join("providers/python/python/igloo/registry.py");
    let shipped = package.path().join("igloo/registry.py");
    for file in [&committed, &shipped] {
        let out = registry_check(&package, file);
        assert!(out.status.success(), "{}: {}", file.display(), text(&out));
    }
    // The same check fails on a copy with one docstring changed.
    let source = std::fs::read_to_string(&committed).expect("registry.py");
    let stale = source.replacen("The entity is a light.", "The entity is a lamp.", 1);
    assert_ne!(stale, source, "the Light docstring is in registry.py");
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("registry.py");
    std::fs::write(&copy, stale).expect("write the stale copy");
    let out = registry_check(&package, &copy);
    assert!(!out.status.success(), "a stale copy passed: {}", text(&out));
    assert!(text(&out).contains("is stale"), "{}", text(&out));
    assert!(
        text(&out).contains("+    \"\"\"The entity is a light."),
        "{}",
        text(&out)
    );
}

#[test]
fn a_python_provider_writes_component_objects_into_the_tree_and_wrong_kinds_raise() {
    let package = Package::build();
    let core = Core::start(&providers_toml(&[package.provider(
        "registry",
        &test_script("registry_provider.py"),
        "",
    )]));
    core.wait_log(TIMEOUT, &["checks done"]);
    let log = core.log().text();
    let checks: Vec<&str> = log.lines().filter(|l| l.contains("check ")).collect();
    assert_eq!(checks.len(), 14, "{checks:#?}");
    assert!(
        checks.iter().all(|l| l.contains("check ok:")),
        "{checks:#?}"
    );
    let d = core.api().wait_device_by_key("registry-1");
    let light = &d.entity("Light").components;
    for (name, value) in [
        ("Light", json!(true)),
        ("Switch", json!(true)),
        ("Brightness", json!(40.0)),
        ("Color", json!("#ff8800")),
        ("ColorTemperature", json!(370)),
        ("Effect", json!("candle")),
    ] {
        assert_eq!(light[name], value, "{name}: {light:?}");
    }
    let cover = &d.entity("Cover").components;
    for (name, value) in [
        ("Cover", json!(true)),
        ("CoverState", json!("Opening")),
        ("CoverPosition", json!(50.5)),
    ] {
        assert_eq!(cover[name], value, "{name}: {cover:?}");
    }
    // remove_entity: the entity goes, the device and the others stay.
    assert_eq!(d.entity("Spare").components["Switch"], json!(false));
    let (code, body) = core
        .api()
        .command("registry", "registry.remove_spare", &json!({}));
    assert_eq!(code, 200, "{body}");
    let api = core.api().clone();
    let d = wait_for(TIMEOUT, "the entity Spare removed", || {
        let d = api.device(d.id);
        (!d.entities.contains_key("Spare"))
            .then_some(d.clone())
            .ok_or(format!("{:?}", d.entities.keys()))
    });
    assert!(d.entities.contains_key("Light") && d.entities.contains_key("Cover"));
}

#[test]
fn mypy_checks_values_against_the_registry_types() {
    let package = Package::build();
    let dir = tempfile::tempdir().expect("temp dir");
    let good = "from igloo.registry import Brightness, CoverState, Values\n\
        values: Values = {\"Brightness\": 40.0, \"CoverState\": \"Open\", \"Light\": True}\n\
        level: float | None = Brightness.of(values)\n\
        state = CoverState(\"Closed\")\n";
    let bad = "from igloo.registry import Brightness, CoverState, Values\n\
        values: Values = {\"Brightness\": \"high\"}\n\
        level: str | None = Brightness.of(values)\n\
        state = CoverState(\"Ajar\")\n";
    let check = |name: &str, code: &str| {
        let file = dir.path().join(name);
        std::fs::write(&file, code).expect("write");
        let out = run_python(
            &package,
            &[
                "-m",
                "mypy",
                "--strict",
                "--cache-dir",
                &dir.path().join("cache").display().to_string(),
                &file.display().to_string(),
            ],
        );
        (out.status.success(), text(&out))
    };
    let (ok, said) = check("good.py", good);
    assert!(ok, "{said}");
    let (ok, said) = check("bad.py", bad);
    assert!(!ok, "{said}");
    for line in [":2:", ":3:", ":4:"] {
        assert!(said.contains(&format!("bad.py{line}")), "{line}: {said}");
    }
}
