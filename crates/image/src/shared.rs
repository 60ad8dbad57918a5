//! What the inputs of one run share, and what the scans of one input share.
//!
//! A run may read many archives at once (the binary reads its inputs in parallel). Their streamed
//! layers are scanned by one pool of threads, with a bounded number of scans in flight, and the
//! JSON documents they keep in memory are charged to one budget: reading archives in parallel
//! never multiplies the threads, the buffers or the memory.

use std::fmt;
use std::hash::RandomState;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use indicatif::ProgressBar;

use crate::layer::ScanContext;
use crate::limits::{Caps, Limits};

/// The state shared by every input of a run. Clones share it; `Shared::default()` starts a new one.
#[derive(Clone, Default)]
pub struct Shared(Arc<State>);

#[derive(Default)]
struct State {
    pool: OnceLock<Result<rayon::ThreadPool, String>>,
    /// Bytes of JSON documents of streamed archives held in memory now.
    buffered: AtomicU64,
    /// Layer scans of streams in flight (queued or running).
    in_flight: Mutex<usize>,
    finished: Condvar,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("buffered", &self.buffered())
            .finish_non_exhaustive()
    }
}

/// A scan in flight; dropping it lets another start.
pub(crate) struct Permit(Shared);

impl Drop for Permit {
    fn drop(&mut self) {
        let state = &self.0 .0;
        let mut in_flight = state
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *in_flight -= 1;
        state.finished.notify_one();
    }
}

impl Shared {
    /// The threads that scan streamed layers: one per core, made on first use.
    pub(crate) fn pool(&self) -> Result<&rayon::ThreadPool, String> {
        self.0
            .pool
            .get_or_init(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(scan_threads())
                    .thread_name(|index| format!("layer-scan-{index}"))
                    .build()
                    .map_err(|error| format!("cannot start the layer scan threads: {error}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Waits until fewer than twice the pool's threads of scans are in flight, then takes a place:
    /// a reader never queues more scans (each holding a few chunks) than the pool can soon run.
    pub(crate) fn scan_permit(&self) -> Permit {
        let state = &self.0;
        let limit = 2 * scan_threads();
        let mut in_flight = state
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while *in_flight >= limit {
            in_flight = state
                .finished
                .wait(in_flight)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *in_flight += 1;
        Permit(self.clone())
    }

    /// Charges `bytes` to the buffer budget if it stays within `cap`.
    pub(crate) fn charge_buffered(&self, bytes: u64, cap: u64) -> bool {
        self.0
            .buffered
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(bytes).filter(|total| *total <= cap)
            })
            .is_ok()
    }

    /// Charges `bytes` whatever the budget (an archive's index files are always kept).
    pub(crate) fn charge_unbounded(&self, bytes: u64) {
        self.0.buffered.fetch_add(bytes, Ordering::AcqRel);
    }

    /// Gives back `bytes` of the budget.
    pub(crate) fn release_buffered(&self, bytes: u64) {
        let _ = self
            .0
            .buffered
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                Some(held.saturating_sub(bytes))
            });
    }

    /// Bytes of JSON documents of streamed archives held in memory now.
    pub fn buffered(&self) -> u64 {
        self.0.buffered.load(Ordering::Acquire)
    }
}

fn scan_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |threads| threads.get().clamp(1, 16))
}

/// What every layer scan of one input shares: its caps and counters, the keyed hasher of its path
/// index, and the progress bar of its streaming phase.
pub(crate) struct Scanning {
    pub(crate) limits: Limits,
    /// Caps of the outer stream: it may decompress to the input's total.
    outer_limits: Limits,
    /// Bytes decompressed by the layers of the input.
    total: AtomicU64,
    /// Bytes decompressed from the outer stream.
    outer_total: AtomicU64,
    /// The input's size, or what was read of a stream.
    pub(crate) input: AtomicU64,
    pub(crate) hasher: RandomState,
    pub(crate) progress: Option<ProgressBar>,
    /// Times the input was decompressed again to follow links.
    pub(crate) rereads: AtomicU32,
}

impl Scanning {
    pub(crate) fn new(limits: &Limits, input: u64, progress: Option<ProgressBar>) -> Self {
        Self {
            limits: limits.clone(),
            outer_limits: Limits {
                max_layer_bytes: limits.max_total_bytes,
                ..limits.clone()
            },
            total: AtomicU64::new(0),
            outer_total: AtomicU64::new(0),
            input: AtomicU64::new(input),
            hasher: RandomState::new(),
            progress,
            rereads: AtomicU32::new(0),
        }
    }

    pub(crate) fn context<'a>(&'a self, progress: Option<&'a ProgressBar>) -> ScanContext<'a> {
        ScanContext {
            limits: &self.limits,
            total: &self.total,
            input: &self.input,
            hasher: &self.hasher,
            progress,
        }
    }

    pub(crate) fn outer_caps(&self) -> Caps<'_> {
        Caps {
            limits: &self.outer_limits,
            total: &self.outer_total,
            input: &self.input,
        }
    }

    /// Forgets what the first reading decompressed: a rescan re-reads what was already accepted.
    pub(crate) fn restart_totals(&self) {
        self.total.store(0, Ordering::Relaxed);
        self.outer_total.store(0, Ordering::Relaxed);
    }
}
