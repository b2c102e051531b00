//! `igloo rooms …`, `igloo rename` and `igloo move`: the owner's rooms and
//! device names (`/api/v1/rooms`, `PATCH /api/v1/devices/{id}`).

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::Client;

impl Client {
    /// `method path` (under `/api/v1`) with a JSON body, for PATCH and DELETE.
    pub(super) fn send(&self, method: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
        let bytes = serde_json::to_vec(body)?;
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path))
            .header("Content-Type", "application/json");
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let resp = self
            .agent
            .run(req.body(bytes)?)
            .with_context(|| format!("cannot reach the core at {}", self.base))?;
        self.check(resp)
    }

    /// `igloo rooms`: id and name of each room, with its device count.
    pub fn rooms_list(&self) -> anyhow::Result<()> {
        let rooms = self.get("/rooms")?;
        if self.json {
            Self::print_json(&rooms);
            return Ok(());
        }
        let devices = self.get("/devices")?;
        let count = |id: Option<u64>| {
            devices
                .as_array()
                .map_or(0, |d| d.iter().filter(|d| d["room"].as_u64() == id).count())
        };
        println!("{:>5}  {:<32} DEVICES", "ID", "ROOM");
        for r in rooms.as_array().into_iter().flatten() {
            let id = r["id"].as_u64();
            let name = r["name"].as_str().unwrap_or("");
            println!("{:>5}  {name:<32} {}", id.unwrap_or(0), count(id));
        }
        println!("{:>5}  {:<32} {}", "-", "(no room)", count(None));
        Ok(())
    }

    /// `igloo rooms add NAME`.
    pub fn rooms_add(&self, name: &str) -> anyhow::Result<()> {
        let r = self.post("/rooms", &json!({"name": name}))?;
        self.done(&r, || format!("room {} added: {}", r["id"], r["name"]))
    }

    /// `igloo rooms rename ROOM NAME`.
    pub fn rooms_rename(&self, room: &str, name: &str) -> anyhow::Result<()> {
        let id = self.room_id(room)?;
        let r = self.send("PATCH", &format!("/rooms/{id}"), &json!({"name": name}))?;
        self.done(&r, || format!("room {id} is now {}", r["name"]))
    }

    /// `igloo rooms remove ROOM`: its devices are then in no room.
    pub fn rooms_remove(&self, room: &str) -> anyhow::Result<()> {
        let id = self.room_id(room)?;
        let r = self.send("DELETE", &format!("/rooms/{id}"), &json!({}))?;
        self.done(&r, || {
            format!("room {id} removed; its devices are in no room")
        })
    }

    /// `igloo rename DEVICE NAME` (`--reset`: the provider's name again).
    pub fn rename(&self, device: u64, name: Option<&str>) -> anyhow::Result<()> {
        let d = self.send(
            "PATCH",
            &format!("/devices/{device}"),
            &json!({"name": name}),
        )?;
        self.done(&d, || format!("device {device} is now {}", d["name"]))
    }

    /// `igloo move DEVICE ROOM` (a room id or name, or `none`).
    pub fn move_device(&self, device: u64, room: &str) -> anyhow::Result<()> {
        let id = match room {
            "none" | "-" => None,
            r => Some(self.room_id(r)?),
        };
        let d = self.send("PATCH", &format!("/devices/{device}"), &json!({"room": id}))?;
        self.done(&d, || match id {
            Some(id) => format!("device {device} moved to room {id}"),
            None => format!("device {device} is in no room"),
        })
    }

    fn done(&self, v: &Value, text: impl FnOnce() -> String) -> anyhow::Result<()> {
        if self.json {
            Self::print_json(v);
        } else {
            println!("{}", text());
        }
        Ok(())
    }

    /// A room given by id or by name (case-insensitive).
    fn room_id(&self, room: &str) -> anyhow::Result<u64> {
        if let Ok(id) = room.parse() {
            return Ok(id);
        }
        let rooms = self.get("/rooms")?;
        let found = rooms.as_array().into_iter().flatten().find(|r| {
            r["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(room))
        });
        match found.and_then(|r| r["id"].as_u64()) {
            Some(id) => Ok(id),
            None => bail!("no room named {room:?} (`igloo rooms` lists them)"),
        }
    }
}
