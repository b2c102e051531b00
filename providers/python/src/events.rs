//! The events a provider receives from the core, as Python objects, and
//! the asynchronous iterator over them (`async for event in provider.events()`).

use std::os::fd::IntoRawFd;
use std::sync::Arc;

use igloo_provider::Event;
use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tokio::sync::Mutex;

use crate::values;

/// A change request from a user: make the device take `values`, then report
/// what it confirms with `Provider.write` (writes are not optimistic), or
/// `Provider.refuse_change`.
#[pyclass(frozen, get_all, module = "igloo._igloo")]
pub struct Change {
    /// The device id.
    pub device: u64,
    /// The entity number `register_entity` returned.
    pub entity: u32,
    /// Requested values: component name → value.
    pub values: Py<PyDict>,
}

/// A provider-specific command; answer with `Provider.reply_custom` or
/// `Provider.reply_error` and this `request_id`.
#[pyclass(frozen, get_all, module = "igloo._igloo")]
pub struct Custom {
    /// Echo this in the reply.
    pub request_id: u32,
    /// The command's name.
    pub command: String,
    /// Its argument (JSON text by convention).
    pub body: String,
}

/// The core granted a device (a serial port or dongle it opened for this
/// provider). `fd` is a file descriptor of its own for this provider to use
/// and close (e.g. `os.fdopen(event.fd, "r+b", buffering=0)`).
#[pyclass(frozen, get_all, module = "igloo._igloo")]
pub struct Granted {
    /// The grant's number (as in `Revoked.grant`).
    pub grant: u32,
    /// The device's name, e.g. `ttyUSB0`.
    pub name: String,
    /// An open file descriptor on the device, owned by the receiver.
    pub fd: i32,
    /// What the core knows of it (`usb_vid`, `usb_pid`, `known` …).
    pub attributes: Vec<(String, String)>,
}

/// A granted device was unplugged or withdrawn: stop using it and close its fd.
#[pyclass(frozen, get_all, module = "igloo._igloo")]
pub struct Revoked {
    /// The grant's number.
    pub grant: u32,
    /// Why, e.g. `unplugged`.
    pub reason: String,
}

/// An error the core reported that belongs to no pending request (a write to
/// an entity it does not know, for example).
#[pyclass(frozen, get_all, module = "igloo._igloo")]
pub struct CoreError {
    /// The protocol's error code.
    pub code: u16,
    /// The explanation.
    pub message: String,
}

/// One entity of a [`TreeDevice`].
#[pyclass(frozen, get_all, module = "igloo._igloo")]
pub struct TreeEntity {
    /// The entity's name, unique per device (`TreeState.entity` and
    /// `Provider.request_change` use it).
    pub name: String,
    /// Its attributes as its provider registered them (`unit`, `writable`…).
    pub attributes: Vec<(String, String)>,
    /// Its confirmed values: component name → value.
    pub values: Py<PyDict>,
}

/// Tree observation (`Provider.observe_tree`): a whole device of any
/// provider, in the snapshot or when it was created, renamed, moved, came
/// back or gained or lost an entity. Replaces what the observer knew of it.
#[pyclass(frozen, get_all, module = "igloo._igloo")]
pub struct TreeDevice {
    /// The device id.
    pub device: u64,
    /// The owning provider's name in the core config (e.g. `mqtt`).
    pub provider: String,
    /// Its display name.
    pub name: String,
    /// The room the owner put it in; empty for none.
    pub room: String,
    /// Reachable now.
    pub available: bool,
    /// Its attributes (`manufacturer`, `model`…).
    pub attributes: Vec<(String, String)>,
    /// Its entities, in name order.
    pub entities: Vec<Py<TreeEntity>>,
}

/// Tree observation: confirmed new values of one entity of any provider.
#[pyclass(frozen, get_all, module = "igloo._igloo")]
pub struct TreeState {
    /// The device id.
    pub device: u64,
    /// The entity's name.
    pub entity: String,
    /// The values: component name → value.
    pub values: Py<PyDict>,
}

/// Tree observation: a device became reachable or not.
#[pyclass(frozen, get_all, module = "igloo._igloo")]
pub struct TreeAvailability {
    /// The device id.
    pub device: u64,
    /// `True` = online.
    pub available: bool,
}

/// Tree observation: a device was removed by its provider.
#[pyclass(frozen, get_all, module = "igloo._igloo")]
pub struct TreeRemoved {
    /// The device id.
    pub device: u64,
}

/// Tree observation: the snapshot is complete (again, after the core sent
/// the whole tree once more because the observer fell behind; devices it no
/// longer has came as `TreeRemoved` before this).
#[pyclass(frozen, get_all, module = "igloo._igloo")]
pub struct TreeSynced {
    /// How many devices the snapshot held.
    pub devices: u32,
}

/// The events from the core, in order: `async for event in provider.events()`.
/// Ends when the core closes the connection (the provider should then exit).
/// There is one stream per connection; iterating it from two tasks splits
/// the events between them.
#[pyclass(module = "igloo._igloo")]
pub struct Events {
    pub(crate) inner: Arc<Mutex<igloo_provider::Events>>,
}

#[pymethods]
impl Events {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let inner = self.inner.clone();
        crate::bridge::spawn(
            py,
            async move { inner.lock().await.next().await },
            |py, event| match event {
                None => Err(PyStopAsyncIteration::new_err(())),
                Some(e) => to_python(py, e),
            },
        )
    }
}

/// One SDK event as its Python class. Events a newer SDK adds are skipped
/// by the caller's `match` as in Rust; here they become `CoreError` with a
/// description, never an exception.
fn to_python(py: Python<'_>, e: Event) -> PyResult<Py<PyAny>> {
    Ok(match e {
        Event::Change {
            device,
            entity,
            values,
        } => Py::new(
            py,
            Change {
                device: device.0,
                entity,
                values: values::to_dict(py, &values)?.unbind(),
            },
        )?
        .into_any(),
        Event::Custom {
            request_id,
            command,
            body,
        } => Py::new(
            py,
            Custom {
                request_id,
                command,
                body,
            },
        )?
        .into_any(),
        Event::Granted(g) => {
            let fd = g
                .try_clone_fd()
                .map_err(|e| crate::IglooError::new_err(format!("granted {}: {e}", g.name)))?
                .into_raw_fd();
            Py::new(
                py,
                Granted {
                    grant: g.grant,
                    name: g.name.clone(),
                    fd,
                    attributes: g.attributes.clone(),
                },
            )?
            .into_any()
        }
        Event::Revoked { grant, reason } => Py::new(py, Revoked { grant, reason })?.into_any(),
        Event::TreeDevice(d) => tree_device(py, *d)?.into_any(),
        Event::TreeState {
            device,
            entity,
            values,
        } => Py::new(
            py,
            TreeState {
                device: device.0,
                entity,
                values: values::to_dict(py, &values)?.unbind(),
            },
        )?
        .into_any(),
        Event::TreeAvailability { device, available } => Py::new(
            py,
            TreeAvailability {
                device: device.0,
                available,
            },
        )?
        .into_any(),
        Event::TreeRemoved { device } => Py::new(py, TreeRemoved { device: device.0 })?.into_any(),
        Event::TreeSynced { devices } => Py::new(py, TreeSynced { devices })?.into_any(),
        Event::Error { code, message } => Py::new(
            py,
            CoreError {
                code: code.0,
                message,
            },
        )?
        .into_any(),
        other => Py::new(
            py,
            CoreError {
                code: 0,
                message: format!("an event this SDK does not describe: {other:?}"),
            },
        )?
        .into_any(),
    })
}

fn tree_device(
    py: Python<'_>,
    d: igloo_provider::protocol::message::TreeDevice,
) -> PyResult<Py<TreeDevice>> {
    let entities = d
        .entities
        .into_iter()
        .map(|e| {
            Py::new(
                py,
                TreeEntity {
                    name: e.name,
                    attributes: e.attributes,
                    values: values::to_dict(py, &e.values)?.unbind(),
                },
            )
        })
        .collect::<PyResult<Vec<_>>>()?;
    Py::new(
        py,
        TreeDevice {
            device: d.device.0,
            provider: d.provider,
            name: d.name,
            room: d.room,
            available: d.available,
            attributes: d.attributes,
            entities,
        },
    )
}
