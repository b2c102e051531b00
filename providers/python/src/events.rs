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
