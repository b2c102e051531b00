//! A broken `igloo.toml` stops `igloo run` at once with an error naming the
//! file and the line, and a non-zero exit status; the API is never served.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use igloo_tests::{RefusedRun, bin, free_port, run_config};

/// Numbered config text: line `n` of the result is `lines[n - 1]`.
fn config(lines: &[&str]) -> String {
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

fn core_lines(port: u16) -> [String; 3] {
    [
        "[core]".to_string(),
        format!(
            "data_dir = \"{}\"",
            std::env::temp_dir().join("igloo-test-never-used").display()
        ),
        format!("api_listen = \"127.0.0.1:{port}\""),
    ]
}

/// `igloo run` exited non-zero, its output names the config file and
/// `line {line}`, and contains every needle; nothing listens on `port`.
fn assert_refused(run: &RefusedRun, port: u16, line: usize, needles: &[&str]) {
    let path = run.config_path.display().to_string();
    assert!(
        run.code.is_some_and(|c| c != 0),
        "`igloo run` on a broken config must exit non-zero, got {:?}; output:\n{}",
        run.code,
        run.output
    );
    let want_line = format!("line {line}");
    let error_line = run
        .output
        .lines()
        .find(|l| l.contains(&path))
        .unwrap_or_else(|| {
            panic!(
                "no output line names the config file {path}; output:\n{}",
                run.output
            )
        });
    assert!(
        error_line.contains(&want_line),
        "the error should point at {want_line}; got: {error_line}\nfull output:\n{}",
        run.output
    );
    for n in needles {
        assert!(
            error_line.contains(n),
            "the error should mention {n:?}; got: {error_line}"
        );
    }
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err(),
        "something listens on the API port {port} although the config was refused"
    );
}

#[test]
fn malformed_toml_is_refused_with_its_line() {
    let port = free_port();
    let [c1, c2, c3] = core_lines(port);
    let text = config(&[
        "# Igloo configuration",
        &c1,
        &c2,
        &c3,
        "",
        "[[provider]]",
        "name = \"mqtt", // line 7: unterminated string
        "exec = \"igloo-mqtt\"",
    ]);
    let run = run_config(&text);
    assert_refused(&run, port, 7, &[]);
}

#[test]
fn duplicate_provider_name_is_refused_with_its_line() {
    let port = free_port();
    let [c1, c2, c3] = core_lines(port);
    let exec = format!("exec = \"{}\"", bin("igloo-test-provider").display());
    let text = config(&[
        &c1,
        &c2,
        &c3,
        "",
        "[[provider]]",
        "name = \"twin\"",
        &exec,
        "",
        "[[provider]]",
        "name = \"twin\"", // line 10: the duplicate
        &exec,
    ]);
    let run = run_config(&text);
    assert_refused(&run, port, 10, &["twin"]);
}

#[test]
fn unknown_key_is_refused_with_its_line() {
    let port = free_port();
    let [c1, c2, c3] = core_lines(port);
    let text = config(&[
        &c1,
        &c2,
        &c3,
        "colour = \"blue\"", // line 4: not a [core] key
    ]);
    let run = run_config(&text);
    assert_refused(&run, port, 4, &["colour"]);
}

#[test]
fn provider_without_exec_is_refused_with_its_line() {
    let port = free_port();
    let [c1, c2, c3] = core_lines(port);
    let text = config(&[
        &c1,
        &c2,
        &c3,
        "",
        "[[provider]]", // line 5: the table lacking `exec`
        "name = \"lonely\"",
    ]);
    let run = run_config(&text);
    assert_refused(&run, port, 5, &["exec"]);
}

#[test]
fn provider_exec_not_found_is_refused_with_its_line() {
    let port = free_port();
    let [c1, c2, c3] = core_lines(port);
    let text = config(&[
        &c1,
        &c2,
        &c3,
        "",
        "[[provider]]",
        "name = \"ghost\"",
        "exec = \"/nonexistent/igloo-ghost\"", // line 7
    ]);
    let run = run_config(&text);
    assert_refused(&run, port, 7, &["/nonexistent/igloo-ghost"]);
}
