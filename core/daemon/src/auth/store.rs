//! The accounts database: `<data_dir>/auth.redb` (mode 0600), apart from the
//! device database so that neither can lock the other. Three tables of JSON
//! records: the owner, tokens by id, and sessions by the SHA-256 of their
//! cookie. Every change is one write transaction (a power cut leaves the
//! previous or the next state).

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::tokens::TokenRecord;

const OWNER: TableDefinition<&str, &[u8]> = TableDefinition::new("owner");
const TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("tokens");
const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
/// The owner's row in [`OWNER`] (one owner today; users with roles later).
const OWNER_KEY: &str = "owner";

/// A database failure, naming the file and the operation.
#[derive(Debug, thiserror::Error)]
#[error("accounts database {path}: {op}: {reason}")]
pub struct AuthStoreError {
    path: String,
    op: &'static str,
    reason: String,
}

/// The owner's account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Owner {
    /// Login name.
    pub username: String,
    /// Argon2id PHC string (`auth::password`).
    pub password: String,
    /// Creation time, Unix seconds.
    pub created: u64,
}

/// A browser session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Creation time, Unix seconds.
    pub created: u64,
    /// Expiry, Unix seconds.
    pub expires: u64,
}

/// The accounts database.
pub struct AuthStore {
    db: Database,
    path: String,
}

fn err(path: &str, op: &'static str, e: impl std::fmt::Display) -> AuthStoreError {
    AuthStoreError {
        path: path.to_string(),
        op,
        reason: e.to_string(),
    }
}

impl AuthStore {
    /// Opens or creates the database at `path` and makes it 0600.
    ///
    /// # Errors
    /// [`AuthStoreError`] when it cannot be opened or is not a redb file.
    pub fn open(path: &Path) -> Result<AuthStore, AuthStoreError> {
        let p = path.display().to_string();
        let db = redb::Builder::new()
            .set_cache_size(256 << 10)
            .create(path)
            .map_err(|e| err(&p, "open", e))?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| err(&p, "chmod 0600", e))?;
        }
        let store = AuthStore { db, path: p };
        store.write(|tx| {
            for t in [OWNER, TOKENS, SESSIONS] {
                tx.open_table(t)?;
            }
            Ok(())
        })?;
        Ok(store)
    }

    fn write(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>,
    ) -> Result<(), AuthStoreError> {
        let tx = self
            .db
            .begin_write()
            .map_err(|e| err(&self.path, "begin", e))?;
        f(&tx).map_err(|e| err(&self.path, "write", e))?;
        tx.commit().map_err(|e| err(&self.path, "commit", e))
    }

    /// `table` in a fresh read transaction.
    fn read(
        &self,
        table: TableDefinition<&'static str, &'static [u8]>,
    ) -> Result<redb::ReadOnlyTable<&'static str, &'static [u8]>, AuthStoreError> {
        self.db
            .begin_read()
            .map_err(|e| err(&self.path, "begin read", e))?
            .open_table(table)
            .map_err(|e| err(&self.path, "open", e))
    }

    fn get<T: DeserializeOwned>(
        &self,
        table: TableDefinition<&'static str, &'static [u8]>,
        key: &str,
    ) -> Result<Option<T>, AuthStoreError> {
        let t = self.read(table)?;
        let Some(v) = t.get(key).map_err(|e| err(&self.path, "read", e))? else {
            return Ok(None);
        };
        serde_json::from_slice(v.value())
            .map(Some)
            .map_err(|e| err(&self.path, "decode", e))
    }

    fn all<T: DeserializeOwned>(
        &self,
        table: TableDefinition<&'static str, &'static [u8]>,
    ) -> Result<Vec<(String, T)>, AuthStoreError> {
        let t = self.read(table)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|e| err(&self.path, "iterate", e))? {
            let (k, v) = row.map_err(|e| err(&self.path, "read", e))?;
            // A record this build cannot read (a newer core's) is skipped.
            if let Ok(rec) = serde_json::from_slice(v.value()) {
                out.push((k.value().to_string(), rec));
            }
        }
        Ok(out)
    }

    fn put<T: Serialize>(
        &self,
        table: TableDefinition<&str, &[u8]>,
        key: &str,
        value: &T,
    ) -> Result<(), AuthStoreError> {
        let bytes = serde_json::to_vec(value).map_err(|e| err(&self.path, "encode", e))?;
        self.write(|tx| {
            tx.open_table(table)?.insert(key, bytes.as_slice())?;
            Ok(())
        })
    }

    fn remove(
        &self,
        table: TableDefinition<&str, &[u8]>,
        key: &str,
    ) -> Result<bool, AuthStoreError> {
        let mut found = false;
        self.write(|tx| {
            found = tx.open_table(table)?.remove(key)?.is_some();
            Ok(())
        })?;
        Ok(found)
    }

    /// The owner, if onboarding has happened.
    ///
    /// # Errors
    /// [`AuthStoreError`].
    pub fn owner(&self) -> Result<Option<Owner>, AuthStoreError> {
        self.get(OWNER, OWNER_KEY)
    }

    /// Creates the owner unless one exists; `false` when one did.
    ///
    /// # Errors
    /// [`AuthStoreError`].
    pub fn create_owner(&self, owner: &Owner) -> Result<bool, AuthStoreError> {
        let bytes = serde_json::to_vec(owner).map_err(|e| err(&self.path, "encode", e))?;
        let mut created = false;
        self.write(|tx| {
            let mut t = tx.open_table(OWNER)?;
            if t.get(OWNER_KEY)?.is_none() {
                t.insert(OWNER_KEY, bytes.as_slice())?;
                created = true;
            }
            Ok(())
        })?;
        Ok(created)
    }

    /// Replaces the owner's password hash and ends every session, in one
    /// transaction.
    ///
    /// # Errors
    /// [`AuthStoreError`], also when there is no owner.
    pub fn set_password(&self, phc: &str) -> Result<(), AuthStoreError> {
        let mut owner = self
            .owner()?
            .ok_or_else(|| err(&self.path, "set password", "no owner yet"))?;
        owner.password = phc.to_string();
        let bytes = serde_json::to_vec(&owner).map_err(|e| err(&self.path, "encode", e))?;
        self.write(|tx| {
            tx.open_table(OWNER)?.insert(OWNER_KEY, bytes.as_slice())?;
            tx.delete_table(SESSIONS)?;
            tx.open_table(SESSIONS)?;
            Ok(())
        })
    }

    /// The token with `id`.
    ///
    /// # Errors
    /// [`AuthStoreError`].
    pub fn token(&self, id: &str) -> Result<Option<TokenRecord>, AuthStoreError> {
        self.get(TOKENS, id)
    }

    /// Every token, by id.
    ///
    /// # Errors
    /// [`AuthStoreError`].
    pub fn tokens(&self) -> Result<Vec<(String, TokenRecord)>, AuthStoreError> {
        self.all(TOKENS)
    }

    /// Stores a token under `id`.
    ///
    /// # Errors
    /// [`AuthStoreError`].
    pub fn put_token(&self, id: &str, t: &TokenRecord) -> Result<(), AuthStoreError> {
        self.put(TOKENS, id, t)
    }

    /// Deletes token `id`; whether it existed.
    ///
    /// # Errors
    /// [`AuthStoreError`].
    pub fn remove_token(&self, id: &str) -> Result<bool, AuthStoreError> {
        self.remove(TOKENS, id)
    }

    /// The session whose cookie hashes to `digest`.
    ///
    /// # Errors
    /// [`AuthStoreError`].
    pub fn session(&self, digest: &str) -> Result<Option<SessionRecord>, AuthStoreError> {
        self.get(SESSIONS, digest)
    }

    /// Every session, by digest.
    ///
    /// # Errors
    /// [`AuthStoreError`].
    pub fn sessions(&self) -> Result<Vec<(String, SessionRecord)>, AuthStoreError> {
        self.all(SESSIONS)
    }

    /// Stores a session, and drops the ones that expired before `now`.
    ///
    /// # Errors
    /// [`AuthStoreError`].
    pub fn put_session(
        &self,
        digest: &str,
        s: &SessionRecord,
        now: u64,
    ) -> Result<(), AuthStoreError> {
        let expired: Vec<String> = self
            .sessions()?
            .into_iter()
            .filter(|(_, r)| r.expires <= now)
            .map(|(k, _)| k)
            .collect();
        let bytes = serde_json::to_vec(s).map_err(|e| err(&self.path, "encode", e))?;
        self.write(|tx| {
            let mut t = tx.open_table(SESSIONS)?;
            for k in &expired {
                t.remove(k.as_str())?;
            }
            t.insert(digest, bytes.as_slice())?;
            Ok(())
        })
    }

    /// Ends one session; whether it existed.
    ///
    /// # Errors
    /// [`AuthStoreError`].
    pub fn remove_session(&self, digest: &str) -> Result<bool, AuthStoreError> {
        self.remove(SESSIONS, digest)
    }

    /// Ends every session; how many there were.
    ///
    /// # Errors
    /// [`AuthStoreError`].
    pub fn clear_sessions(&self) -> Result<usize, AuthStoreError> {
        let n = self.sessions()?.len();
        self.write(|tx| {
            tx.delete_table(SESSIONS)?;
            tx.open_table(SESSIONS)?;
            Ok(())
        })?;
        Ok(n)
    }
}
