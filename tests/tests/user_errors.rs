//! What a user does wrong gets an answer they can act on, through the API and
//! the CLI: a typo in a provider's `[provider.config]` is shown with its line
//! in `igloo.toml` and is not retried forever.

use igloo_tests::{Core, ProviderSpec, TIMEOUT, bin, providers_toml, wait_for};

/// The 1-based line of the first line of `file` that starts with `prefix`.
fn line_of(file: &std::path::Path, prefix: &str) -> usize {
    let text = std::fs::read_to_string(file).expect("read the core's config");
    text.lines()
        .position(|l| l.starts_with(prefix))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{text}"))
}

#[test]
fn a_typo_in_a_provider_config_is_a_config_error_at_its_line_and_is_not_retried() {
    // `base_topic` must be a string: the MQTT provider refuses the section.
    let spec = ProviderSpec::new("mqtt", bin("igloo-mqtt"))
        .config("broker", "127.0.0.1:1")
        .config("base_topic", 5);
    let core = Core::start(&providers_toml(&[spec]));
    let api = core.api().clone();
    let p = wait_for(TIMEOUT, "the provider in config_error", || {
        let p = api.try_provider("mqtt")?;
        match p.state.as_str() {
            "config_error" => Ok(p),
            _ => Err(format!("{p:?}")),
        }
    });
    let config = core.config_path();
    let problem = p.config_error.clone().expect("config_error is set");
    assert_eq!(problem["key"], "base_topic", "{problem}");
    assert_eq!(problem["file"], config.display().to_string(), "{problem}");
    assert_eq!(
        problem["line"],
        line_of(config, "base_topic = 5"),
        "the line of the bad key in igloo.toml: {problem}"
    );
    let message = problem["message"].as_str().unwrap_or_default();
    assert!(message.contains("string"), "says what is expected: {message}");
    assert!(!message.contains('\n'), "one line: {message:?}");
    // What happened is what is reported: the provider's own exit status.
    let exit = p.exit.clone().expect("exit is set");
    assert_eq!(exit["code"], 78, "{exit}");
    assert_eq!(exit["signal"], serde_json::Value::Null, "{exit}");
    assert_eq!(p.pid, None);

    // The CLI says where and what to do.
    let out = core.cli(&["providers"]);
    out.assert_success();
    let place = format!("{}:{}", config.display(), problem["line"]);
    assert!(
        out.stdout.contains("config error") && out.stdout.contains(&place),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("igloo providers restart mqtt"), "{}", out.stdout);

    // Not retried: after several back-off periods (200 ms doubling), it still
    // waits, with one start in the log.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let p = api.provider("mqtt");
    assert_eq!((p.state.as_str(), p.restarts), ("config_error", 0), "{p:?}");
    let starts = |core: &Core| {
        core.log()
            .lines()
            .iter()
            .filter(|l| l.contains("provider=mqtt") && l.contains("lifecycle: started"))
            .count()
    };
    assert_eq!(starts(&core), 1, "{}", core.log().text());

    // A restart request starts it again (and it fails the same way).
    core.cli(&["providers", "restart", "mqtt"]).assert_success();
    wait_for(TIMEOUT, "a second start", || match starts(&core) {
        2 => Ok(()),
        n => Err(format!("{n} starts")),
    });
    wait_for(TIMEOUT, "config_error again", || {
        let p = api.try_provider("mqtt")?;
        match (p.state.as_str(), p.pid) {
            ("config_error", None) => Ok(()),
            _ => Err(format!("{p:?}")),
        }
    });
}
