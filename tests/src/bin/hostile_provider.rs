//! `igloo-hostile`: a provider that, when asked, tries what the sandbox must
//! forbid and reports exactly what happened, so integration tests can show
//! each action denied inside the sandbox and working in a baseline run
//! without it. The checks live in `igloo_tests::hostile`.
//!
//! It connects through the SDK and answers `Custom` commands (JSON bodies and
//! replies):
//! - `check` `{"checks": ["name", ...], "args": {...}}` →
//!   `{"results": {"name": {"ok", "errno", "error", "detail"}}}`; the checks
//!   run one after another on a blocking thread, so the SDK keeps answering
//!   heartbeats meanwhile.
//! - `identity` → ids, groups, capabilities, no_new_privs, seccomp mode, open
//!   fds, `inherited_fds` (open when `main` started, before the runtime), Landlock ABI.
//! - `exit` → `{"exiting": true}`, then exits 0.
//!
//! It keeps the devices the core grants (by grant number) for `granted_tty`
//! and drops them when revoked. Run with `--exit0` it exits 0 at once (used by
//! the `exec_dropped` check on a copy of itself).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use igloo_provider::protocol::ErrorCode;
use igloo_provider::{Event, GrantedDevice, Provider};
use igloo_tests::hostile::{self, Args, Context, identity, log};
use serde_json::{Value, json};

/// How long `exit` waits for its reply to be written before exiting.
const EXIT_FLUSH: Duration = Duration::from_millis(300);

fn main() -> ExitCode {
    if std::env::args_os().nth(1).is_some_and(|a| a == "--exit0") {
        return ExitCode::SUCCESS;
    }
    // Before anything else opens an fd (the runtime's epoll and eventfd).
    let inherited = identity::open_fds();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            log(&format!("cannot start the runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(inherited)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log(&format!("exiting: {e}"));
            ExitCode::FAILURE
        }
    }
}

async fn run(inherited: Vec<i32>) -> Result<(), igloo_provider::SdkError> {
    let (provider, mut events) = Provider::connect("hostile", env!("CARGO_PKG_VERSION")).await?;
    let data_dir = match provider.data_dir() {
        d if d.as_os_str().is_empty() => std::env::var_os("IGLOO_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_default(),
        d => d.to_path_buf(),
    };
    log(&format!(
        "connected; data dir {}, inherited fds {inherited:?}",
        data_dir.display()
    ));
    let mut grants: BTreeMap<u32, GrantedDevice> = BTreeMap::new();
    while let Some(event) = events.next().await {
        match event {
            Event::Custom {
                request_id,
                command,
                body,
            } => match command.as_str() {
                "check" => check(&provider, request_id, &body, &data_dir, &grants).await?,
                "identity" => {
                    let reply = identity::identity(&inherited);
                    log(&format!("identity: {reply}"));
                    provider.reply_custom(request_id, reply.to_string()).await?;
                }
                "exit" => {
                    log("exit requested");
                    provider
                        .reply_custom(request_id, json!({"exiting": true}).to_string())
                        .await?;
                    tokio::time::sleep(EXIT_FLUSH).await;
                    std::process::exit(0);
                }
                other => {
                    provider
                        .reply_error(
                            request_id,
                            ErrorCode::UNSUPPORTED,
                            format!("unknown command {other:?} (check, identity, exit)"),
                        )
                        .await?;
                }
            },
            Event::Granted(device) => {
                log(&format!(
                    "granted device {} ({}) as grant {}, attributes {:?}",
                    device.name, device.grant, device.grant, device.attributes
                ));
                grants.insert(device.grant, device);
            }
            Event::Revoked { grant, reason } => {
                let known = grants.remove(&grant).is_some();
                log(&format!(
                    "grant {grant} revoked ({reason}); was known: {known}"
                ));
            }
            Event::Error { code, message } => {
                log(&format!("core reported error {}: {message}", code.0));
            }
            other => log(&format!("ignoring {other:?}")),
        }
    }
    log("the core closed the connection");
    Ok(())
}

/// Runs a `check` command on a blocking thread and replies with the results.
async fn check(
    provider: &Provider,
    request_id: u32,
    body: &str,
    data_dir: &std::path::Path,
    grants: &BTreeMap<u32, GrantedDevice>,
) -> Result<(), igloo_provider::SdkError> {
    let (names, args) = match parse_check(body) {
        Ok(parsed) => parsed,
        Err(why) => {
            log(&format!("bad check request: {why}"));
            return provider
                .reply_error(request_id, ErrorCode::INVALID, why)
                .await;
        }
    };
    let mut ctx = Context {
        data_dir: data_dir.to_path_buf(),
        grants: BTreeMap::new(),
    };
    if names.iter().any(|n| n == "granted_tty") {
        for (&n, device) in grants {
            match device.try_clone_fd() {
                Ok(fd) => {
                    ctx.grants.insert(n, fd);
                }
                Err(e) => log(&format!("cannot copy the fd of grant {n}: {e}")),
            }
        }
    }
    let ran = tokio::task::spawn_blocking(move || hostile::run_checks(&names, &args, &ctx)).await;
    match ran {
        Ok(results) => provider.reply_custom(request_id, results.to_string()).await,
        Err(e) => {
            log(&format!("the checks panicked: {e}"));
            provider
                .reply_error(
                    request_id,
                    ErrorCode::INTERNAL,
                    format!("checks panicked: {e}"),
                )
                .await
        }
    }
}

/// `{"checks": [...], "args": {...}}` → (names, args); `args` may be absent.
fn parse_check(body: &str) -> Result<(Vec<String>, Args), String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let names = v
        .get("checks")
        .and_then(Value::as_array)
        .ok_or("body needs \"checks\": [names]")?
        .iter()
        .map(|n| {
            n.as_str()
                .map(str::to_string)
                .ok_or("check names are strings")
        })
        .collect::<Result<Vec<String>, _>>()?;
    let args = match v.get("args") {
        None | Some(Value::Null) => Args::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => return Err(format!("\"args\" must be an object, got {other}")),
    };
    Ok((names, args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_check_bodies() {
        let (names, args) =
            parse_check(r#"{"checks": ["read_shadow", "mount"], "args": {"pid": 1}}"#).unwrap();
        assert_eq!(names, ["read_shadow", "mount"]);
        assert_eq!(args["pid"], 1);
        let (_, args) = parse_check(r#"{"checks": []}"#).unwrap();
        assert!(args.is_empty());
        assert!(parse_check("nope").is_err());
        assert!(parse_check(r#"{"checks": [1]}"#).is_err());
        assert!(parse_check(r#"{"checks": [], "args": 3}"#).is_err());
    }
}
