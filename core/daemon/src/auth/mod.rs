//! Who is asking, and may they (docs/security.md). The API's access layer
//! (`api::access`) asks [`Auth::authenticate`] for the [`Principal`] behind a
//! request and compares its [`Scope`] with the one the route needs.
//!
//! - The owner's account is made once, by onboarding with a one-time setup
//!   code ([`setup`]); its password is an Argon2id hash ([`password`]).
//! - Browsers hold a server-side session behind an `HttpOnly`,
//!   `SameSite=Strict` cookie ([`SESSION_COOKIE`]); programs hold bearer
//!   tokens with a scope ([`tokens`]). Only SHA-256 digests of both are
//!   stored ([`store`], `<data_dir>/auth.redb`).
//! - Root on the gateway itself needs no credentials on the local Unix
//!   socket (checked by `SO_PEERCRED`).
//! - Failed logins are kept per client address for the owner to see.

pub mod password;
pub mod scope;
pub mod secret;
pub mod settings;
pub mod setup;
pub mod store;
pub mod tokens;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};

pub use self::scope::Scope;
use self::settings::AuthSettings;
use self::setup::SetupCode;
use self::store::{AuthStore, AuthStoreError, Owner, SessionRecord};
use self::tokens::{NewToken, TokenRecord};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "igloo_session";
/// Failed-login records kept (oldest dropped first).
const FAILURE_RECORDS: usize = 64;

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The owner, through a browser session (the digest of its cookie).
    Owner {
        /// SHA-256 of the session cookie.
        session: String,
    },
    /// A program with a bearer token.
    Token {
        /// The token's id.
        id: String,
        /// What it may do.
        scope: Scope,
    },
    /// Root on the gateway, through the local Unix socket.
    Local,
    /// Anyone: `[auth] enabled = false` (loopback only).
    Open,
}

impl Principal {
    /// What this principal may do: the owner, local root and an open API
    /// may do everything; a token what its scope says.
    pub fn scope(&self) -> Scope {
        match self {
            Principal::Token { scope, .. } => *scope,
            Principal::Owner { .. } | Principal::Local | Principal::Open => Scope::Admin,
        }
    }

    /// `session`, `token`, `local` or `open`: how it authenticated.
    pub fn kind(&self) -> &'static str {
        match self {
            Principal::Owner { .. } => "session",
            Principal::Token { .. } => "token",
            Principal::Local => "local",
            Principal::Open => "open",
        }
    }
}

/// Credentials that were presented but are not valid (401).
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// A bearer value that is not a live token.
    #[error("the token is not valid (revoked, mistyped, or from another gateway)")]
    BadToken,
    /// A session cookie that is unknown or expired.
    #[error("the session has ended; log in again")]
    SessionEnded,
    /// A local-socket client that is not root.
    #[error("only root may use the local socket (peer uid {0})")]
    NotRoot(u32),
    /// The accounts database failed.
    #[error("{0}")]
    Store(#[from] AuthStoreError),
}

/// Why onboarding, a login or a password change did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The owner exists already (409).
    #[error("the owner's account exists already; log in instead")]
    AlreadyOnboarded,
    /// No owner yet (409).
    #[error("no owner yet: create the account with the setup code first")]
    NotOnboarded,
    /// Wrong setup code (401).
    #[error("wrong setup code (see the gateway's console, or the file named in the core's log)")]
    WrongCode,
    /// Wrong user name or password (401).
    #[error("wrong user name or password")]
    WrongPassword,
    /// A request that breaks a rule (422).
    #[error("{0}")]
    Invalid(String),
    /// The store or the hasher failed (500).
    #[error("{0}")]
    Internal(String),
}

impl From<AuthStoreError> for AccountError {
    fn from(e: AuthStoreError) -> Self {
        AccountError::Internal(e.to_string())
    }
}

impl From<password::PasswordError> for AccountError {
    fn from(e: password::PasswordError) -> Self {
        match e {
            password::PasswordError::Length => AccountError::Invalid(e.to_string()),
            password::PasswordError::Hash(h) => AccountError::Internal(h),
        }
    }
}

/// A new browser session: the cookie value (secret) and its expiry.
pub struct NewSession {
    /// The cookie's value; never stored, never logged.
    pub cookie: String,
    /// Lifetime, seconds (the cookie's `Max-Age`).
    pub max_age_s: u64,
}

/// Failed logins from one client address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failures {
    /// How many since the core started.
    pub count: u64,
    /// The last one, Unix seconds.
    pub last: u64,
}

/// A token as listed (never its secret).
#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// Its id.
    pub id: String,
    /// The stored record (name, scope, digest, creation time).
    pub record: TokenRecord,
    /// Last request made with it since the core started, Unix seconds.
    pub last_used: Option<u64>,
}

/// The authentication handle shared by the API handlers.
pub struct Auth {
    settings: AuthSettings,
    store: AuthStore,
    setup: SetupCode,
    failures: Mutex<BTreeMap<IpAddr, Failures>>,
    last_used: Mutex<HashMap<String, u64>>,
}

/// Now, Unix seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Auth {
    /// Opens the accounts database in `data_dir` and, while no owner exists,
    /// makes a setup code (written to `<data_dir>/setup-code`, mode 0600;
    /// only that path is logged).
    ///
    /// # Errors
    /// The database cannot be opened, or the setup code cannot be written.
    pub fn open(settings: AuthSettings, data_dir: &Path) -> anyhow::Result<Auth> {
        let store = AuthStore::open(&data_dir.join("auth.redb"))?;
        let setup = SetupCode::new(data_dir.join("setup-code"));
        if settings.enabled {
            if store.owner()?.is_none() {
                setup.issue()?;
            } else {
                setup.withdraw();
            }
        }
        Ok(Auth {
            settings,
            store,
            setup,
            failures: Mutex::new(BTreeMap::new()),
            last_used: Mutex::new(HashMap::new()),
        })
    }

    /// The principal behind a request's headers. `local_uid` is the peer's
    /// uid for requests on the local socket (`None` on TCP).
    /// `Ok(None)`: no credentials at all.
    ///
    /// # Errors
    /// [`Refused`] when credentials were presented but are not valid.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        local_uid: Option<u32>,
    ) -> Result<Option<Principal>, Refused> {
        if let Some(uid) = local_uid {
            return if uid == 0 {
                Ok(Some(Principal::Local))
            } else {
                Err(Refused::NotRoot(uid))
            };
        }
        if !self.settings.enabled {
            return Ok(Some(Principal::Open));
        }
        if let Some(bearer) = bearer(headers) {
            return self.check_token(bearer).map(Some);
        }
        if let Some(cookie) = cookie(headers, SESSION_COOKIE) {
            return self.check_session(cookie).map(Some);
        }
        Ok(None)
    }

    fn check_token(&self, presented: &str) -> Result<Principal, Refused> {
        let (id, secret_part) = tokens::parse(presented).ok_or(Refused::BadToken)?;
        let record = self.store.token(id)?.ok_or(Refused::BadToken)?;
        if !tokens::matches(&record, secret_part) {
            return Err(Refused::BadToken);
        }
        if let Ok(mut used) = self.last_used.lock() {
            used.insert(id.to_string(), now());
        }
        Ok(Principal::Token {
            id: id.to_string(),
            scope: record.scope,
        })
    }

    fn check_session(&self, cookie: &str) -> Result<Principal, Refused> {
        let digest = secret::digest(cookie);
        match self.store.session(&digest)? {
            Some(s) if s.expires > now() => Ok(Principal::Owner { session: digest }),
            _ => Err(Refused::SessionEnded),
        }
    }

    /// Whether the owner's account is still to be made.
    ///
    /// # Errors
    /// The database failed.
    pub fn onboarding_needed(&self) -> Result<bool, AuthStoreError> {
        Ok(self.settings.enabled && self.store.owner()?.is_none())
    }

    /// Creates the owner with the setup code, and a first session. Hashes
    /// the password on a blocking thread.
    ///
    /// # Errors
    /// [`AccountError`]: onboarded already, a wrong code, a bad user name or password.
    pub async fn onboard(
        &self,
        code: &str,
        username: &str,
        password: &str,
    ) -> Result<NewSession, AccountError> {
        if self.store.owner()?.is_some() {
            return Err(AccountError::AlreadyOnboarded);
        }
        if !self.setup.matches(code) {
            return Err(AccountError::WrongCode);
        }
        check_username(username)?;
        let password = password.to_string();
        let phc = tokio::task::spawn_blocking(move || password::hash(&password))
            .await
            .map_err(|e| AccountError::Internal(e.to_string()))??;
        let owner = Owner {
            username: username.to_string(),
            password: phc,
            created: now(),
        };
        if !self.store.create_owner(&owner)? {
            return Err(AccountError::AlreadyOnboarded);
        }
        self.setup.withdraw();
        tracing::info!(
            user = username,
            "owner account created; the setup code is used up"
        );
        Ok(self.new_session()?)
    }

    /// Checks the owner's user name and password (on a blocking thread; the
    /// hash is verified even for a wrong user name, so timing does not tell
    /// which was wrong). A failure is counted for `from`.
    ///
    /// # Errors
    /// [`AccountError::WrongPassword`], [`AccountError::NotOnboarded`], or a store failure.
    pub async fn check_login(
        &self,
        username: &str,
        password: &str,
        from: Option<IpAddr>,
    ) -> Result<(), AccountError> {
        let owner = self.store.owner()?.ok_or(AccountError::NotOnboarded)?;
        let (given, stored) = (password.to_string(), owner.password.clone());
        let ok = tokio::task::spawn_blocking(move || password::verify(&given, &stored))
            .await
            .map_err(|e| AccountError::Internal(e.to_string()))??;
        if ok && secret::same(username, &owner.username) {
            return Ok(());
        }
        self.record_failure(from);
        Err(AccountError::WrongPassword)
    }

    fn record_failure(&self, from: Option<IpAddr>) {
        let Some(ip) = from else { return };
        let count = self.failures.lock().map_or(0, |mut f| {
            if f.len() >= FAILURE_RECORDS && !f.contains_key(&ip) {
                let oldest = f.iter().min_by_key(|(_, v)| v.last).map(|(k, _)| *k);
                if let Some(k) = oldest {
                    f.remove(&k);
                }
            }
            let e = f.entry(ip).or_insert(Failures { count: 0, last: 0 });
            e.count += 1;
            e.last = now();
            e.count
        });
        tracing::warn!(client = %ip, failures = count, "failed login");
    }

    /// Failed logins per client address since the core started.
    pub fn failures(&self) -> BTreeMap<IpAddr, Failures> {
        self.failures.lock().map(|f| f.clone()).unwrap_or_default()
    }

    /// Starts a browser session.
    ///
    /// # Errors
    /// The database failed.
    pub fn new_session(&self) -> Result<NewSession, AuthStoreError> {
        let cookie = secret::random_text(32);
        let now = now();
        let record = SessionRecord {
            created: now,
            expires: now + self.settings.session_ttl_s,
        };
        self.store
            .put_session(&secret::digest(&cookie), &record, now)?;
        Ok(NewSession {
            cookie,
            max_age_s: self.settings.session_ttl_s,
        })
    }

    /// Ends the session with cookie digest `digest`; whether it existed.
    ///
    /// # Errors
    /// The database failed.
    pub fn end_session(&self, digest: &str) -> Result<bool, AuthStoreError> {
        self.store.remove_session(digest)
    }

    /// Ends every session; how many there were.
    ///
    /// # Errors
    /// The database failed.
    pub fn end_all_sessions(&self) -> Result<usize, AuthStoreError> {
        self.store.clear_sessions()
    }

    /// Live sessions: (digest prefix, record).
    ///
    /// # Errors
    /// The database failed.
    pub fn sessions(&self) -> Result<Vec<(String, SessionRecord)>, AuthStoreError> {
        let now = now();
        Ok(self
            .store
            .sessions()?
            .into_iter()
            .filter(|(_, s)| s.expires > now)
            .map(|(d, s)| (d[..12.min(d.len())].to_string(), s))
            .collect())
    }

    /// Makes a token called `name` with `scope`.
    ///
    /// # Errors
    /// [`AccountError::Invalid`] for a bad name; a store failure.
    pub fn create_token(&self, name: &str, scope: Scope) -> Result<NewToken, AccountError> {
        tokens::check_name(name).map_err(AccountError::Invalid)?;
        let t = tokens::issue(name, scope, now());
        self.store.put_token(&t.id, &t.record)?;
        tracing::info!(id = t.id.as_str(), scope = %scope, "token created");
        Ok(t)
    }

    /// Every token (without secrets), oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, AuthStoreError> {
        let used = self.last_used.lock().map(|u| u.clone()).unwrap_or_default();
        let mut list: Vec<TokenInfo> = self
            .store
            .tokens()?
            .into_iter()
            .map(|(id, record)| TokenInfo {
                last_used: used.get(&id).copied(),
                id,
                record,
            })
            .collect();
        list.sort_by(|a, b| (a.record.created, &a.id).cmp(&(b.record.created, &b.id)));
        Ok(list)
    }

    /// Revokes token `id`; whether it existed.
    ///
    /// # Errors
    /// The database failed.
    pub fn revoke_token(&self, id: &str) -> Result<bool, AuthStoreError> {
        let found = self.store.remove_token(id)?;
        if found {
            tracing::info!(id, "token revoked");
        }
        Ok(found)
    }

    /// Sets the owner's password and ends every session. `current` must
    /// match unless `None` (allowed only to local root: recovery).
    ///
    /// # Errors
    /// [`AccountError`].
    pub async fn set_password(
        &self,
        current: Option<&str>,
        new: &str,
        from: Option<IpAddr>,
    ) -> Result<(), AccountError> {
        let owner = self.store.owner()?.ok_or(AccountError::NotOnboarded)?;
        if let Some(current) = current {
            self.check_login(&owner.username, current, from).await?;
        }
        let new = new.to_string();
        let phc = tokio::task::spawn_blocking(move || password::hash(&new))
            .await
            .map_err(|e| AccountError::Internal(e.to_string()))??;
        self.store.set_password(&phc)?;
        tracing::info!("owner password changed; every session ended");
        Ok(())
    }

    /// The owner's user name, if onboarded.
    ///
    /// # Errors
    /// The database failed.
    pub fn owner_name(&self) -> Result<Option<String>, AuthStoreError> {
        Ok(self.store.owner()?.map(|o| o.username))
    }
}

/// Checks a new owner's user name: 1–64 characters, letters, digits and `._-@`.
///
/// # Errors
/// [`AccountError::Invalid`].
pub fn check_username(name: &str) -> Result<(), AccountError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "._-@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AccountError::Invalid(
            "a user name needs 1 to 64 letters, digits or . _ - @".into(),
        ))
    }
}

/// The value of an `Authorization: Bearer …` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (kind, rest) = v.split_once(' ')?;
    kind.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

/// The value of cookie `name` (RFC 6265 §5.4 `Cookie` header: `a=b; c=d`).
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_bearer_values_are_found() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, "a=1; igloo_session=xyz ; b=2".parse().unwrap());
        h.insert(AUTHORIZATION, "bearer igloo_t".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
        assert_eq!(bearer(&h), Some("igloo_t"));
    }

    #[test]
    fn user_names_are_plain() {
        assert!(check_username("owner").is_ok());
        assert!(check_username("anna.b@home").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username("a\u{0}").is_err());
    }
}
