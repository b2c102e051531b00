//! Rust futures as asyncio awaitables, completed on the event loop's own
//! thread.
//!
//! The Rust SDK runs on one tokio runtime, driven by one thread of its own
//! (`igloo-sdk`). A request from Python spawns its future there and returns
//! an `asyncio.Future` of the running loop. When the Rust future is done,
//! its result is queued for that loop and the loop is woken through a
//! socketpair it watches (`loop.add_reader`); the loop's thread then turns
//! the result into Python objects and completes the future.
//!
//! So the SDK's thread never takes the GIL. This is a rule, not a detail:
//! CPython ends a thread that tries to attach while the interpreter shuts
//! down with `pthread_exit`, and a forced unwind through Rust frames aborts
//! the process ("panic in a function that cannot unwind"), which is what
//! completing futures from a tokio thread did to a provider exiting after an
//! error (tests/tests/conformance.rs, the malformed-input cases).
//!
//! Cancelling the asyncio future (a task cancelled, a `wait_for` timeout)
//! aborts the Rust future at its next await point, as the Rust SDK's own
//! futures are cancelled by dropping them.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use pyo3::IntoPyObjectExt;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyTuple};

/// Turns a finished future's output into the Python result, with the GIL.
type Finish = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// A finished request waiting for its loop.
struct Done {
    future: Py<PyAny>,
    finish: Finish,
}

/// The finished requests of one event loop and the socketpair that wakes it.
struct Queue {
    done: Mutex<Vec<Done>>,
    wake_tx: UnixStream,
    wake_rx: UnixStream,
}

impl Queue {
    fn new() -> std::io::Result<Queue> {
        let (wake_tx, wake_rx) = UnixStream::pair()?;
        wake_tx.set_nonblocking(true)?;
        wake_rx.set_nonblocking(true)?;
        Ok(Queue {
            done: Mutex::new(Vec::new()),
            wake_tx,
            wake_rx,
        })
    }

    /// Queues `done` and wakes the loop (from the SDK's thread; no GIL).
    fn push(&self, done: Done) {
        self.done
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(done);
        // A full socket buffer means a wake-up is pending already.
        let _ = (&self.wake_tx).write(&[1]);
    }

    /// Completes every queued future (on the loop's thread, with the GIL).
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        let mut buf = [0u8; 256];
        while matches!((&self.wake_rx).read(&mut buf), Ok(n) if n > 0) {}
        let done = std::mem::take(&mut *self.done.lock().unwrap_or_else(PoisonError::into_inner));
        for Done { future, finish } in done {
            let future = future.bind(py);
            if future.call_method0("done")?.is_truthy()? {
                continue; // cancelled meanwhile
            }
            match finish(py) {
                Ok(value) => future.call_method1("set_result", (value,))?,
                Err(e) => future.call_method1("set_exception", (e.into_value(py),))?,
            };
        }
        Ok(())
    }
}

/// The SDK's runtime and the loops that await its futures.
struct Bridge {
    runtime: tokio::runtime::Handle,
    /// (event loop, its queue); loops that are closed are dropped on the next call.
    loops: Mutex<Vec<(Py<PyAny>, Arc<Queue>)>>,
}

static BRIDGE: OnceLock<Bridge> = OnceLock::new();

/// The bridge, made on first use: the runtime and its thread.
fn bridge() -> PyResult<&'static Bridge> {
    if let Some(b) = BRIDGE.get() {
        return Ok(b);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            PyRuntimeError::new_err(format!("igloo: cannot start the SDK runtime: {e}"))
        })?;
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name("igloo-sdk".into())
        .spawn(move || runtime.block_on(std::future::pending::<()>()))
        .map_err(|e| PyRuntimeError::new_err(format!("igloo: cannot start the SDK thread: {e}")))?;
    Ok(BRIDGE.get_or_init(|| Bridge {
        runtime: handle,
        loops: Mutex::new(Vec::new()),
    }))
}

impl Bridge {
    /// The queue of `event_loop`, watching it on first use.
    fn queue(&self, py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<Arc<Queue>> {
        // No Python code runs while `loops` is locked: Python may switch
        // threads (and another loop's thread would wait for the lock while
        // holding the GIL), or run a finaliser that comes back here.
        let known: Vec<(Py<PyAny>, Arc<Queue>)> = self
            .lock()
            .iter()
            .map(|(l, q)| (l.clone_ref(py), q.clone()))
            .collect();
        if let Some((_, q)) = known
            .iter()
            .find(|(l, _)| l.as_ptr() == event_loop.as_ptr())
        {
            return Ok(q.clone());
        }
        // A loop not seen before: forget the closed ones, watch this one.
        let mut closed = Vec::new();
        for (l, _) in &known {
            if l.bind(py).call_method0("is_closed")?.is_truthy()? {
                closed.push(l.as_ptr());
            }
        }
        let queue = Arc::new(Queue::new().map_err(|e| {
            PyRuntimeError::new_err(format!("igloo: cannot make a socketpair: {e}"))
        })?);
        let q = queue.clone();
        let drain =
            PyCFunction::new_closure(py, None, None, move |args: &Bound<'_, PyTuple>, _| {
                q.drain(args.py())
            })?;
        event_loop.call_method1("add_reader", (queue.wake_rx.as_raw_fd(), drain))?;
        let gone: Vec<(Py<PyAny>, Arc<Queue>)> = {
            let mut loops = self.lock();
            let (gone, mut keep): (Vec<_>, Vec<_>) = std::mem::take(&mut *loops)
                .into_iter()
                .partition(|(l, _)| closed.contains(&l.as_ptr()));
            keep.push((event_loop.clone().unbind(), queue.clone()));
            *loops = keep;
            gone
        };
        // Released after the lock, for the same reason.
        drop(gone);
        Ok(queue)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Py<PyAny>, Arc<Queue>)>> {
        self.loops.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `fut` as an asyncio future of the running loop: run on the SDK's
/// runtime, its output turned into Python by `finish` on the loop's thread.
///
/// # Errors
/// `RuntimeError` when no event loop is running in this thread (call it
/// from a coroutine), or the runtime cannot start.
pub fn spawn<'py, R>(
    py: Python<'py>,
    fut: impl Future<Output = R> + Send + 'static,
    finish: impl FnOnce(Python<'_>, R) -> PyResult<Py<PyAny>> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>>
where
    R: Send + 'static,
{
    let b = bridge()?;
    let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
    let queue = b.queue(py, &event_loop)?;
    let future = event_loop.call_method0("create_future")?;
    let handle = future.clone().unbind();
    let task = b.runtime.spawn(async move {
        let out = fut.await;
        queue.push(Done {
            future: handle,
            finish: Box::new(move |py| finish(py, out)),
        });
    });
    let abort = task.abort_handle();
    let on_done = PyCFunction::new_closure(py, None, None, move |args: &Bound<'_, PyTuple>, _| {
        if args.get_item(0)?.call_method0("cancelled")?.is_truthy()? {
            abort.abort();
        }
        PyResult::Ok(())
    })?;
    future.call_method1("add_done_callback", (on_done,))?;
    Ok(future)
}

/// [`spawn`] for a future whose output converts to Python by itself.
///
/// # Errors
/// As [`spawn`].
pub fn awaitable<'py, T>(
    py: Python<'py>,
    fut: impl Future<Output = PyResult<T>> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    spawn(py, fut, |py, out| {
        out.and_then(|v| v.into_bound_py_any(py).map(Bound::unbind))
    })
}
