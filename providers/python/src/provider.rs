//! `connect()` and the `Provider` handle: every request to the core as an
//! asyncio awaitable over the Rust SDK's own futures.

use std::sync::Arc;

use igloo_provider::protocol::ErrorCode;
use igloo_provider::{DeviceId, Provider as SdkProvider};
use pyo3::prelude::*;
use tokio::sync::Mutex;

use crate::events::Events;
use crate::{bridge, sdk_error, values};

/// `fut` as an asyncio awaitable ([`crate::bridge`]); an SDK error becomes
/// an `IglooError`.
fn awaitable<'py, T>(
    py: Python<'py>,
    fut: impl Future<Output = Result<T, igloo_provider::SdkError>> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    bridge::awaitable(py, async move { fut.await.map_err(sdk_error) })
}

/// `await connect(name, version)`: connects to the core (the socket it
/// passed in `IGLOO_FD`, or `IGLOO_SOCKET` when run by hand), says hello
/// and reads the welcome: the returned `Provider` knows its config section
/// and data dir. Raises `IglooError` when there is no core to talk to or it
/// refuses the handshake (another protocol major).
#[pyfunction]
pub fn connect(py: Python<'_>, name: String, version: String) -> PyResult<Bound<'_, PyAny>> {
    bridge::awaitable(py, async move {
        let (inner, events) = SdkProvider::connect(&name, &version)
            .await
            .map_err(sdk_error)?;
        Ok(Provider {
            inner,
            events: Arc::new(Mutex::new(events)),
        })
    })
}

/// The connection to the core. Cheap to share between tasks; every method
/// that talks to the core returns an awaitable.
#[pyclass(frozen, module = "igloo._igloo")]
pub struct Provider {
    inner: SdkProvider,
    events: Arc<Mutex<igloo_provider::Events>>,
}

type Attributes = Option<Vec<(String, String)>>;

#[pymethods]
impl Provider {
    /// This provider's `[provider.config]` section from the core's config, as
    /// TOML text (parse it with `tomllib.loads`).
    #[getter]
    fn config(&self) -> String {
        self.inner.welcome().config.clone()
    }

    /// The directory this provider may write to (its data dir).
    #[getter]
    fn data_dir(&self) -> String {
        self.inner.data_dir().display().to_string()
    }

    /// The core's version, from its welcome.
    #[getter]
    fn core_version(&self) -> String {
        self.inner.welcome().core_version.clone()
    }

    /// Components not sent because the core does not know them (it is older).
    #[getter]
    fn dropped_components(&self) -> u64 {
        self.inner.dropped_components()
    }

    /// The events from the core (`async for event in provider.events()`).
    fn events(&self) -> Events {
        Events {
            inner: self.events.clone(),
        }
    }

    /// `await create_device(key, name, attributes, available=True)` → the
    /// device id (int), the same for the same `key` across restarts.
    /// `attributes`: pairs such as `("model", "TRADFRI")`. `available=False`
    /// announces a device known to be unreachable (one that left its
    /// network) without it ever being shown available (message
    /// `CreateDeviceWithAvailability`; an older core gets `CreateDevice` and
    /// then `set_available(False)`).
    #[pyo3(signature = (key, name, attributes=None, available=true))]
    fn create_device<'py>(
        &self,
        py: Python<'py>,
        key: String,
        name: String,
        attributes: Attributes,
        available: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = self.inner.clone();
        awaitable(py, async move {
            let id = p
                .create_device_with_availability(
                    &key,
                    &name,
                    attributes.unwrap_or_default(),
                    available,
                )
                .await?;
            Ok(id.0)
        })
    }

    /// `await register_entity(device, name, attributes)` → the entity number
    /// for `write`. Attributes such as `("writable", "Switch,Brightness")`
    /// say what users may change (docs/providers.md).
    #[pyo3(signature = (device, name, attributes=None))]
    fn register_entity<'py>(
        &self,
        py: Python<'py>,
        device: u64,
        name: String,
        attributes: Attributes,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = self.inner.clone();
        awaitable(py, async move {
            p.register_entity(DeviceId(device), &name, attributes.unwrap_or_default())
                .await
        })
    }

    /// `await write(device, entity, values)`: reports confirmed values, given
    /// as a dict of name → value (`{"Switch": True, "Brightness": 40.0}`) or
    /// a list of `igloo.registry` objects (`[Switch(True), Brightness(40.0)]`).
    /// Checked here against `components.toml`: a wrong name or kind raises
    /// `ComponentError` before anything is sent. Components the core does not
    /// know (it is older) are dropped and counted in `dropped_components`.
    fn write<'py>(
        &self,
        py: Python<'py>,
        device: u64,
        entity: u32,
        values: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let components = values::from_python(values)?;
        let p = self.inner.clone();
        awaitable(py, async move {
            p.write(DeviceId(device), entity, components).await
        })
    }

    /// `await set_available(device, available)`.
    fn set_available<'py>(
        &self,
        py: Python<'py>,
        device: u64,
        available: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = self.inner.clone();
        awaitable(py, async move {
            p.set_available(DeviceId(device), available).await
        })
    }

    /// `await remove_device(device)`: the device is gone (its id stays
    /// reserved for its key).
    fn remove_device<'py>(&self, py: Python<'py>, device: u64) -> PyResult<Bound<'py, PyAny>> {
        let p = self.inner.clone();
        awaitable(py, async move { p.remove_device(DeviceId(device)).await })
    }

    /// `await remove_entity(device, entity)`: one entity of the device is
    /// gone (the device and its other entities stay; registering the name
    /// again brings it back). Raises `IglooError` when the core is older
    /// than protocol 1.1.
    fn remove_entity<'py>(
        &self,
        py: Python<'py>,
        device: u64,
        entity: u32,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = self.inner.clone();
        awaitable(py, async move {
            p.remove_entity(DeviceId(device), entity).await
        })
    }

    /// `await observe_tree()`: from now on the events include the whole
    /// tree, every provider's devices: a `TreeDevice` for each, then
    /// `TreeSynced`, then `TreeState`, `TreeAvailability`, `TreeDevice` and
    /// `TreeRemoved` as it changes. Needs `tree = "read"` (or `"control"`)
    /// in this provider's core config; without it a `CoreError` event with
    /// code `FORBIDDEN` (4) comes instead. Raises `IglooError` when the
    /// core is older than protocol 1.1.
    fn observe_tree<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let p = self.inner.clone();
        awaitable(py, async move { p.observe_tree().await })
    }

    /// `await request_change(device, entity, values)`: asks for a change to
    /// an entity of any provider's device, by entity name, with values as
    /// for `write`. The core checks it like a user's request (device
    /// online, the entity's `writable` and `options`) and forwards it to
    /// the owning provider: returning means forwarded, not done; the new
    /// values come as a `TreeState` once the owner confirms them. Needs
    /// `tree = "control"`. Raises `IglooError` with the core's reason when
    /// it refuses (not allowed, unknown device or entity, read-only,
    /// offline), `ComponentError` for a wrong component before anything
    /// is sent.
    fn request_change<'py>(
        &self,
        py: Python<'py>,
        device: u64,
        entity: String,
        values: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let components = values::from_python(values)?;
        let p = self.inner.clone();
        awaitable(py, async move {
            p.request_change(DeviceId(device), &entity, components)
                .await
        })
    }

    /// `await report_config_error(message, key=None)`: tells the core that
    /// this provider's `[provider.config]` is wrong; `key` names the dotted
    /// key relative to the section (`"modbus.0.baud"`) when known, and the
    /// core shows the message with that key's file and line. Waits at most
    /// 2 s for the core to take it; never raises. Exit with
    /// `igloo.EXIT_CONFIG` (78) afterwards: the core then holds the provider
    /// in `config_error` instead of restarting it (docs/providers.md).
    #[pyo3(signature = (message, key=None))]
    fn report_config_error<'py>(
        &self,
        py: Python<'py>,
        message: String,
        key: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = self.inner.clone();
        awaitable(py, async move {
            p.report_config_error(&message, key.as_deref()).await;
            Ok::<(), igloo_provider::SdkError>(())
        })
    }

    /// `await refuse_change(device, entity, reason)`: the device cannot do
    /// what a `Change` asked; the user sees `reason`.
    fn refuse_change<'py>(
        &self,
        py: Python<'py>,
        device: u64,
        entity: u32,
        reason: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = self.inner.clone();
        awaitable(py, async move {
            p.refuse_change(DeviceId(device), entity, &reason).await
        })
    }

    /// `await reply_custom(request_id, body)`: the answer to a `Custom` command.
    fn reply_custom<'py>(
        &self,
        py: Python<'py>,
        request_id: u32,
        body: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = self.inner.clone();
        awaitable(py, async move { p.reply_custom(request_id, body).await })
    }

    /// `await reply_error(request_id, message)`: a `Custom` command failed
    /// (the caller sees `message`).
    fn reply_error<'py>(
        &self,
        py: Python<'py>,
        request_id: u32,
        message: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = self.inner.clone();
        awaitable(py, async move {
            p.reply_error(request_id, ErrorCode::INVALID, message).await
        })
    }
}
