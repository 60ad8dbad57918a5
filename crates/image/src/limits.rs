//! Bounds on the work a hostile archive can cause, and the readers that enforce them.
//!
//! Every byte leastpriv decompresses passes through a [`BombGuard`] (caps on size and on
//! compression ratio) and every tar header through a [`HeaderGuard`] (caps on header and
//! extension-header bytes, which the tar crate would otherwise read into memory whole). Exceeding a
//! cap is an `io::Error` whose message says which cap, so it reaches the user as a located error.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The caps. [`Limits::default`] suits real images (a 20 GiB layer is fine); tests lower them.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Most bytes one layer may decompress to.
    pub max_layer_bytes: u64,
    /// Most bytes all layers of one archive may decompress to, together.
    pub max_total_bytes: u64,
    /// Highest decompressed/compressed ratio, checked once [`Limits::ratio_floor`] bytes are out:
    /// for each stream (the outer archive, each layer) and for all of them against the input's size.
    pub max_ratio: u64,
    /// Decompressed bytes below which the ratio is not checked (small layers of zeros are fine).
    pub ratio_floor: u64,
    /// Most entries in one layer (bounds the per-layer path index).
    pub max_entries: u64,
    /// Most bytes of tar headers and extension headers (PAX, GNU long names) before one entry.
    pub max_header_bytes: u64,
    /// Largest JSON document (manifest, index, config) read into memory.
    pub max_json_bytes: u64,
    /// Most bytes of JSON documents (manifests, indexes, configs) of streamed archives kept in
    /// memory at once, over the whole run: one budget however many archives are read in parallel.
    /// `manifest.json` and `index.json` are always kept (each within
    /// [`Limits::max_json_bytes`]).
    pub max_buffered_total: u64,
    /// Most entries in the outer archive.
    pub max_archive_entries: u64,
    /// Most images and most layers per image.
    pub max_images: usize,
    /// Most layers in one image.
    pub max_layers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_layer_bytes: 64 << 30,
            max_total_bytes: 256 << 30,
            max_ratio: 1000,
            ratio_floor: 256 << 20,
            max_entries: 4_000_000,
            max_header_bytes: 1 << 20,
            max_json_bytes: 16 << 20,
            max_buffered_total: 256 << 20,
            max_archive_entries: 200_000,
            max_images: 1_000,
            max_layers: 1_000,
        }
    }
}

/// Shared count of bytes read through a reader (the compressed side of a layer).
pub(crate) struct Counted<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R> Counted<R> {
    pub(crate) fn new(inner: R) -> (Self, Rc<Cell<u64>>) {
        let count = Rc::new(Cell::new(0));
        (
            Self {
                inner,
                count: Rc::clone(&count),
            },
            count,
        )
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.count.set(self.count.get() + read as u64);
        Ok(read)
    }
}

/// The counters a [`BombGuard`] checks against its [`Limits`].
#[derive(Clone, Copy)]
pub(crate) struct Caps<'a> {
    pub(crate) limits: &'a Limits,
    /// Bytes decompressed so far by every stream of the input.
    pub(crate) total: &'a AtomicU64,
    /// Bytes of the input itself (its size, or what was read of a stream).
    pub(crate) input: &'a AtomicU64,
}

/// Caps what one decompressed stream may produce: its size, its ratio to the compressed bytes read
/// (`compressed`), and the input-wide budget: all streams of the input together may produce at most
/// [`Limits::max_total_bytes`], and at most [`Limits::max_ratio`] times the input's own size (a
/// small archive of nested compression must not cost minutes of CPU either).
pub(crate) struct BombGuard<'a, R> {
    inner: R,
    compressed: Rc<Cell<u64>>,
    produced: u64,
    caps: Caps<'a>,
    /// Whether the stream is compressed (the ratio cap only applies then).
    check_ratio: bool,
}

impl<'a, R> BombGuard<'a, R> {
    pub(crate) fn new(
        inner: R,
        compressed: Rc<Cell<u64>>,
        caps: Caps<'a>,
        check_ratio: bool,
    ) -> Self {
        Self {
            inner,
            compressed,
            produced: 0,
            caps,
            check_ratio,
        }
    }
}

impl<R: Read> Read for BombGuard<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        let limits = self.caps.limits;
        self.produced += read as u64;
        let total = self.caps.total.fetch_add(read as u64, Ordering::Relaxed) + read as u64;
        if self.produced > limits.max_layer_bytes {
            return Err(limit_error(format!(
                "decompressed size exceeds the {} limit per layer (decompression bomb?)",
                human_bytes(limits.max_layer_bytes)
            )));
        }
        if total > limits.max_total_bytes {
            return Err(limit_error(format!(
                "decompressed size of all layers exceeds the {} limit",
                human_bytes(limits.max_total_bytes)
            )));
        }
        if self.check_ratio
            && self.produced > limits.ratio_floor
            && self.produced / self.compressed.get().max(1) > limits.max_ratio
        {
            return Err(limit_error(format!(
                "compression ratio exceeds {}:1 (decompression bomb?)",
                limits.max_ratio
            )));
        }
        if total > limits.ratio_floor
            && total / self.caps.input.load(Ordering::Relaxed).max(1) > limits.max_ratio
        {
            return Err(limit_error(format!(
                "the archive decompresses to more than {} times its size (decompression bomb?)",
                limits.max_ratio
            )));
        }
        Ok(read)
    }
}

/// Counts the bytes read through it into a counter other threads read (the input's size so far).
pub(crate) struct SharedCount<'a, R> {
    pub(crate) inner: R,
    pub(crate) count: &'a AtomicU64,
}

impl<R: Read> Read for SharedCount<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.count.fetch_add(read as u64, Ordering::Relaxed);
        Ok(read)
    }
}

/// Caps the bytes the tar reader consumes outside entry data: headers, PAX records and GNU long
/// names, which the tar crate reads into memory whole. The scanner sets `in_data` while it reads an
/// entry's contents and resets the budget at each entry.
pub(crate) struct HeaderGuard<R> {
    inner: R,
    state: Rc<HeaderBudget>,
}

/// The state a [`HeaderGuard`] shares with the scanner.
pub(crate) struct HeaderBudget {
    in_data: Cell<bool>,
    used: Cell<u64>,
    /// Extra bytes allowed before the next entry: the on-disk data of an entry the tar reader skips.
    extra: Cell<u64>,
    limit: u64,
}

impl HeaderBudget {
    pub(crate) fn new(limit: u64) -> Rc<Self> {
        Rc::new(Self {
            in_data: Cell::new(false),
            used: Cell::new(0),
            extra: Cell::new(0),
            limit,
        })
    }

    /// Marks the start (`true`) or end of reading an entry's data; each end starts a new budget.
    pub(crate) fn set_in_data(&self, in_data: bool) {
        self.in_data.set(in_data);
        if !in_data {
            self.used.set(0);
            self.extra.set(0);
        }
    }

    /// Allows `bytes` more before the next entry, for data the tar reader skips by itself.
    pub(crate) fn grant(&self, bytes: u64) {
        self.extra.set(self.extra.get().saturating_add(bytes));
    }
}

impl<R> HeaderGuard<R> {
    pub(crate) fn new(inner: R, state: Rc<HeaderBudget>) -> Self {
        Self { inner, state }
    }
}

impl<R: Read> Read for HeaderGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.state.in_data.get() {
            return self.inner.read(buf);
        }
        let remaining = (self.state.limit.saturating_add(self.state.extra.get()))
            .saturating_sub(self.state.used.get());
        if remaining == 0 {
            return Err(limit_error(format!(
                "tar header data exceeds {} (huge PAX or long-name header)",
                human_bytes(self.state.limit)
            )));
        }
        let len = buf
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let read = self.inner.read(&mut buf[..len])?;
        self.state.used.set(self.state.used.get() + read as u64);
        Ok(read)
    }
}

fn limit_error(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// `1.5 GiB`, `512 MiB`, `10 KiB`.
pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 {
        format!("{value} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bomb_guard_stops_at_the_size_cap() {
        let limits = Limits {
            max_layer_bytes: 1000,
            ..Limits::default()
        };
        let total = AtomicU64::new(0);
        let input = AtomicU64::new(5000);
        let data = vec![0u8; 5000];
        let (counted, count) = Counted::new(&data[..]);
        let caps = Caps {
            limits: &limits,
            total: &total,
            input: &input,
        };
        let mut guard = BombGuard::new(counted, count, caps, false);
        let error = io::copy(&mut guard, &mut io::sink()).unwrap_err();
        assert!(
            error.to_string().contains("1000 B limit per layer"),
            "{error}"
        );
    }

    #[test]
    fn bomb_guard_stops_at_the_ratio_cap() {
        let limits = Limits {
            max_ratio: 10,
            ratio_floor: 100,
            ..Limits::default()
        };
        let total = AtomicU64::new(0);
        let input = AtomicU64::new(1 << 20);
        let compressed = Rc::new(Cell::new(5));
        let data = vec![0u8; 5000];
        let caps = Caps {
            limits: &limits,
            total: &total,
            input: &input,
        };
        let mut guard = BombGuard::new(&data[..], compressed, caps, true);
        let error = io::copy(&mut guard, &mut io::sink()).unwrap_err();
        assert!(error.to_string().contains("ratio exceeds 10:1"), "{error}");
    }

    #[test]
    fn bomb_guard_stops_at_the_ratio_to_the_whole_input() {
        // Each stream alone is within its ratio (nested compression, or many layers): the input's
        // own size still bounds them together.
        let limits = Limits {
            max_ratio: 10,
            ratio_floor: 100,
            ..Limits::default()
        };
        let total = AtomicU64::new(0);
        let input = AtomicU64::new(100);
        let caps = Caps {
            limits: &limits,
            total: &total,
            input: &input,
        };
        let data = vec![0u8; 400];
        for _ in 0..2 {
            let mut guard = BombGuard::new(&data[..], Rc::new(Cell::new(400)), caps, true);
            io::copy(&mut guard, &mut io::sink()).unwrap();
        }
        let mut guard = BombGuard::new(&data[..], Rc::new(Cell::new(400)), caps, true);
        let error = io::copy(&mut guard, &mut io::sink()).unwrap_err();
        assert!(
            error.to_string().contains("more than 10 times its size"),
            "{error}"
        );
    }

    #[test]
    fn header_guard_counts_only_outside_data() {
        let budget = HeaderBudget::new(10);
        let data = [1u8; 100];
        let mut guard = HeaderGuard::new(&data[..], Rc::clone(&budget));
        let mut buf = [0u8; 8];
        guard.read_exact(&mut buf).unwrap();
        budget.set_in_data(true);
        let mut big = [0u8; 50];
        guard.read_exact(&mut big).unwrap();
        budget.set_in_data(false);
        guard.read_exact(&mut buf).unwrap();
        assert!(guard.read_exact(&mut [0u8; 8]).is_err());
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(1 << 30), "1 GiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}
