//! `igloo`: the Igloo core daemon (`igloo run`) and its command-line client
//! (`igloo devices`, `igloo set`, …), one binary. See ARCHITECTURE.md.

mod api;
mod auth;
mod cli;
mod clock;
mod config;
mod daemon;
mod events;
mod fsutil;
mod grants;
mod history;
mod logs;
mod mdns;
mod ota;
mod provider_log;
mod sandbox;
mod store;
mod supervisor;
mod tree;
mod versions;
mod watchdog;
mod wifi;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Igloo home-automation gateway.
#[derive(Parser)]
#[command(version, about, propagate_version = true)]
struct Cli {
    /// API base URL used by the client subcommands
    /// [default: the local socket when it answers, else http://127.0.0.1:8080].
    #[arg(long, global = true, env = "IGLOO_API")]
    api: Option<String>,
    /// API token (`igloo tokens create`, or stored by `igloo login`).
    #[arg(long, global = true, env = "IGLOO_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The core's local socket, used by root on the gateway without a token.
    #[arg(
        long,
        global = true,
        env = "IGLOO_SOCKET",
        default_value = auth::settings::DEFAULT_LOCAL_SOCKET
    )]
    socket: PathBuf,
    /// Print raw JSON (for scripts).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the core: supervise providers and serve the HTTP API.
    Run {
        /// Configuration file (TOML, see docs/configuration.md).
        #[arg(
            long,
            short,
            env = "IGLOO_CONFIG",
            default_value = "/etc/igloo/igloo.toml"
        )]
        config: PathBuf,
    },
    /// List devices.
    Devices,
    /// Show one device with its entities and values.
    Device {
        /// Device id.
        id: u64,
    },
    /// Request a change: `igloo set 3 Light Switch=true Brightness=40`.
    Set {
        /// Device id.
        id: u64,
        /// Entity name.
        entity: String,
        /// Component=value pairs (values: JSON, or plain text).
        #[arg(required = true, value_name = "COMPONENT=VALUE")]
        values: Vec<String>,
        /// Wait until the provider confirms the new state or refuses it
        /// (the default when stdout is a terminal).
        #[arg(long, conflicts_with = "no_wait")]
        wait: bool,
        /// Return once the request is sent.
        #[arg(long)]
        no_wait: bool,
        /// How long to wait for the confirmation, seconds (at most 60).
        #[arg(long, default_value_t = 10, value_name = "SECS")]
        timeout: u64,
    },
    /// List providers with their state, pid, restarts and last exit.
    Providers {
        #[command(subcommand)]
        action: Option<ProvidersAction>,
    },
    /// Stream changes as they happen.
    Watch,
    /// Show what confines each provider (Landlock, seccomp, uid, network,
    /// cgroup) and why a layer is missing, the host's sandbox support, and the
    /// serial ports with who holds them. Asks the running core.
    Doctor,
    /// The core's and providers' log, kept on the data partition across
    /// reboots (admin): the last lines, then new ones with `--follow`.
    Logs {
        /// Only this provider's lines.
        #[arg(long)]
        provider: Option<String>,
        /// How many of the last lines (1-5000).
        #[arg(long, short = 'n', default_value_t = 200, value_name = "N")]
        lines: usize,
        /// Keep printing lines as they are logged.
        #[arg(long, short)]
        follow: bool,
    },
    /// Send a provider-specific command: `igloo command mqtt mqtt.status`.
    #[command(name = "command")]
    Custom {
        /// Provider name.
        provider: String,
        /// Command name.
        command: String,
        /// Argument: JSON (default `{}`).
        body: Option<String>,
    },
    /// Over-the-air updates of the gateway's system (RAUC A/B slots):
    /// `igloo ota status`, `igloo ota install bundle.raucb`.
    Ota {
        #[command(subcommand)]
        action: OtaAction,
    },
    /// Create the owner's account on a new gateway, with the setup code
    /// from its console (or, as root on it, `/data/igloo/setup-code`).
    Onboard {
        /// The setup code (`ABCD-EFGH-JKMN`).
        #[arg(long)]
        code: String,
        /// The owner's user name (asked when not given).
        #[arg(long)]
        user: Option<String>,
    },
    /// Log in as the owner and keep a token for this API in
    /// ~/.config/igloo/tokens.json (0600). The password is asked without
    /// echo, or read from stdin when it is not a terminal.
    Login {
        /// User name (asked when not given).
        #[arg(long)]
        user: Option<String>,
        /// What the token may do: read, control or admin.
        #[arg(long, default_value = "admin")]
        scope: String,
    },
    /// Revoke and forget the token `igloo login` stored for this API.
    Logout,
    /// API tokens for programs: list, create (shown once), revoke.
    Tokens {
        #[command(subcommand)]
        action: TokensAction,
    },
    /// The owner's account: `igloo owner reset-password` (root on the gateway).
    Owner {
        #[command(subcommand)]
        action: OwnerAction,
    },
    /// The API's routes with the access each needs (admin).
    Routes,
    /// The appliance's MQTT broker: `igloo mqtt credentials [--devices]`
    /// shows the account for a Zigbee2MQTT bridge or for other MQTT
    /// devices (admin).
    Mqtt {
        #[command(subcommand)]
        action: MqttAction,
    },
    /// Rooms: `igloo rooms`, `igloo rooms add Kitchen`, `igloo rooms rename
    /// Kitchen "Kitchen & pantry"`, `igloo rooms remove Kitchen` (admin).
    Rooms {
        #[command(subcommand)]
        action: Option<RoomsAction>,
    },
    /// Give a device your own name: `igloo rename 3 "Reading lamp"` (admin).
    Rename {
        /// Device id.
        id: u64,
        /// The new name.
        #[arg(required_unless_present = "reset")]
        name: Option<String>,
        /// Show the provider's name again.
        #[arg(long, conflicts_with = "name")]
        reset: bool,
    },
    /// Put a device in a room: `igloo move 3 Kitchen`; `none` takes it out (admin).
    Move {
        /// Device id.
        id: u64,
        /// A room id or name, or `none`.
        room: String,
    },
    /// The gateway's Wi-Fi network (admin): `igloo wifi` shows it,
    /// `igloo wifi set --ssid NAME --country NL` changes it (the password is
    /// asked, or read from stdin), `igloo wifi forget` removes it.
    Wifi {
        #[command(subcommand)]
        action: Option<WifiAction>,
    },
    /// ESPHome devices: `igloo esphome add 192.168.1.50 --key KEY`,
    /// `igloo esphome list`, `igloo esphome remove 192.168.1.50`.
    Esphome {
        /// The ESPHome provider's name (default: the one running igloo-esphome).
        #[arg(long, global = true)]
        provider: Option<String>,
        #[command(subcommand)]
        action: EsphomeAction,
    },
}

#[derive(Subcommand)]
enum TokensAction {
    /// List tokens (ids, names, scopes; never the secrets).
    List,
    /// Create a token and print it (shown only this once).
    Create {
        /// What it is for (`kitchen tablet`).
        name: String,
        /// read, control or admin.
        #[arg(long, default_value = "read")]
        scope: String,
    },
    /// Revoke a token by id.
    Revoke {
        /// The token's id (`igloo tokens list`).
        id: String,
    },
}

#[derive(Subcommand)]
enum RoomsAction {
    /// Add a room.
    Add {
        /// Its name.
        name: String,
    },
    /// Rename a room.
    Rename {
        /// The room's id or name.
        room: String,
        /// The new name.
        name: String,
    },
    /// Remove a room; its devices are then in no room.
    Remove {
        /// The room's id or name.
        room: String,
    },
}

#[derive(Subcommand)]
enum MqttAction {
    /// The user name, password and port a Zigbee2MQTT bridge uses on the
    /// gateway's broker, as lines for its configuration.yaml; with
    /// `--devices`, the account for other MQTT devices (Tasmota, Shelly,
    /// ESPHome's MQTT component); with `--homeassistant`, Home Assistant's.
    Credentials {
        /// The account of the LAN's other MQTT devices instead of the bridge's.
        #[arg(long, conflicts_with = "homeassistant")]
        devices: bool,
        /// Home Assistant's account (discovery, and Igloo's devices under
        /// igloo/# with discovery out) instead of the bridge's.
        #[arg(long)]
        homeassistant: bool,
    },
}

#[derive(Subcommand)]
enum OwnerAction {
    /// Set a new owner password without the old one, and end every
    /// session. Only root on the gateway (over the local socket).
    ResetPassword,
}

#[derive(Subcommand)]
enum OtaAction {
    /// The slots (version, install time, tries left), which one booted,
    /// whether this boot is marked good, a running install and the last
    /// installs and rollbacks.
    Status,
    /// Install a bundle: a local FILE is uploaded to the gateway; an
    /// http:// URL is downloaded by the gateway. Shows the progress and
    /// ends with the result (exit status 1 with RAUC's message on failure).
    /// The new system runs after the next reboot.
    Install {
        /// A bundle file (`.raucb`) or an http:// URL.
        #[arg(value_name = "FILE|URL")]
        target: String,
    },
}

#[derive(Subcommand)]
enum WifiAction {
    /// The network (name, security, country; never the password) and the
    /// interface's state and addresses.
    Status,
    /// Join a network: writes wpa_supplicant's configuration and makes it
    /// reload. The password is asked without echo, or read as one line
    /// from stdin (`echo "$PW" | igloo wifi set …`); never given as an argument.
    Set {
        /// The network's name (SSID), 1-32 bytes.
        #[arg(long)]
        ssid: String,
        /// The country whose radio rules apply (ISO 3166-1 alpha-2: NL, DE,
        /// US …; 00 = world-wide).
        #[arg(long)]
        country: String,
        /// An open network: no password is asked.
        #[arg(long)]
        open: bool,
        /// Replace a configuration file that igloo did not write.
        #[arg(long)]
        force: bool,
    },
    /// Leave the network: removes the configuration (wpa_supplicant stops).
    Forget {
        /// Remove a configuration file that igloo did not write, too.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum EsphomeAction {
    /// Add a device by address, or give a discovered one its API encryption
    /// key. The key is stored owner-only in the provider's data dir.
    Add {
        /// `HOST`, `HOST:PORT` or `[IPV6]:PORT` (port 6053 by default).
        address: String,
        /// The device's `api: encryption: key:` (base64); `-` reads it from stdin.
        #[arg(long)]
        key: Option<String>,
    },
    /// List devices with their connection state and last error.
    List,
    /// Forget a device added by address.
    Remove {
        /// `HOST` or `HOST:PORT`.
        address: String,
    },
}

#[derive(Subcommand)]
enum ProvidersAction {
    /// Restart one provider (nothing else restarts).
    Restart {
        /// Provider name.
        name: String,
    },
    /// Switch one provider to another version without restarting the core
    /// or any other provider: `igloo providers update mqtt ./igloo-mqtt --as 0.3.0`
    /// installs a file as a new version; `igloo providers update mqtt 0.2.0`
    /// switches to an installed one (`configured` = the config's exec). A new
    /// version that fails its handshake or crash-loops goes back by itself.
    Update {
        /// Provider name.
        name: String,
        /// An executable to install (an existing file), or an installed version.
        #[arg(value_name = "PATH|VERSION")]
        target: String,
        /// Version label for an installed PATH (default: from its SHA-256).
        #[arg(long = "as", value_name = "VERSION")]
        label: Option<String>,
    },
}

/// Makes writing to a closed pipe end the process the way command-line tools
/// on Unix end (killed by SIGPIPE, status 141 in a shell: `igloo watch |
/// head -n 1`), instead of Rust's default of ignoring SIGPIPE, which turns it
/// into a write error and `println!` into a panic. Only for the CLI: the
/// daemon keeps SIGPIPE ignored, so a client that goes away is an error on
/// that connection, never the end of the core.
fn die_quietly_on_closed_pipe() {
    // SAFETY: called first thing in `main`, before any other thread exists;
    // setting a signal's disposition to its default has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Run { .. }) {
        die_quietly_on_closed_pipe();
    }
    let target = cli::Target::choose(cli.api.as_deref(), cli.token.clone(), &cli.socket);
    let client = cli::Client::new(target, cli.json);
    let result = match cli.command {
        Command::Run { config } => return daemon::main(&config),
        Command::Devices => client.devices(),
        Command::Device { id } => client.device(id),
        Command::Set {
            id,
            entity,
            values,
            wait,
            no_wait,
            timeout,
        } => {
            let wait = (wait || (!no_wait && std::io::stdout().is_terminal()))
                .then(|| std::time::Duration::from_secs(timeout));
            client.set(id, &entity, &values, wait)
        }
        Command::Providers { action: None } => client.providers(),
        Command::Providers {
            action: Some(ProvidersAction::Restart { name }),
        } => client.restart(&name),
        Command::Providers {
            action:
                Some(ProvidersAction::Update {
                    name,
                    target,
                    label,
                }),
        } => client.update(&name, &target, label.as_deref()),
        Command::Watch => client.watch(),
        Command::Doctor => client.doctor(),
        Command::Logs {
            provider,
            lines,
            follow,
        } => client.logs(provider.as_deref(), lines, follow),
        Command::Custom {
            provider,
            command,
            body,
        } => client.command(&provider, &command, body.as_deref()),
        Command::Ota { action } => match action {
            OtaAction::Status => client.ota_status(),
            OtaAction::Install { target } => client.ota_install(&target),
        },
        Command::Onboard { code, user } => client.onboard(&code, user.as_deref()),
        Command::Login { user, scope } => client.login(user.as_deref(), &scope),
        Command::Logout => client.logout(),
        Command::Tokens { action } => match action {
            TokensAction::List => client.tokens_list(),
            TokensAction::Create { name, scope } => client.tokens_create(&name, &scope),
            TokensAction::Revoke { id } => client.tokens_revoke(&id),
        },
        Command::Owner {
            action: OwnerAction::ResetPassword,
        } => client.reset_password(),
        Command::Routes => client.routes(),
        Command::Mqtt {
            action:
                MqttAction::Credentials {
                    devices,
                    homeassistant,
                },
        } => client.mqtt_credentials(match (devices, homeassistant) {
            (true, _) => Some("devices"),
            (_, true) => Some("homeassistant"),
            _ => None,
        }),
        Command::Rooms { action } => match action {
            None => client.rooms_list(),
            Some(RoomsAction::Add { name }) => client.rooms_add(&name),
            Some(RoomsAction::Rename { room, name }) => client.rooms_rename(&room, &name),
            Some(RoomsAction::Remove { room }) => client.rooms_remove(&room),
        },
        Command::Rename { id, name, reset } => {
            client.rename(id, if reset { None } else { name.as_deref() })
        }
        Command::Move { id, room } => client.move_device(id, &room),
        Command::Wifi { action } => match action {
            None | Some(WifiAction::Status) => client.wifi_status(),
            Some(WifiAction::Set {
                ssid,
                country,
                open,
                force,
            }) => client.wifi_set(&ssid, &country, open, force),
            Some(WifiAction::Forget { force }) => client.wifi_forget(force),
        },
        Command::Esphome { provider, action } => match action {
            EsphomeAction::Add { address, key } => {
                client.esphome_add(provider.as_deref(), &address, key.as_deref())
            }
            EsphomeAction::List => client.esphome_list(provider.as_deref()),
            EsphomeAction::Remove { address } => {
                client.esphome_remove(provider.as_deref(), &address)
            }
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("igloo: {e:#}");
            ExitCode::FAILURE
        }
    }
}
