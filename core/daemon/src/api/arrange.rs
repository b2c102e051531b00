//! Rooms, and the owner's name and room for each device: `GET/POST
//! /api/v1/rooms`, `PATCH/DELETE /api/v1/rooms/{id}`, `PATCH
//! /api/v1/devices/{id}` (docs/api.md, "Rooms"). The tree task applies
//! and persists each change; these handlers only read the request.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::{ApiError, AppState, body_error, parse_id, views};
use crate::tree::{Arrange, ArrangeError, Arranged, DeviceEdit};

impl From<ArrangeError> for ApiError {
    fn from(e: ArrangeError) -> Self {
        let status = match e {
            ArrangeError::UnknownDevice(_) | ArrangeError::UnknownRoom(_) => StatusCode::NOT_FOUND,
            ArrangeError::Invalid(_) => StatusCode::BAD_REQUEST,
            ArrangeError::RoomExists(_) => StatusCode::CONFLICT,
            ArrangeError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, e.to_string())
    }
}

/// `GET /api/v1/rooms`: `[{"id", "name"}]`, ordered by name.
pub async fn rooms(State(s): State<AppState>) -> Json<Value> {
    Json(views::rooms(&s.tree.rooms().await))
}

/// `POST /api/v1/rooms` `{"name"}`: 201 with the new room.
pub async fn create_room(
    State(s): State<AppState>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = room_name(body)?;
    let done = s.tree.arrange(Arrange::CreateRoom(name)).await?;
    Ok((StatusCode::CREATED, Json(arranged(&done))))
}

/// `PATCH /api/v1/rooms/{id}` `{"name"}`: the renamed room.
pub async fn rename_room(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = room_id(&id)?;
    let name = room_name(body)?;
    let done = s.tree.arrange(Arrange::RenameRoom(id, name)).await?;
    Ok(Json(arranged(&done)))
}

/// `DELETE /api/v1/rooms/{id}`: `{"deleted": id}`; its devices are then in no room.
pub async fn delete_room(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = room_id(&id)?;
    let done = s.tree.arrange(Arrange::DeleteRoom(id)).await?;
    Ok(Json(arranged(&done)))
}

/// `PATCH /api/v1/devices/{id}` `{"name": "…"|null, "room": id|null}`, each
/// key optional (`null`: back to the provider's name, out of any room): the
/// device as it is now.
pub async fn edit_device(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let Json(body) = body.map_err(body_error)?;
    let map = object(&body)?;
    if let Some(k) = map.keys().find(|k| *k != "name" && *k != "room") {
        return Err(bad(format!(
            "unknown key {k:?}; a device takes \"name\" and \"room\""
        )));
    }
    let name = match map.get("name") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(n)) => Some(Some(n.clone())),
        Some(_) => return Err(bad("\"name\" must be a string or null".into())),
    };
    let room = match map.get("room") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => Some(Some(v.as_u64().ok_or_else(|| {
            bad("\"room\" must be a room id (a number) or null".into())
        })?)),
    };
    let edit = DeviceEdit { name, room };
    if edit.name.is_none() && edit.room.is_none() {
        return Err(bad("give \"name\" or \"room\"".into()));
    }
    let done = s.tree.arrange(Arrange::EditDevice(id, edit)).await?;
    Ok(Json(arranged(&done)))
}

fn arranged(done: &Arranged) -> Value {
    match done {
        Arranged::Room(r) => views::room(r),
        Arranged::RoomDeleted(id) => json!({"deleted": id}),
        Arranged::Device(d) => views::device(d),
    }
}

fn bad(message: String) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, message)
}

fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| bad("the body must be a JSON object".into()))
}

fn room_name(body: Result<Json<Value>, JsonRejection>) -> Result<String, ApiError> {
    let Json(body) = body.map_err(body_error)?;
    object(&body)?
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| bad("\"name\" (a string) is required".into()))
}

fn room_id(id: &str) -> Result<u64, ApiError> {
    id.parse()
        .map_err(|_| bad(format!("room id {id:?} is not a number")))
}
