//! Persistence with redb (DESIGN §6): the (provider, key) → [`DeviceId`] map,
//! and each device's name, attributes, entities and last known values; the
//! owner's rooms and what they set on devices are in [`rooms`].
//!
//! Every change is one redb write transaction, so a kill -9 at any point
//! leaves the previous or the next consistent state. Device records are JSON
//! so that a core rolled back to an older version still reads records written
//! by a newer one: unknown components in a record are skipped, not fatal.

pub mod rooms;

use std::collections::BTreeMap;
use std::path::Path;

use igloo_protocol::{Component, DeviceId};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

const DEVICE_KEYS: TableDefinition<(&str, &str), u64> = TableDefinition::new("device_keys");
const DEVICES: TableDefinition<u64, &[u8]> = TableDefinition::new("devices");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// Provider name → uid assigned from `[core] uid_range` (the gid is the same number).
const PROVIDER_UIDS: TableDefinition<&str, u32> = TableDefinition::new("provider_uids");
const NEXT_ID: &str = "next_device_id";
/// Every table, created at open so that readers never see "table does not exist".
const U64_TABLES: [TableDefinition<u64, &[u8]>; 3] =
    [DEVICES, rooms::ROOMS, rooms::DEVICE_SETTINGS];
/// redb page cache size, bytes.
const CACHE_BYTES: usize = 2 << 20;

/// A store failure. The message names the database file and the operation.
#[derive(Debug, thiserror::Error)]
#[error("device database {path}: {op}: {reason}")]
pub struct StoreError {
    path: String,
    op: &'static str,
    reason: String,
}

/// One device as persisted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// Owning provider's name.
    pub provider: String,
    /// The provider's stable key.
    pub key: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Device attributes.
    #[serde(default)]
    pub attributes: Vec<(String, String)>,
    /// Entities by name.
    #[serde(default)]
    pub entities: BTreeMap<String, EntityRecord>,
    /// Removed by its provider (the id stays reserved for the key).
    #[serde(default)]
    pub removed: bool,
}

/// One entity as persisted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EntityRecord {
    /// Entity attributes.
    #[serde(default)]
    pub attributes: Vec<(String, String)>,
    /// Last known values, each the serde JSON of a [`Component`] (`{"Switch":true}`)
    /// kept as raw text: unknown components from a newer core are skipped on
    /// load, and no JSON tree is built for each value.
    #[serde(default)]
    pub components: Vec<Box<RawValue>>,
}

impl EntityRecord {
    /// The components this build understands.
    pub fn known_components(&self) -> Vec<Component> {
        self.components
            .iter()
            .filter_map(|v| serde_json::from_str(v.get()).ok())
            .collect()
    }

    /// Encodes `values` for storage.
    pub fn encode_components(values: &[Component]) -> Vec<Box<RawValue>> {
        values
            .iter()
            .filter_map(|c| serde_json::value::to_raw_value(c).ok())
            .collect()
    }
}

/// The device database.
pub struct Store {
    db: Database,
    path: String,
}

impl Store {
    /// Opens (or creates) the database at `path`.
    ///
    /// # Errors
    /// [`StoreError`] if the file cannot be opened or is not a redb database.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let p = path.display().to_string();
        // A small cache: the working set is a few KiB per device, and the
        // appliance has little memory (redb's default would grow far larger).
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| err(&p, "open", e))?;
        let store = Store { db, path: p };
        // Make sure the tables exist so readers never see "table does not exist".
        let tx = store
            .db
            .begin_write()
            .map_err(|e| err(&store.path, "begin", e))?;
        {
            tx.open_table(DEVICE_KEYS)
                .map_err(|e| err(&store.path, "create tables", e))?;
            for t in U64_TABLES {
                tx.open_table(t)
                    .map_err(|e| err(&store.path, "create tables", e))?;
            }
            tx.open_table(META)
                .map_err(|e| err(&store.path, "create tables", e))?;
            tx.open_table(PROVIDER_UIDS)
                .map_err(|e| err(&store.path, "create tables", e))?;
        }
        tx.commit().map_err(|e| err(&store.path, "commit", e))?;
        Ok(store)
    }

    /// The uid of each provider in `names`: the one assigned earlier, or the
    /// lowest free one in `range` (inclusive), committed before returning so a
    /// provider keeps its uid (and its files) for good. Names not given keep
    /// their uids reserved.
    ///
    /// # Errors
    /// [`StoreError`] on database failure, or when the range is exhausted.
    pub fn assign_uids(
        &self,
        names: &[&str],
        range: (u32, u32),
    ) -> Result<BTreeMap<String, u32>, StoreError> {
        let tx = self
            .db
            .begin_write()
            .map_err(|e| err(&self.path, "begin", e))?;
        let mut out = BTreeMap::new();
        {
            let mut t = tx
                .open_table(PROVIDER_UIDS)
                .map_err(|e| err(&self.path, "open provider_uids", e))?;
            let mut used = std::collections::BTreeSet::new();
            for row in t
                .iter()
                .map_err(|e| err(&self.path, "read provider_uids", e))?
            {
                let (k, v) = row.map_err(|e| err(&self.path, "read provider_uids", e))?;
                used.insert(v.value());
                if names.contains(&k.value()) {
                    out.insert(k.value().to_string(), v.value());
                }
            }
            for name in names {
                if out.contains_key(*name) {
                    continue;
                }
                let uid = (range.0..=range.1)
                    .find(|u| !used.contains(u))
                    .ok_or_else(|| StoreError {
                        path: self.path.clone(),
                        op: "assign uid",
                        reason: format!(
                            "uid_range [{}, {}] has no free uid left for provider {name:?}",
                            range.0, range.1
                        ),
                    })?;
                t.insert(*name, uid)
                    .map_err(|e| err(&self.path, "write provider_uids", e))?;
                used.insert(uid);
                out.insert(name.to_string(), uid);
            }
        }
        tx.commit().map_err(|e| err(&self.path, "commit", e))?;
        Ok(out)
    }

    /// Calls `each` with every device record, one at a time (no full copy of the
    /// database in memory). Records that cannot be parsed are reported and skipped.
    ///
    /// # Errors
    /// [`StoreError`] on a database failure.
    pub fn load(&self, mut each: impl FnMut(DeviceId, DeviceRecord)) -> Result<usize, StoreError> {
        let tx = self
            .db
            .begin_read()
            .map_err(|e| err(&self.path, "begin read", e))?;
        let t = tx
            .open_table(DEVICES)
            .map_err(|e| err(&self.path, "open devices", e))?;
        let mut n = 0;
        for row in t
            .iter()
            .map_err(|e| err(&self.path, "iterate devices", e))?
        {
            let (k, v) = row.map_err(|e| err(&self.path, "read device", e))?;
            match serde_json::from_slice::<DeviceRecord>(v.value()) {
                Ok(r) => {
                    each(DeviceId(k.value()), r);
                    n += 1;
                }
                Err(e) => tracing::error!(
                    device = k.value(),
                    "skipping unreadable device record in {}: {e}",
                    self.path
                ),
            }
        }
        Ok(n)
    }

    /// Returns the id for (provider, key), allocating and persisting a new one
    /// (with `record`) if the pair is new. The second value is `true` when new.
    ///
    /// # Errors
    /// [`StoreError`]; nothing is changed then.
    pub fn allocate(&self, record: &DeviceRecord) -> Result<(DeviceId, bool), StoreError> {
        let tx = self
            .db
            .begin_write()
            .map_err(|e| err(&self.path, "begin", e))?;
        let result = {
            let mut keys = tx
                .open_table(DEVICE_KEYS)
                .map_err(|e| err(&self.path, "open keys", e))?;
            let existing = keys
                .get((record.provider.as_str(), record.key.as_str()))
                .map_err(|e| err(&self.path, "lookup key", e))?
                .map(|v| v.value());
            match existing {
                Some(id) => (DeviceId(id), false),
                None => {
                    let id = self.next_id(&tx, NEXT_ID)?;
                    keys.insert((record.provider.as_str(), record.key.as_str()), id)
                        .map_err(|e| err(&self.path, "write key", e))?;
                    let mut devices = tx
                        .open_table(DEVICES)
                        .map_err(|e| err(&self.path, "open devices", e))?;
                    let json =
                        serde_json::to_vec(record).map_err(|e| err(&self.path, "encode", e))?;
                    devices
                        .insert(id, json.as_slice())
                        .map_err(|e| err(&self.path, "write device", e))?;
                    (DeviceId(id), true)
                }
            }
        };
        tx.commit().map_err(|e| err(&self.path, "commit", e))?;
        Ok(result)
    }

    /// Writes these records in one transaction.
    ///
    /// # Errors
    /// [`StoreError`]; nothing is changed then.
    pub fn save(
        &self,
        records: impl IntoIterator<Item = (DeviceId, DeviceRecord)>,
    ) -> Result<usize, StoreError> {
        let tx = self
            .db
            .begin_write()
            .map_err(|e| err(&self.path, "begin", e))?;
        let mut n = 0;
        {
            let mut devices = tx
                .open_table(DEVICES)
                .map_err(|e| err(&self.path, "open devices", e))?;
            for (id, rec) in records {
                let json = serde_json::to_vec(&rec).map_err(|e| err(&self.path, "encode", e))?;
                devices
                    .insert(id.0, json.as_slice())
                    .map_err(|e| err(&self.path, "write device", e))?;
                n += 1;
            }
        }
        tx.commit().map_err(|e| err(&self.path, "commit", e))?;
        Ok(n)
    }
}

impl Store {
    /// Takes the next number of counter `key` in `META` (from 1; never
    /// given twice, also after deletions), inside `tx`.
    fn next_id(&self, tx: &redb::WriteTransaction, key: &str) -> Result<u64, StoreError> {
        let mut meta = tx
            .open_table(META)
            .map_err(|e| err(&self.path, "open meta", e))?;
        let id = meta
            .get(key)
            .map_err(|e| err(&self.path, "read next id", e))?
            .map_or(1, |v| v.value());
        meta.insert(key, id + 1)
            .map_err(|e| err(&self.path, "write next id", e))?;
        Ok(id)
    }
}

fn err(path: &str, op: &'static str, e: impl std::fmt::Display) -> StoreError {
    StoreError {
        path: path.to_string(),
        op,
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(p: &str, k: &str) -> DeviceRecord {
        DeviceRecord {
            provider: p.into(),
            key: k.into(),
            name: k.into(),
            ..Default::default()
        }
    }

    #[test]
    fn ids_are_stable_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("igloo.redb");
        let (a, b) = {
            let s = Store::open(&path).unwrap();
            let (a, new_a) = s.allocate(&rec("mqtt", "0x01")).unwrap();
            let (b, _) = s.allocate(&rec("mqtt", "0x02")).unwrap();
            assert!(new_a);
            assert_eq!(s.allocate(&rec("mqtt", "0x01")).unwrap(), (a, false));
            (a, b)
        };
        let s = Store::open(&path).unwrap();
        assert_eq!(s.allocate(&rec("mqtt", "0x02")).unwrap(), (b, false));
        assert!(
            s.allocate(&rec("esphome", "0x01")).unwrap().1,
            "same key under another provider is another device"
        );
        assert_ne!(a, b);
        assert_eq!(s.load(|_, _| {}).unwrap(), 3);
    }

    #[test]
    fn provider_uids_are_kept_and_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("igloo.redb");
        let first = {
            let s = Store::open(&path).unwrap();
            s.assign_uids(&["mqtt", "esphome"], (100, 102)).unwrap()
        };
        assert_eq!(first["mqtt"], 100);
        assert_eq!(first["esphome"], 101);
        let s = Store::open(&path).unwrap();
        // Reordered, one removed from the config, one added: old ones keep theirs,
        // the removed one's uid stays reserved.
        let again = s.assign_uids(&["serial", "esphome"], (100, 102)).unwrap();
        assert_eq!(again["esphome"], 101);
        assert_eq!(again["serial"], 102);
        let e = s.assign_uids(&["extra"], (100, 102)).unwrap_err();
        assert!(e.to_string().contains("no free uid"), "{e}");
    }

    #[test]
    fn unknown_components_from_a_newer_core_are_skipped() {
        let e = EntityRecord {
            attributes: vec![],
            components: vec![
                RawValue::from_string(r#"{"Switch":true}"#.into()).unwrap(),
                RawValue::from_string(r#"{"FluxCapacitance":1.21}"#.into()).unwrap(),
            ],
        };
        assert_eq!(e.known_components(), vec![Component::Switch(true)]);
    }
}
