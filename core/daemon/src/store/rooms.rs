//! The owner's arrangement of the home: rooms, and per device the name and
//! room the owner chose. Kept in tables of their own, apart from the
//! provider's device records: a provider reporting its device again never
//! overwrites a rename, and a core from before rooms (after a rollback)
//! neither reads nor rewrites these tables, so nothing is lost when it is
//! updated again. Rows are JSON, like device records (docs/compatibility.md).

use std::collections::BTreeMap;

use igloo_protocol::DeviceId;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, err};

/// Room id → [`RoomRecord`] (JSON).
pub(super) const ROOMS: TableDefinition<u64, &[u8]> = TableDefinition::new("rooms");
/// Device id → [`DeviceSettings`] (JSON); no row = nothing set.
pub(super) const DEVICE_SETTINGS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("device_settings");
const NEXT_ROOM: &str = "next_room_id";

/// A room as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRecord {
    /// The room's name, as the owner wrote it.
    pub name: String,
}

/// What the owner set on one device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSettings {
    /// The owner's name for the device; `None`: the provider's name is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The room it is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<u64>,
}

impl DeviceSettings {
    /// Nothing set: no row is kept.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.room.is_none()
    }
}

impl Store {
    /// Every room, by id.
    ///
    /// # Errors
    /// [`StoreError`] on a database failure; an unreadable row is reported and skipped.
    pub fn rooms(&self) -> Result<BTreeMap<u64, RoomRecord>, StoreError> {
        self.read_json(ROOMS, "rooms")
    }

    /// What the owner set on each device, by device id.
    ///
    /// # Errors
    /// [`StoreError`] on a database failure; an unreadable row is reported and skipped.
    pub fn device_settings(&self) -> Result<BTreeMap<u64, DeviceSettings>, StoreError> {
        self.read_json(DEVICE_SETTINGS, "device_settings")
    }

    fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        table: TableDefinition<u64, &[u8]>,
        name: &'static str,
    ) -> Result<BTreeMap<u64, T>, StoreError> {
        let tx = self
            .db
            .begin_read()
            .map_err(|e| err(&self.path, "begin read", e))?;
        let t = tx.open_table(table).map_err(|e| err(&self.path, name, e))?;
        let mut out = BTreeMap::new();
        for row in t.iter().map_err(|e| err(&self.path, name, e))? {
            let (k, v) = row.map_err(|e| err(&self.path, name, e))?;
            match serde_json::from_slice(v.value()) {
                Ok(r) => {
                    out.insert(k.value(), r);
                }
                Err(e) => tracing::error!(
                    table = name,
                    id = k.value(),
                    "skipping unreadable row in {}: {e}",
                    self.path
                ),
            }
        }
        Ok(out)
    }

    /// Adds a room and returns its new id (ids are never reused).
    ///
    /// # Errors
    /// [`StoreError`]; nothing is changed then.
    pub fn create_room(&self, room: &RoomRecord) -> Result<u64, StoreError> {
        let tx = self
            .db
            .begin_write()
            .map_err(|e| err(&self.path, "begin", e))?;
        let id = self.next_id(&tx, NEXT_ROOM)?;
        self.put(&tx, ROOMS, id, Some(room))?;
        tx.commit().map_err(|e| err(&self.path, "commit", e))?;
        Ok(id)
    }

    /// Writes room `id` (`None`: deletes it) and the settings of `devices`
    /// (an empty one deletes its row), in one transaction.
    ///
    /// # Errors
    /// [`StoreError`]; nothing is changed then.
    pub fn write_arrangement(
        &self,
        room: Option<(u64, Option<&RoomRecord>)>,
        devices: &[(DeviceId, &DeviceSettings)],
    ) -> Result<(), StoreError> {
        let tx = self
            .db
            .begin_write()
            .map_err(|e| err(&self.path, "begin", e))?;
        if let Some((id, record)) = room {
            self.put(&tx, ROOMS, id, record)?;
        }
        for (id, settings) in devices {
            let row = (!settings.is_empty()).then_some(*settings);
            self.put(&tx, DEVICE_SETTINGS, id.0, row)?;
        }
        tx.commit().map_err(|e| err(&self.path, "commit", e))
    }

    fn put<T: Serialize>(
        &self,
        tx: &redb::WriteTransaction,
        table: TableDefinition<u64, &[u8]>,
        id: u64,
        value: Option<&T>,
    ) -> Result<(), StoreError> {
        let mut t = tx
            .open_table(table)
            .map_err(|e| err(&self.path, "open table", e))?;
        match value {
            Some(v) => {
                let json = serde_json::to_vec(v).map_err(|e| err(&self.path, "encode", e))?;
                t.insert(id, json.as_slice())
                    .map_err(|e| err(&self.path, "write", e))?;
            }
            None => {
                t.remove(id).map_err(|e| err(&self.path, "delete", e))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_and_settings_persist_and_deleting_clears_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("igloo.redb");
        let store = Store::open(&path).expect("open");
        let kitchen = RoomRecord {
            name: "Kitchen".into(),
        };
        let id = store.create_room(&kitchen).expect("create");
        let hall = store
            .create_room(&RoomRecord {
                name: "Hall".into(),
            })
            .expect("create");
        assert_ne!(id, hall);
        let lamp = DeviceSettings {
            name: Some("Desk lamp".into()),
            room: Some(id),
        };
        store
            .write_arrangement(None, &[(DeviceId(7), &lamp)])
            .expect("write");
        drop(store);
        let store = Store::open(&path).expect("reopen");
        assert_eq!(store.rooms().expect("rooms").get(&id), Some(&kitchen));
        assert_eq!(
            store.device_settings().expect("settings").get(&7),
            Some(&lamp)
        );
        // Deleting the room and clearing the device's room in one step.
        let cleared = DeviceSettings {
            room: None,
            ..lamp.clone()
        };
        store
            .write_arrangement(Some((id, None)), &[(DeviceId(7), &cleared)])
            .expect("delete");
        assert!(!store.rooms().expect("rooms").contains_key(&id));
        assert_eq!(
            store.device_settings().expect("settings").get(&7),
            Some(&cleared)
        );
        store
            .write_arrangement(None, &[(DeviceId(7), &DeviceSettings::default())])
            .expect("clear");
        assert!(store.device_settings().expect("settings").is_empty());
        // A new room never takes a deleted room's id.
        let next = store
            .create_room(&RoomRecord {
                name: "Attic".into(),
            })
            .expect("create");
        assert!(next > hall);
    }
}
