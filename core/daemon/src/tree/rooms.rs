//! The owner's arrangement, applied by the tree task: rooms, and each
//! device's name and room (docs/api.md, "Rooms"). Every change is written
//! to the store before it is applied and announced, so an answer of
//! success means it survives a restart.

use std::sync::Arc;

use igloo_protocol::DeviceId;

use super::{DeviceView, Tree};
use crate::events::Event;
use crate::store::rooms::{DeviceSettings, RoomRecord};

/// Longest room name, characters.
pub const MAX_ROOM_NAME: usize = 64;
/// Longest device name the owner may give, characters.
pub const MAX_DEVICE_NAME: usize = 128;
/// Most rooms.
pub const MAX_ROOMS: usize = 256;

/// A room as readers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomView {
    /// Its id, never reused.
    pub id: u64,
    /// Its name.
    pub name: String,
}

/// A change to the arrangement.
#[derive(Debug, Clone)]
pub enum Arrange {
    /// Add a room with this name.
    CreateRoom(String),
    /// Rename a room.
    RenameRoom(u64, String),
    /// Delete a room; its devices are then in no room.
    DeleteRoom(u64),
    /// Rename a device or move it.
    EditDevice(DeviceId, DeviceEdit),
}

/// What to change on a device; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct DeviceEdit {
    /// `Some(None)`: back to the provider's name.
    pub name: Option<Option<String>>,
    /// `Some(None)`: out of any room.
    pub room: Option<Option<u64>>,
}

/// The result of a change.
#[derive(Debug, Clone)]
pub enum Arranged {
    /// The room as it is now.
    Room(RoomView),
    /// The room is gone.
    RoomDeleted(u64),
    /// The device as it is now.
    Device(Box<DeviceView>),
}

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ArrangeError {
    /// No such device.
    #[error("device {0} not found")]
    UnknownDevice(DeviceId),
    /// No such room.
    #[error("room {0} not found")]
    UnknownRoom(u64),
    /// A name is empty or too long, or there are too many rooms.
    #[error("{0}")]
    Invalid(String),
    /// Another room has this name.
    #[error("a room named {0:?} exists already")]
    RoomExists(String),
    /// The store could not write it; nothing changed.
    #[error("{0}")]
    Store(String),
}

/// `name` trimmed, when it has 1 to `max` characters.
fn valid_name(what: &str, name: &str, max: usize) -> Result<String, ArrangeError> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 {
        return Err(ArrangeError::Invalid(format!("{what} is empty")));
    }
    if chars > max || name.chars().any(char::is_control) {
        return Err(ArrangeError::Invalid(format!(
            "{what} must be 1 to {max} characters without control characters"
        )));
    }
    Ok(name.to_string())
}

impl Tree {
    /// All rooms, ordered by name (then id).
    pub(super) fn room_views(&self) -> Vec<RoomView> {
        let mut v: Vec<RoomView> = self
            .rooms
            .iter()
            .map(|(id, name)| RoomView {
                id: *id,
                name: name.clone(),
            })
            .collect();
        v.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        });
        v
    }

    /// Applies one change (written to the store first).
    pub(super) fn arrange(&mut self, change: Arrange) -> Result<Arranged, ArrangeError> {
        let store_err = |e: crate::store::StoreError| ArrangeError::Store(e.to_string());
        let done = match change {
            Arrange::CreateRoom(name) => {
                let name = self.free_room_name(&name, None)?;
                if self.rooms.len() >= MAX_ROOMS {
                    return Err(ArrangeError::Invalid(format!(
                        "there are {MAX_ROOMS} rooms already"
                    )));
                }
                let record = RoomRecord { name: name.clone() };
                let id = self.store.create_room(&record).map_err(store_err)?;
                self.rooms.insert(id, name.clone());
                Arranged::Room(RoomView { id, name })
            }
            Arrange::RenameRoom(id, name) => {
                if !self.rooms.contains_key(&id) {
                    return Err(ArrangeError::UnknownRoom(id));
                }
                let name = self.free_room_name(&name, Some(id))?;
                let record = RoomRecord { name: name.clone() };
                self.store
                    .write_arrangement(Some((id, Some(&record))), &[])
                    .map_err(store_err)?;
                self.rooms.insert(id, name.clone());
                Arranged::Room(RoomView { id, name })
            }
            Arrange::DeleteRoom(id) => {
                if !self.rooms.contains_key(&id) {
                    return Err(ArrangeError::UnknownRoom(id));
                }
                let moved: Vec<(DeviceId, DeviceSettings)> = self
                    .devices
                    .values()
                    .filter(|d| d.settings.room == Some(id))
                    .map(|d| {
                        let settings = DeviceSettings {
                            room: None,
                            ..d.settings.clone()
                        };
                        (d.id, settings)
                    })
                    .collect();
                let rows: Vec<(DeviceId, &DeviceSettings)> =
                    moved.iter().map(|(id, s)| (*id, s)).collect();
                self.store
                    .write_arrangement(Some((id, None)), &rows)
                    .map_err(store_err)?;
                self.rooms.remove(&id);
                for (device, settings) in moved {
                    if let Some(d) = self.devices.get_mut(&device) {
                        d.settings = settings;
                        let view = Arc::new(d.view());
                        self.emit(Event::Device(view));
                    }
                }
                Arranged::RoomDeleted(id)
            }
            Arrange::EditDevice(id, edit) => return self.edit_device(id, edit),
        };
        self.emit(Event::Rooms(Arc::from(self.room_views())));
        Ok(done)
    }

    fn edit_device(&mut self, id: DeviceId, edit: DeviceEdit) -> Result<Arranged, ArrangeError> {
        let d = self
            .devices
            .get(&id)
            .filter(|d| !d.removed)
            .ok_or(ArrangeError::UnknownDevice(id))?;
        let mut settings = d.settings.clone();
        if let Some(name) = edit.name {
            settings.name = name
                .map(|n| valid_name("device name", &n, MAX_DEVICE_NAME))
                .transpose()?;
        }
        if let Some(room) = edit.room {
            if let Some(r) = room
                && !self.rooms.contains_key(&r)
            {
                return Err(ArrangeError::UnknownRoom(r));
            }
            settings.room = room;
        }
        self.store
            .write_arrangement(None, &[(id, &settings)])
            .map_err(|e| ArrangeError::Store(e.to_string()))?;
        let d = self
            .devices
            .get_mut(&id)
            .ok_or(ArrangeError::UnknownDevice(id))?;
        d.settings = settings;
        let view = d.view();
        self.emit(Event::Device(Arc::new(view.clone())));
        Ok(Arranged::Device(Box::new(view)))
    }

    /// `name` as a room name no other room (than `except`) has.
    fn free_room_name(&self, name: &str, except: Option<u64>) -> Result<String, ArrangeError> {
        let name = valid_name("room name", name, MAX_ROOM_NAME)?;
        let taken = self
            .rooms
            .iter()
            .any(|(id, n)| Some(*id) != except && n.to_lowercase() == name.to_lowercase());
        if taken {
            return Err(ArrangeError::RoomExists(name));
        }
        Ok(name)
    }
}
