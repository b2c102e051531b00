//! Per-provider network policy (DESIGN §7): `none`, `lan`, `wan` or `any`.
//!
//! `none` is an empty network namespace made in the child (`unshare(CLONE_NEWNET)`,
//! see the sandbox's `apply_in_child`); `any` is no restriction. `lan` and `wan`
//! are enforced by **one nftables `inet` table owned by the core** ([`Firewall`]):
//! an `output` filter chain matches each restricted provider by the uid that owns
//! the sending socket (`meta skuid`) against two interval sets of LAN prefixes,
//! `lan4` and `lan6`. Matching on the socket's owner covers every socket the
//! provider opens, including MPTCP and TCP Fast Open, which Landlock's port rules
//! miss (FIELD-NOTES "Sandboxing").
//!
//! What a denied provider sees (measured on Linux 6.18, see the tests): a TCP
//! `connect` fails at once with `ECONNREFUSED` (the rule answers with a TCP
//! reset), anything else (UDP `sendto`, ICMP, …) fails with `EPERM` (the packet
//! is dropped in the output hook). A plain `drop` would not do for TCP: the
//! kernel ignores the local `EPERM` of a SYN and retransmits it, so `connect`
//! would hang for about two minutes before `ETIMEDOUT`.
//!
//! Everything here runs `nft`, which acts on the network namespace of the
//! calling *thread* (tests use that to work in a private namespace).
//!
//! Sources: nft(8) and libnftables-json(5) (<https://manpages.debian.org/bookworm/libnftables1/libnftables-json.5.en.html>);
//! the nftables wiki on `meta skuid` and `reject`
//! (<https://wiki.nftables.org/wiki-nftables/index.php/Matching_packet_metainformation>,
//! <https://wiki.nftables.org/wiki-nftables/index.php/Rejecting_traffic>).

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::{Command, ExitStatus, Stdio};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use nftables::batch::Batch;
use nftables::expr::{Expression, Meta, MetaKey, NamedExpression, Payload, PayloadField, Prefix};
use nftables::schema::{
    Chain, NfListObject, Nftables, Rule, Set, SetFlag, SetType, SetTypeValue, Table,
};
use nftables::stmt::{Match, Operator, Reject, RejectType, Statement};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};

/// Name of the base chain in the core's table.
const CHAIN: &str = "output";
/// Name of the IPv4 LAN set (`ipv4_addr`, interval).
const SET4: &str = "lan4";
/// Name of the IPv6 LAN set (`ipv6_addr`, interval).
const SET6: &str = "lan6";
/// Longest accepted table name (the config allows 1–64 characters too).
const MAX_TABLE_NAME: usize = 64;

/// What a provider may reach over the network (`network = "…"` in its
/// `[[provider]]` table, lowercase).
/// The default is `lan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkPolicy {
    /// No network at all: the provider runs in a new, empty network namespace
    /// (only a loopback interface that is down). Done in the child, not here.
    None,
    /// Only the LAN prefixes ([`default_lan_prefixes`] unless configured).
    #[default]
    Lan,
    /// Everything except the LAN prefixes; loopback (127.0.0.0/8, ::1) stays
    /// allowed so that a cloud provider can still use local services such as a
    /// stub DNS resolver (127.0.0.53) or a broker on 127.0.0.1. The host's own
    /// LAN addresses count as LAN.
    Wan,
    /// Unrestricted.
    Any,
}

impl NetworkPolicy {
    /// The config spelling: `"none"`, `"lan"`, `"wan"` or `"any"`.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkPolicy::None => "none",
            NetworkPolicy::Lan => "lan",
            NetworkPolicy::Wan => "wan",
            NetworkPolicy::Any => "any",
        }
    }
}

/// The prefixes that count as "LAN" when the config names none, IPv4 first:
///
/// - 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16: private addresses (RFC 1918 §3);
/// - 169.254.0.0/16: IPv4 link-local (RFC 3927);
/// - 127.0.0.0/8: loopback (RFC 1122 §3.2.1.3);
/// - 224.0.0.0/4: IPv4 multicast (RFC 5771), for mDNS 224.0.0.251 (RFC 6762)
///   and therefore ESPHome discovery;
/// - fe80::/10: IPv6 link-local unicast (RFC 4291 §2.5.6);
/// - fc00::/7: unique local addresses (RFC 4193);
/// - ::1/128: loopback (RFC 4291 §2.5.3);
/// - ff00::/8: IPv6 multicast (RFC 4291 §2.7), for mDNS ff02::fb (RFC 6762).
pub fn default_lan_prefixes() -> Vec<IpNet> {
    let v4 = |a, b, c, d, len| IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len));
    let v6 = |addr: Ipv6Addr, len| IpNet::V6(Ipv6Net::new_assert(addr, len));
    vec![
        v4(10, 0, 0, 0, 8),
        v4(172, 16, 0, 0, 12),
        v4(192, 168, 0, 0, 16),
        v4(169, 254, 0, 0, 16),
        v4(127, 0, 0, 0, 8),
        v4(224, 0, 0, 0, 4),
        v6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),
        v6(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),
        v6(Ipv6Addr::LOCALHOST, 128),
        v6(Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),
    ]
}

/// Why the network policy table could not be installed or removed.
#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    /// The table name is empty, too long or has characters outside
    /// `A-Z a-z 0-9 - _`.
    #[error("invalid nftables table name {0:?}: use 1 to 64 ASCII letters, digits, '-' or '_'")]
    InvalidTableName(String),
    /// The same uid has two rules; the policies would contradict each other.
    #[error("uid {0} appears twice in the network policy rules")]
    DuplicateUid(u32),
    /// A rule for uid 0 would restrict the core itself.
    #[error("refusing a network policy for uid 0: it would restrict the core itself")]
    RootUid,
    /// The ruleset could not be encoded as JSON (a bug).
    #[error("cannot encode the nftables ruleset as JSON: {0}")]
    Encode(#[from] serde_json::Error),
    /// `nft` could not be started or fed (not installed, not in `PATH`, …).
    #[error(
        "cannot run `nft -j -f -` to {action} table inet {table}: {source} (is the nftables package installed?)"
    )]
    Spawn {
        /// `"install"` or `"remove"`.
        action: &'static str,
        /// The table name.
        table: String,
        /// The error from spawning or writing to `nft`.
        source: std::io::Error,
    },
    /// `nft` ran and refused the batch (no `CAP_NET_ADMIN`, a kernel without
    /// nf_tables, a bad prefix, …). Nothing was changed: the batch is atomic.
    #[error("`nft -j -f -` failed to {action} table inet {table} ({status}): {stderr}")]
    Nft {
        /// `"install"` or `"remove"`.
        action: &'static str,
        /// The table name.
        table: String,
        /// nft's exit status.
        status: ExitStatus,
        /// nft's standard error, trimmed.
        stderr: String,
    },
}

/// The core's nftables table, installed by [`Firewall::apply`]. Dropping it
/// (or [`Firewall::remove`]) deletes the table again; a core that crashes
/// leaves it in place until the next [`Firewall::apply`] replaces it.
#[derive(Debug)]
pub struct Firewall {
    /// Table name; empty once removed.
    table: String,
}

impl Firewall {
    /// Installs or atomically replaces the `inet` table `table` with the
    /// rules for `rules` (provider uid, policy) and the LAN prefixes `lan`
    /// (overlapping and adjacent prefixes are merged, host bits ignored).
    ///
    /// The table holds the interval sets `lan4`/`lan6` and a chain `output`
    /// (`type filter hook output priority 0; policy accept`) with, per uid `U`:
    ///
    /// - [`NetworkPolicy::Lan`]: `meta skuid U ip daddr @lan4 accept`,
    ///   `meta skuid U ip6 daddr @lan6 accept`,
    ///   `meta skuid U meta l4proto tcp reject with tcp reset`, `meta skuid U drop`;
    /// - [`NetworkPolicy::Wan`]: `meta skuid U ip daddr 127.0.0.0/8 accept`,
    ///   `meta skuid U ip6 daddr ::1 accept`, then for `ip daddr @lan4` and
    ///   `ip6 daddr @lan6` each a TCP reset and a drop;
    /// - [`NetworkPolicy::None`] and [`NetworkPolicy::Any`]: nothing.
    ///
    /// One `nft -j -f -` transaction does `add table` (a no-op if it exists),
    /// `delete table`, then adds the new table, sets, chain and rules, so the
    /// old table is replaced in one step and other tables are not touched.
    /// Runs in the calling thread's network namespace; needs `CAP_NET_ADMIN`.
    ///
    /// Keep one [`Firewall`] per table: applying the same table again while
    /// an older value lives replaces the rules, but dropping either value
    /// deletes the table.
    ///
    /// # Errors
    /// [`FirewallError::InvalidTableName`], [`FirewallError::DuplicateUid`],
    /// [`FirewallError::RootUid`] before anything runs;
    /// [`FirewallError::Spawn`] / [`FirewallError::Nft`] (with nft's stderr)
    /// when nft cannot run or refuses — then the previous table, if any, is
    /// unchanged.
    pub fn apply(
        table: &str,
        rules: &[(u32, NetworkPolicy)],
        lan: &[IpNet],
    ) -> Result<Firewall, FirewallError> {
        let batch = ruleset(table, rules, lan)?;
        run_nft(&serde_json::to_string(&batch)?, "install", table)?;
        Ok(Firewall {
            table: table.to_string(),
        })
    }

    /// Deletes this table (and only it) in the calling thread's network
    /// namespace. A table that is already gone is fine; other failures are
    /// logged (`tracing::warn`) because there is nothing left to do about them.
    pub fn remove(mut self) {
        self.delete();
    }

    fn delete(&mut self) {
        let table = std::mem::take(&mut self.table);
        if table.is_empty() {
            return;
        }
        if let Err(e) = delete_table(&table) {
            tracing::warn!(table, "cannot remove the network policy table: {e}");
        }
    }
}

impl Drop for Firewall {
    fn drop(&mut self) {
        self.delete();
    }
}

/// Whether `nft` can be run: `Ok` with its version line (e.g.
/// `"nftables v1.0.6 (Lester Gooch #5)"`), or `Err` saying why not. Says
/// nothing about permissions or kernel support; [`Firewall::apply`] reports those.
pub fn nft_available() -> Result<String, String> {
    match Command::new("nft")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        }
        Ok(out) => Err(format!(
            "`nft --version` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!(
            "cannot run `nft` ({e}); install the nftables package"
        )),
    }
}

/// Deletes table `inet table` in one transaction (`add table`, `delete table`,
/// so a missing table is not an error).
fn delete_table(table: &str) -> Result<(), FirewallError> {
    check_table_name(table)?;
    let mut batch = Batch::new();
    batch.add(NfListObject::Table(inet_table(table)));
    batch.delete(NfListObject::Table(inet_table(table)));
    run_nft(
        &serde_json::to_string(&batch.to_nftables())?,
        "remove",
        table,
    )
}

fn check_table_name(table: &str) -> Result<(), FirewallError> {
    let ok = !table.is_empty()
        && table.len() <= MAX_TABLE_NAME
        && table
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(FirewallError::InvalidTableName(table.to_string()))
    }
}

/// Runs `nft -j -f -` with `payload` on stdin, capturing stderr for the error.
fn run_nft(payload: &str, action: &'static str, table: &str) -> Result<(), FirewallError> {
    let spawn_err = |source| FirewallError::Spawn {
        action,
        table: table.to_string(),
        source,
    };
    let mut child = Command::new("nft")
        .args(["-j", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_err)?;
    // nft reads all of stdin before it writes anything, so writing first and
    // collecting stderr afterwards cannot deadlock. A write error (nft died
    // early) is reported after its exit status, which says more.
    let written = match child.stdin.take() {
        Some(mut stdin) => stdin.write_all(payload.as_bytes()),
        None => Err(std::io::Error::other("nft's stdin was not captured")),
    };
    let out = child.wait_with_output().map_err(spawn_err)?;
    if !out.status.success() {
        return Err(FirewallError::Nft {
            action,
            table: table.to_string(),
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    written.map_err(spawn_err)
}

/// Builds the replacing batch described at [`Firewall::apply`].
fn ruleset(
    table: &str,
    rules: &[(u32, NetworkPolicy)],
    lan: &[IpNet],
) -> Result<Nftables<'static>, FirewallError> {
    check_table_name(table)?;
    let mut seen = HashSet::new();
    for &(uid, _) in rules {
        if uid == 0 {
            return Err(FirewallError::RootUid);
        }
        if !seen.insert(uid) {
            return Err(FirewallError::DuplicateUid(uid));
        }
    }
    let lan = IpNet::aggregate(&lan.to_vec());
    let elems = |v6: bool| -> Vec<Expression<'static>> {
        lan.iter()
            .filter(|n| matches!(n, IpNet::V6(_)) == v6)
            .map(|n| prefix(n.network(), n.prefix_len()))
            .collect()
    };

    let mut batch = Batch::new();
    batch.add(NfListObject::Table(inet_table(table)));
    batch.delete(NfListObject::Table(inet_table(table)));
    batch.add(NfListObject::Table(inet_table(table)));
    for (name, set_type, elem) in [
        (SET4, SetType::Ipv4Addr, elems(false)),
        (SET6, SetType::Ipv6Addr, elems(true)),
    ] {
        batch.add(NfListObject::Set(Box::new(Set {
            family: NfFamily::INet,
            table: table.to_string().into(),
            name: name.into(),
            set_type: SetTypeValue::Single(set_type),
            flags: Some(HashSet::from([SetFlag::Interval])),
            elem: (!elem.is_empty()).then_some(elem.into()),
            ..Set::default()
        })));
    }
    batch.add(NfListObject::Chain(Chain {
        family: NfFamily::INet,
        table: table.to_string().into(),
        name: CHAIN.into(),
        _type: Some(NfChainType::Filter),
        hook: Some(NfHook::Output),
        prio: Some(0),
        policy: Some(NfChainPolicy::Accept),
        ..Chain::default()
    }));
    for &(uid, policy) in rules {
        for (expr, what) in uid_rules(uid, policy) {
            batch.add(NfListObject::Rule(Rule {
                family: NfFamily::INet,
                table: table.to_string().into(),
                chain: CHAIN.into(),
                expr: expr.into(),
                comment: Some(format!("uid {uid} {}: {what}", policy.as_str()).into()),
                ..Rule::default()
            }));
        }
    }
    Ok(batch.to_nftables())
}

/// The rules (statements, comment) for one uid, in chain order.
fn uid_rules(uid: u32, policy: NetworkPolicy) -> Vec<(Vec<Statement<'static>>, &'static str)> {
    let owner = || {
        Statement::Match(eq(
            named(NamedExpression::Meta(Meta {
                key: MetaKey::Skuid,
            })),
            Expression::Number(uid),
        ))
    };
    let to = |proto: &'static str, right: Expression<'static>| {
        Statement::Match(eq(
            named(NamedExpression::Payload(Payload::PayloadField(
                PayloadField {
                    protocol: proto.into(),
                    field: "daddr".into(),
                },
            ))),
            right,
        ))
    };
    let tcp = || {
        Statement::Match(eq(
            named(NamedExpression::Meta(Meta {
                key: MetaKey::L4proto,
            })),
            Expression::String("tcp".into()),
        ))
    };
    let reset = || Statement::Reject(Some(Reject::new(Some(RejectType::TCPReset), None)));
    let lan4 = || Expression::String(format!("@{SET4}").into());
    let lan6 = || Expression::String(format!("@{SET6}").into());
    match policy {
        NetworkPolicy::None | NetworkPolicy::Any => Vec::new(),
        NetworkPolicy::Lan => vec![
            (
                vec![owner(), to("ip", lan4()), Statement::Accept(None)],
                "LAN IPv4",
            ),
            (
                vec![owner(), to("ip6", lan6()), Statement::Accept(None)],
                "LAN IPv6",
            ),
            (vec![owner(), tcp(), reset()], "no TCP beyond the LAN"),
            (
                vec![owner(), Statement::Drop(None)],
                "nothing else beyond the LAN",
            ),
        ],
        NetworkPolicy::Wan => vec![
            (
                vec![
                    owner(),
                    to("ip", prefix(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), 8)),
                    Statement::Accept(None),
                ],
                "loopback IPv4",
            ),
            (
                vec![
                    owner(),
                    to(
                        "ip6",
                        Expression::String(Ipv6Addr::LOCALHOST.to_string().into()),
                    ),
                    Statement::Accept(None),
                ],
                "loopback IPv6",
            ),
            (
                vec![owner(), to("ip", lan4()), tcp(), reset()],
                "no TCP to the LAN (IPv4)",
            ),
            (
                vec![owner(), to("ip", lan4()), Statement::Drop(None)],
                "nothing else to the LAN (IPv4)",
            ),
            (
                vec![owner(), to("ip6", lan6()), tcp(), reset()],
                "no TCP to the LAN (IPv6)",
            ),
            (
                vec![owner(), to("ip6", lan6()), Statement::Drop(None)],
                "nothing else to the LAN (IPv6)",
            ),
        ],
    }
}

fn inet_table(name: &str) -> Table<'static> {
    Table {
        family: NfFamily::INet,
        name: name.to_string().into(),
        handle: None,
    }
}

fn named(e: NamedExpression<'static>) -> Expression<'static> {
    Expression::Named(e)
}

fn eq(left: Expression<'static>, right: Expression<'static>) -> Match<'static> {
    Match {
        left,
        right,
        op: Operator::EQ,
    }
}

fn prefix(addr: IpAddr, len: u8) -> Expression<'static> {
    named(NamedExpression::Prefix(Prefix {
        addr: Box::new(Expression::String(Cow::Owned(addr.to_string()))),
        len: u32::from(len),
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::net::{SocketAddr, TcpListener};
    use std::process::Command;
    use std::time::{Duration, Instant};

    use nix::errno::Errno;
    use nix::sys::signal::{Signal, kill};
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    use nix::unistd::{ForkResult, fork};
    use serde_json::{Value, json};

    use super::*;

    /// `true` when a privileged test may proceed. When it cannot (`missing`
    /// says why): panics if `CI` is set or `IGLOO_REQUIRE_ROOT=1`, otherwise
    /// prints "skipped: needs root" and returns `false`.
    pub(crate) fn may_run(test: &str, missing: Option<String>) -> bool {
        let Some(why) = missing else { return true };
        let must = std::env::var_os("CI").is_some()
            || std::env::var("IGLOO_REQUIRE_ROOT").is_ok_and(|v| v == "1");
        assert!(
            !must,
            "{test} cannot run: {why} (CI / IGLOO_REQUIRE_ROOT=1 require it to run)"
        );
        eprintln!("skipped: needs root: {test}: {why}");
        false
    }

    /// Why the firewall tests cannot run here, if they cannot.
    fn missing_for_firewall() -> Option<String> {
        if !nix::unistd::geteuid().is_root() {
            return Some("not running as root".into());
        }
        if let Err(e) = nft_available() {
            return Some(e);
        }
        match Command::new("ip").arg("-V").output() {
            Ok(o) if o.status.success() => None,
            _ => Some("`ip` (iproute2) is not installed".into()),
        }
    }

    const LAN4: &str = "192.0.2.1";
    const WAN4: &str = "203.0.113.1";
    const LAN6: &str = "2001:db8:1::1";
    const WAN6: &str = "2001:db8:2::1";
    /// uids with no account; only used as socket owners in a private namespace.
    const LAN_UID: u32 = 64123;
    const WAN_UID: u32 = 64125;
    const FREE_UID: u32 = 64124;

    fn test_lan() -> Vec<IpNet> {
        ["192.0.2.0/24", "2001:db8:1::/48"]
            .iter()
            .map(|s| s.parse().unwrap_or_else(|e| panic!("{s}: {e}")))
            .collect()
    }

    /// Runs `f` on a new thread that first moves into a new, private network
    /// namespace holding `lo` (up) and a veth pair `d0`/`d0p` with the
    /// documentation addresses above on `d0`. This kernel has no `dummy` link
    /// type (CONFIG_DUMMY is off), a veth pair with both ends in the namespace
    /// does the same job. Processes started from that thread (`ip`, `nft`,
    /// forked probes) inherit the namespace; the host's is never touched.
    fn in_private_netns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let handle = std::thread::spawn(move || {
            // SAFETY: unshare(2) with only CLONE_NEWNET changes the network
            // namespace of this thread and touches no memory.
            let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
            assert_eq!(
                rc,
                0,
                "unshare(CLONE_NEWNET): {}",
                std::io::Error::last_os_error()
            );
            for cmd in [
                "ip link set lo up",
                "ip link add d0 type veth peer name d0p",
                "ip link set d0p up",
                "ip addr add 192.0.2.1/24 dev d0",
                "ip addr add 203.0.113.1/24 dev d0",
                "ip -6 addr add 2001:db8:1::1/64 dev d0 nodad",
                "ip -6 addr add 2001:db8:2::1/64 dev d0 nodad",
                "ip link set d0 up",
            ] {
                run(cmd);
            }
            f()
        });
        handle
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    }

    /// Runs a command line (split on spaces) and returns its stdout.
    fn run(cmd: &str) -> String {
        let mut words = cmd.split(' ');
        let program = words.next().unwrap_or_default();
        let out = Command::new(program)
            .args(words)
            .output()
            .unwrap_or_else(|e| panic!("cannot run `{cmd}`: {e}"));
        assert!(
            out.status.success(),
            "`{cmd}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A listener on `ip` (any port), kept open for the test.
    fn listen(ip: &str) -> (TcpListener, SocketAddr) {
        let ip: IpAddr = ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}"));
        let l = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}: {e}"));
        let addr = l.local_addr().unwrap_or_else(|e| panic!("local_addr: {e}"));
        (l, addr)
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Proto {
        Tcp,
        Udp,
    }

    /// Connects (TCP) or sends one datagram (UDP) to `to` from a forked child
    /// running as `uid`/`uid` without supplementary groups. `Ok` or the errno.
    /// The child only makes system calls on memory prepared before the fork.
    fn probe(uid: u32, proto: Proto, to: SocketAddr) -> Result<(), Errno> {
        let (sin, sin6) = sockaddrs(to);
        let (ptr, len, family) = match to {
            SocketAddr::V4(_) => (
                (&raw const sin).cast::<libc::sockaddr>(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
                libc::AF_INET,
            ),
            SocketAddr::V6(_) => (
                (&raw const sin6).cast::<libc::sockaddr>(),
                size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                libc::AF_INET6,
            ),
        };
        let kind = match proto {
            Proto::Tcp => libc::SOCK_STREAM,
            Proto::Udp => libc::SOCK_DGRAM,
        };
        let timeout = libc::timeval {
            tv_sec: 5,
            tv_usec: 0,
        };
        // SAFETY: the child is single-threaded after fork and only calls
        // async-signal-safe functions (setgroups/setresgid/setresuid,
        // socket, setsockopt, connect, sendto, _exit) on prepared memory.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => unsafe {
                let code = (|| {
                    if libc::setgroups(0, std::ptr::null()) != 0
                        || libc::setresgid(uid, uid, uid) != 0
                        || libc::setresuid(uid, uid, uid) != 0
                    {
                        return 200;
                    }
                    let fd = libc::socket(family, kind | libc::SOCK_CLOEXEC, 0);
                    if fd < 0 {
                        return 201;
                    }
                    libc::setsockopt(
                        fd,
                        libc::SOL_SOCKET,
                        libc::SO_SNDTIMEO,
                        (&raw const timeout).cast(),
                        size_of::<libc::timeval>() as libc::socklen_t,
                    );
                    let rc = match proto {
                        Proto::Tcp => libc::connect(fd, ptr, len),
                        Proto::Udp => {
                            libc::sendto(fd, b"x".as_ptr().cast(), 1, 0, ptr, len) as libc::c_int
                        }
                    };
                    if rc < 0 { Errno::last_raw() } else { 0 }
                })();
                libc::_exit(code)
            },
            Ok(ForkResult::Parent { child }) => {
                let deadline = Instant::now() + Duration::from_secs(15);
                loop {
                    match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
                        Ok(WaitStatus::Exited(_, 0)) => return Ok(()),
                        Ok(WaitStatus::Exited(_, 200)) => {
                            panic!("probe child could not become uid {uid}")
                        }
                        Ok(WaitStatus::Exited(_, 201)) => {
                            panic!("probe child could not make a socket")
                        }
                        Ok(WaitStatus::Exited(_, code)) => return Err(Errno::from_raw(code)),
                        Ok(WaitStatus::StillAlive) if Instant::now() < deadline => {
                            std::thread::sleep(Duration::from_millis(5))
                        }
                        Ok(WaitStatus::StillAlive) => {
                            let _ = kill(child, Signal::SIGKILL);
                            let _ = waitpid(child, None);
                            panic!("probe {proto:?} to {to} as uid {uid} hung");
                        }
                        Ok(other) => panic!("probe child: unexpected {other:?}"),
                        Err(e) => panic!("waitpid: {e}"),
                    }
                }
            }
            Err(e) => panic!("fork: {e}"),
        }
    }

    /// `to` as C socket addresses; only the one of its family is meaningful.
    fn sockaddrs(to: SocketAddr) -> (libc::sockaddr_in, libc::sockaddr_in6) {
        let mut sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: to.port().to_be(),
            sin_addr: libc::in_addr { s_addr: 0 },
            sin_zero: [0; 8],
        };
        let mut sin6 = libc::sockaddr_in6 {
            sin6_family: libc::AF_INET6 as libc::sa_family_t,
            sin6_port: to.port().to_be(),
            sin6_flowinfo: 0,
            sin6_addr: libc::in6_addr { s6_addr: [0; 16] },
            sin6_scope_id: 0,
        };
        match to.ip() {
            IpAddr::V4(ip) => sin.sin_addr.s_addr = u32::from(ip).to_be(),
            IpAddr::V6(ip) => sin6.sin6_addr.s6_addr = ip.octets(),
        }
        (sin, sin6)
    }

    fn udp_to(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}")), 9)
    }

    /// `nft -j list table inet NAME` as JSON objects (`{"rule": …}` etc.).
    fn list_table(table: &str) -> Vec<Value> {
        let out = run(&format!("nft -j list table inet {table}"));
        let v: Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("nft JSON: {e}: {out}"));
        v["nftables"].as_array().cloned().unwrap_or_default()
    }

    fn count(objects: &[Value], kind: &str) -> usize {
        objects.iter().filter(|o| o.get(kind).is_some()).count()
    }

    #[test]
    fn policy_names_round_trip() {
        for p in [
            NetworkPolicy::None,
            NetworkPolicy::Lan,
            NetworkPolicy::Wan,
            NetworkPolicy::Any,
        ] {
            let parsed: NetworkPolicy = serde_json::from_str(&format!("\"{}\"", p.as_str()))
                .unwrap_or_else(|e| panic!("{}: {e}", p.as_str()));
            assert_eq!(parsed, p);
        }
        assert!(serde_json::from_str::<NetworkPolicy>("\"LAN\"").is_err());
        assert!(serde_json::from_str::<NetworkPolicy>("\"internet\"").is_err());
    }

    #[test]
    fn default_lan_covers_private_link_local_loopback_and_multicast_only() {
        let lan = default_lan_prefixes();
        let inside = |s: &str| {
            let ip: IpAddr = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            lan.iter().any(|n| n.contains(&ip))
        };
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.10",
            "169.254.1.1",
            "127.0.0.53",
            "224.0.0.251",
            "239.255.255.250",
            "fe80::1",
            "fd12:3456::1",
            "::1",
            "ff02::fb",
        ] {
            assert!(inside(ip), "{ip} should be LAN");
        }
        for ip in [
            "8.8.8.8",
            "172.32.0.1",
            "100.64.0.1",
            "192.0.2.1",
            "2001:db8::1",
            "2a00::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(!inside(ip), "{ip} should not be LAN");
        }
    }

    #[test]
    fn ruleset_replaces_the_table_in_one_batch() {
        let lan: Vec<IpNet> = ["10.0.0.0/8", "10.1.0.0/16", "192.168.1.7/24", "fd00::/8"]
            .iter()
            .map(|s| s.parse().unwrap_or_else(|e| panic!("{s}: {e}")))
            .collect();
        let rules = [
            (1001, NetworkPolicy::Lan),
            (1002, NetworkPolicy::Wan),
            (1003, NetworkPolicy::None),
            (1004, NetworkPolicy::Any),
        ];
        let json =
            serde_json::to_value(ruleset("igloo", &rules, &lan).unwrap_or_else(|e| panic!("{e}")))
                .unwrap_or_else(|e| panic!("{e}"));
        let objs = json["nftables"].as_array().cloned().unwrap_or_default();
        let cmd = |i: usize| {
            objs[i]
                .as_object()
                .and_then(|o| o.keys().next().cloned())
                .unwrap_or_default()
        };
        assert_eq!([cmd(0), cmd(1), cmd(2)], ["add", "delete", "add"], "{json}");
        for obj in &objs[..3] {
            let t = obj
                .as_object()
                .and_then(|o| o.values().next())
                .map(|v| &v["table"]);
            assert_eq!(
                t.map(|t| (&t["family"], &t["name"])),
                Some((&json!("inet"), &json!("igloo")))
            );
        }
        let added: Vec<&Value> = objs.iter().filter_map(|o| o.get("add")).collect();
        assert_eq!(
            added.iter().filter(|a| a.get("rule").is_some()).count(),
            4 + 6,
            "{json}"
        );
        let set = |name: &str| {
            added
                .iter()
                .find_map(|a| a.get("set").filter(|s| s["name"] == name))
                .cloned()
                .unwrap_or_else(|| panic!("no set {name} in {json}"))
        };
        // 10.1/16 is inside 10/8; host bits of 192.168.1.7/24 are dropped.
        assert_eq!(
            set("lan4")["elem"],
            json!([{"prefix": {"addr": "10.0.0.0", "len": 8}}, {"prefix": {"addr": "192.168.1.0", "len": 24}}])
        );
        assert_eq!(
            set("lan6")["elem"],
            json!([{"prefix": {"addr": "fd00::", "len": 8}}])
        );
        assert_eq!(set("lan4")["flags"], json!(["interval"]));
        let chain = added
            .iter()
            .find_map(|a| a.get("chain"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            (
                &chain["type"],
                &chain["hook"],
                &chain["prio"],
                &chain["policy"]
            ),
            (
                &json!("filter"),
                &json!("output"),
                &json!(0),
                &json!("accept")
            )
        );
    }

    #[test]
    fn bad_input_is_refused_before_nft_runs() {
        let lan = test_lan();
        for name in ["", "a b", "x;flush ruleset", "ü", &"x".repeat(65)] {
            assert!(
                matches!(
                    ruleset(name, &[], &lan),
                    Err(FirewallError::InvalidTableName(_))
                ),
                "{name:?}"
            );
        }
        assert!(ruleset(&"x".repeat(64), &[], &lan).is_ok());
        assert!(matches!(
            ruleset(
                "t",
                &[(5, NetworkPolicy::Lan), (5, NetworkPolicy::Wan)],
                &lan
            ),
            Err(FirewallError::DuplicateUid(5))
        ));
        assert!(matches!(
            ruleset("t", &[(0, NetworkPolicy::Lan)], &lan),
            Err(FirewallError::RootUid)
        ));
        // Empty LAN: sets without elements are still valid.
        assert!(ruleset("t", &[(5, NetworkPolicy::Lan)], &[]).is_ok());
    }

    #[test]
    fn lan_provider_reaches_only_lan_prefixes() {
        let test = "lan_provider_reaches_only_lan_prefixes";
        if !may_run(test, missing_for_firewall()) {
            return;
        }
        in_private_netns(|| {
            let (_l1, lan4) = listen(LAN4);
            let (_l2, wan4) = listen(WAN4);
            let (_l3, lan6) = listen(LAN6);
            let (_l4, wan6) = listen(WAN6);
            let (_l5, lo4) = listen("127.0.0.1");
            let fw = Firewall::apply("igloo-test", &[(LAN_UID, NetworkPolicy::Lan)], &test_lan())
                .unwrap_or_else(|e| panic!("{e}"));
            for uid in [LAN_UID, FREE_UID] {
                assert_eq!(
                    probe(uid, Proto::Tcp, lan4),
                    Ok(()),
                    "uid {uid} TCP to {lan4}"
                );
                assert_eq!(
                    probe(uid, Proto::Tcp, lan6),
                    Ok(()),
                    "uid {uid} TCP to {lan6}"
                );
                assert_eq!(
                    probe(uid, Proto::Udp, udp_to(LAN4)),
                    Ok(()),
                    "uid {uid} UDP to {LAN4}"
                );
            }
            // Baseline: a uid without rules reaches the WAN addresses …
            assert_eq!(probe(FREE_UID, Proto::Tcp, wan4), Ok(()));
            assert_eq!(probe(FREE_UID, Proto::Tcp, wan6), Ok(()));
            assert_eq!(probe(FREE_UID, Proto::Udp, udp_to(WAN4)), Ok(()));
            assert_eq!(probe(FREE_UID, Proto::Udp, udp_to(WAN6)), Ok(()));
            // … the LAN provider does not, although the listeners are there.
            assert_eq!(probe(LAN_UID, Proto::Tcp, wan4), Err(Errno::ECONNREFUSED));
            assert_eq!(probe(LAN_UID, Proto::Tcp, wan6), Err(Errno::ECONNREFUSED));
            assert_eq!(probe(LAN_UID, Proto::Udp, udp_to(WAN4)), Err(Errno::EPERM));
            assert_eq!(probe(LAN_UID, Proto::Udp, udp_to(WAN6)), Err(Errno::EPERM));
            // Loopback is not in the test's LAN list: denied as well.
            assert_eq!(probe(LAN_UID, Proto::Tcp, lo4), Err(Errno::ECONNREFUSED));
            assert_eq!(probe(FREE_UID, Proto::Tcp, lo4), Ok(()));
            drop(fw);
            assert_eq!(
                probe(LAN_UID, Proto::Tcp, wan4),
                Ok(()),
                "allowed again once the table is gone"
            );
        });
    }

    #[test]
    fn wan_provider_reaches_everything_but_lan_and_keeps_loopback() {
        let test = "wan_provider_reaches_everything_but_lan_and_keeps_loopback";
        if !may_run(test, missing_for_firewall()) {
            return;
        }
        in_private_netns(|| {
            let (_l1, lan4) = listen(LAN4);
            let (_l2, wan4) = listen(WAN4);
            let (_l3, lan6) = listen(LAN6);
            let (_l4, wan6) = listen(WAN6);
            let (_l5, lo4) = listen("127.0.0.1");
            let (_l6, lo6) = listen("::1");
            let rules = [
                (WAN_UID, NetworkPolicy::Wan),
                (FREE_UID, NetworkPolicy::Any),
            ];
            let _fw = Firewall::apply("igloo-test", &rules, &test_lan())
                .unwrap_or_else(|e| panic!("{e}"));
            for to in [wan4, wan6, lo4, lo6] {
                assert_eq!(probe(WAN_UID, Proto::Tcp, to), Ok(()), "TCP to {to}");
            }
            assert_eq!(probe(WAN_UID, Proto::Udp, udp_to(WAN4)), Ok(()));
            assert_eq!(probe(WAN_UID, Proto::Tcp, lan4), Err(Errno::ECONNREFUSED));
            assert_eq!(probe(WAN_UID, Proto::Tcp, lan6), Err(Errno::ECONNREFUSED));
            assert_eq!(probe(WAN_UID, Proto::Udp, udp_to(LAN4)), Err(Errno::EPERM));
            assert_eq!(probe(WAN_UID, Proto::Udp, udp_to(LAN6)), Err(Errno::EPERM));
            for to in [lan4, lan6, wan4, wan6] {
                assert_eq!(
                    probe(FREE_UID, Proto::Tcp, to),
                    Ok(()),
                    "baseline ('any') TCP to {to}"
                );
            }
        });
    }

    #[test]
    fn apply_replaces_and_remove_spares_other_tables() {
        let test = "apply_replaces_and_remove_spares_other_tables";
        if !may_run(test, missing_for_firewall()) {
            return;
        }
        in_private_netns(|| {
            run("nft add table inet other");
            run("nft add chain inet other c");
            let lan = test_lan();
            let rules = [(LAN_UID, NetworkPolicy::Lan), (WAN_UID, NetworkPolicy::Wan)];
            let stale =
                Firewall::apply("igloo-test", &rules, &lan).unwrap_or_else(|e| panic!("{e}"));
            let before = list_table("igloo-test");
            assert_eq!(count(&before, "rule"), 4 + 6);
            assert_eq!(count(&before, "set"), 2);
            assert_eq!(count(&before, "chain"), 1);
            // A core that crashed leaves its table behind; the next start replaces it.
            std::mem::forget(stale);
            let fw = Firewall::apply("igloo-test", &rules, &lan).unwrap_or_else(|e| panic!("{e}"));
            let after = list_table("igloo-test");
            assert_eq!(
                (
                    count(&after, "rule"),
                    count(&after, "set"),
                    count(&after, "chain")
                ),
                (4 + 6, 2, 1)
            );
            // Replaced again with fewer providers.
            std::mem::forget(fw);
            let fw =
                Firewall::apply("igloo-test", &rules[..1], &lan).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(count(&list_table("igloo-test"), "rule"), 4);
            fw.remove();
            let tables = run("nft list tables");
            assert!(!tables.contains("igloo-test"), "{tables}");
            assert!(tables.contains("table inet other"), "{tables}");
            // Removing a table that is already gone is not an error.
            delete_table("igloo-test").unwrap_or_else(|e| panic!("{e}"));
            let version = nft_available().unwrap_or_else(|e| panic!("{e}"));
            assert!(version.starts_with("nftables v"), "{version}");
        });
    }
}
