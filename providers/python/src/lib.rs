//! `igloo._igloo`: the Igloo provider SDK for Python (docs/providers-python.md).
//!
//! A thin PyO3 layer over the Rust SDK (`igloo-provider`): framing, the
//! handshake, negotiation and batching are the Rust SDK's, never written
//! twice. Every call that talks to the core is an asyncio awaitable, run on
//! one tokio runtime on one thread beside the interpreter and completed on
//! the event loop's thread ([`bridge`]), so no call blocks the event loop,
//! no thread is started per call, and the SDK's thread never takes the GIL.

mod bridge;
mod events;
mod provider;
mod pygen;
mod values;

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    _igloo,
    IglooError,
    PyException,
    "The core refused a request, or the connection to it failed or ended."
);
create_exception!(
    _igloo,
    ComponentError,
    IglooError,
    "A component name that components.toml does not have, or a value of the wrong kind."
);

/// Turns an SDK error into an [`IglooError`] with its message.
fn sdk_error(e: igloo_provider::SdkError) -> PyErr {
    IglooError::new_err(e.to_string())
}

#[pymodule]
fn _igloo(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("IglooError", m.py().get_type::<IglooError>())?;
    m.add("ComponentError", m.py().get_type::<ComponentError>())?;
    m.add("EXIT_CONFIG", igloo_provider::protocol::EXIT_CONFIG)?;
    m.add_function(wrap_pyfunction!(provider::connect, m)?)?;
    m.add_function(wrap_pyfunction!(values::components, m)?)?;
    m.add_function(wrap_pyfunction!(values::check_value, m)?)?;
    m.add_function(wrap_pyfunction!(pygen::registry_source, m)?)?;
    m.add_class::<provider::Provider>()?;
    m.add_class::<events::Events>()?;
    m.add_class::<events::Change>()?;
    m.add_class::<events::Custom>()?;
    m.add_class::<events::Granted>()?;
    m.add_class::<events::Revoked>()?;
    m.add_class::<events::CoreError>()?;
    m.add_class::<events::TreeDevice>()?;
    m.add_class::<events::TreeEntity>()?;
    m.add_class::<events::TreeState>()?;
    m.add_class::<events::TreeAvailability>()?;
    m.add_class::<events::TreeRemoved>()?;
    m.add_class::<events::TreeSynced>()?;
    Ok(())
}
