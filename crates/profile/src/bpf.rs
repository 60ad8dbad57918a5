//! The eBPF recorder: loads `bpf/recorder.<arch>.bpf.o` (built from `recorder.bpf.c`, checked in)
//! with aya, attaches its programs to the `raw_syscalls:sys_enter` and `capability:cap_capable`
//! tracepoints and reads its maps once when the workload is done.
//!
//! Nothing crosses to user space while the workload runs: the program sets bits in per-namespace
//! records and inserts paths and ports into hash maps, so the cost is the tracepoint's own. The
//! program and its link are held by this process's file descriptors only (no pinning), so the kernel
//! detaches and frees them when the recorder is dropped or the process dies, also by SIGKILL.
//!
//! aya rather than libbpf-rs: pure Rust, so the binary stays one static file with no libelf or zlib
//! to link; it resolves the object's CO-RE relocations against `/sys/kernel/btf/vmlinux`.

use std::collections::BTreeSet;

use aya::maps::{Array, HashMap, MapData};
use aya::programs::BtfTracePoint;
use aya::{Btf, Ebpf, EbpfLoader};

use crate::capabilities::{CapabilityChecks, Kallsyms};
use crate::{Observation, ProfileError};

/// The object compiled by `bpf/build.sh` for this architecture.
#[cfg(target_arch = "aarch64")]
static OBJECT: &[u8] = include_bytes!("../bpf/recorder.aarch64.bpf.o");
#[cfg(not(target_arch = "aarch64"))]
static OBJECT: &[u8] = include_bytes!("../bpf/recorder.x86_64.bpf.o");

/// Words of syscall bits in a record: `SYSCALL_SLOTS / 64` native, then as many compat (32-bit).
const TABLE_WORDS: usize = 16;
const RECORD_WORDS: usize = 2 * TABLE_WORDS;
/// `struct path_key`: mntns, relative, path[256], cwd[24][32].
const PATH_KEY: usize = 8 + PATH_LEN + CWD_SLOTS * NAME_LEN;
const PATH_LEN: usize = 256;
const CWD_SLOTS: usize = 24;
const NAME_LEN: usize = 32;
/// `struct check_key`: mntns, cap, granted, pad, bounding, frames[12].
const CHECK_KEY: usize = 16 + CHECK_FRAMES * 8;
const CHECK_FRAMES: usize = 12;
/// `struct config`: the container id, the generation (u64), the next slot (u32), padding.
const CONTAINER_ID_LEN: usize = 64;
const CONFIG: usize = CONTAINER_ID_LEN + 16;
const GENERATION: std::ops::Range<usize> = CONTAINER_ID_LEN..CONTAINER_ID_LEN + 8;
const NEXT_SLOT: std::ops::Range<usize> = CONTAINER_ID_LEN + 8..CONTAINER_ID_LEN + 12;

/// A loaded, attached recorder.
pub struct BpfRecorder {
    ebpf: Ebpf,
    /// `/proc/kallsyms`, read while the recorder loads (it takes tens of milliseconds), to name
    /// the capability checks' stacks; `None` when capabilities are not observed.
    symbols: Option<std::thread::JoinHandle<Kallsyms>>,
}

impl std::fmt::Debug for BpfRecorder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("BpfRecorder")
    }
}

impl BpfRecorder {
    /// Loads and attaches every program; an error says why (not root, no BTF …). With
    /// `capabilities`, the capability checks are observed (and their callers named).
    pub fn load(capabilities: bool) -> Result<Self, ProfileError> {
        let symbols = capabilities.then(|| std::thread::spawn(Kallsyms::read));
        // The loader parses the kernel's BTF itself (aya's `EbpfLoader::new`) and the programs'
        // attach points need a parsed copy too: parse both at once, on two cores.
        let ours = std::thread::spawn(Btf::from_sys_fs);
        let mut loader = EbpfLoader::new();
        let btf = ours
            .join()
            .map_err(|_| ProfileError::Bpf("reading the kernel's BTF failed".into()))?
            .map_err(|error| {
                ProfileError::Bpf(format!("no kernel BTF at /sys/kernel/btf/vmlinux: {error}"))
            })?;
        let mut ebpf = loader
            .load(OBJECT)
            .map_err(|error| ProfileError::Bpf(format!("loading the recorder: {error}")))?;
        attach(&mut ebpf, &btf)?;
        Ok(Self { ebpf, symbols })
    }

    /// Records the workload whose tasks live in this mount namespace (the local recorder's child):
    /// the first slot of `records`, and a new generation so that no CPU's cached lookup stays.
    pub fn enrol_namespace(&mut self, mntns: u32) -> Result<(), ProfileError> {
        let mut config = self.config()?;
        let slot = u32::from_ne_bytes(config[NEXT_SLOT].try_into().unwrap_or_default());
        let mut slots: HashMap<&mut MapData, u32, u32> =
            HashMap::try_from(self.map_mut("slots")?).map_err(map_error)?;
        slots.insert(mntns, slot, 0).map_err(map_error)?;
        config[NEXT_SLOT].copy_from_slice(&(slot + 1).to_ne_bytes());
        let generation = u64::from_ne_bytes(config[GENERATION].try_into().unwrap_or_default());
        config[GENERATION].copy_from_slice(&(generation + 1).to_ne_bytes());
        self.set_config(config)
    }

    /// Records the container with this full id: its tasks enrol their namespace on their first
    /// syscall under a seccomp filter.
    pub fn watch_container(&mut self, id: &str) -> Result<(), ProfileError> {
        let bytes = id.as_bytes();
        if bytes.len() != CONTAINER_ID_LEN || !bytes.iter().all(u8::is_ascii_hexdigit) {
            return Err(ProfileError::Engine(format!(
                "`{id}` is not a full container id"
            )));
        }
        let mut config = self.config()?;
        config[..CONTAINER_ID_LEN].copy_from_slice(bytes);
        self.set_config(config)
    }

    fn config(&self) -> Result<[u8; CONFIG], ProfileError> {
        let config: Array<&MapData, [u8; CONFIG]> =
            Array::try_from(self.map("config")?).map_err(map_error)?;
        config.get(&0, 0).map_err(map_error)
    }

    fn set_config(&mut self, value: [u8; CONFIG]) -> Result<(), ProfileError> {
        let mut config: Array<&mut MapData, [u8; CONFIG]> =
            Array::try_from(self.map_mut("config")?).map_err(map_error)?;
        config.set(0, value, 0).map_err(map_error)
    }

    /// The recorded namespaces and their slots in `records`.
    fn slots(&self) -> Result<Vec<(u32, u32)>, ProfileError> {
        let slots: HashMap<&MapData, u32, u32> =
            HashMap::try_from(self.map("slots")?).map_err(map_error)?;
        slots.iter().map(|entry| entry.map_err(map_error)).collect()
    }

    /// What the workload in these mount namespaces did. With `bounding` (a container's bounding
    /// set), checks made with a wider bounding set are the runtime's, before it dropped it.
    pub fn observe(
        &mut self,
        namespaces: &BTreeSet<u32>,
        bounding: Option<u64>,
    ) -> Result<Observation, ProfileError> {
        let mut observation = Observation::default();
        let records: Array<&MapData, [u64; RECORD_WORDS]> =
            Array::try_from(self.map("records")?).map_err(map_error)?;
        for (mntns, slot) in self.slots()? {
            if !namespaces.contains(&mntns) {
                continue;
            }
            let record = records.get(&slot, 0).map_err(map_error)?;
            observation.namespaces.insert(mntns);
            for (word_index, word) in record.iter().enumerate() {
                let (table, word_index) = if word_index < TABLE_WORDS {
                    (&mut observation.syscalls, word_index)
                } else {
                    (&mut observation.compat_syscalls, word_index - TABLE_WORDS)
                };
                for bit in 0..64 {
                    if word & (1 << bit) != 0 {
                        table.insert((word_index * 64 + bit) as u32);
                    }
                }
            }
        }
        let paths: HashMap<&MapData, [u8; PATH_KEY], u8> =
            HashMap::try_from(self.map("paths")?).map_err(map_error)?;
        for key in paths.keys() {
            let key = key.map_err(map_error)?;
            let mntns = u32::from_ne_bytes([key[0], key[1], key[2], key[3]]);
            if !namespaces.contains(&mntns) {
                continue;
            }
            observation.written.insert(written_path(&key));
        }
        let ports: HashMap<&MapData, [u8; 8], u8> =
            HashMap::try_from(self.map("ports")?).map_err(map_error)?;
        for key in ports.keys() {
            let key = key.map_err(map_error)?;
            let mntns = u32::from_ne_bytes([key[0], key[1], key[2], key[3]]);
            if !namespaces.contains(&mntns) {
                continue;
            }
            let port = u16::from_ne_bytes([key[4], key[5]]);
            let socket_type = u16::from_ne_bytes([key[6], key[7]]);
            observation.ports.insert((port, socket_type));
        }
        if let Some(symbols) = self.symbols.take() {
            let symbols = symbols.join().unwrap_or_default();
            observation.checks = Some(self.capability_checks(namespaces, bounding, &symbols)?);
        }
        Ok(observation)
    }

    /// The capability checks the workload's tasks made, judged by the kernel functions that made
    /// them.
    fn capability_checks(
        &self,
        namespaces: &BTreeSet<u32>,
        bounding: Option<u64>,
        symbols: &Kallsyms,
    ) -> Result<CapabilityChecks, ProfileError> {
        let checks: HashMap<&MapData, [u8; CHECK_KEY], u8> =
            HashMap::try_from(self.map("checks")?).map_err(map_error)?;
        let mut ours = Vec::new();
        for key in checks.keys() {
            let key = key.map_err(map_error)?;
            let mntns = u32::from_ne_bytes([key[0], key[1], key[2], key[3]]);
            let checked_bounding = u64::from_ne_bytes(key[8..16].try_into().unwrap_or_default());
            let by_runtime = bounding.is_some_and(|bounding| checked_bounding & !bounding != 0);
            if namespaces.contains(&mntns) && !by_runtime {
                ours.push(key);
            }
        }
        let mut judged = CapabilityChecks {
            callers_named: ours.is_empty() || !symbols.is_empty(),
            ..CapabilityChecks::default()
        };
        for key in ours {
            let frames: Vec<&str> = key[16..]
                .chunks_exact(8)
                .map(|bytes| u64::from_ne_bytes(bytes.try_into().unwrap_or_default()))
                .take_while(|&address| address != 0)
                // The program's own frame (the BPF JIT) has no name here: skipped.
                .filter_map(|address| symbols.name(address))
                .collect();
            judged.add(u32::from(key[4]), key[5] != 0, &frames);
        }
        Ok(judged)
    }

    /// Every namespace enrolled so far (the container's, once it made a syscall).
    pub fn namespaces(&self) -> Result<BTreeSet<u32>, ProfileError> {
        Ok(self.slots()?.into_iter().map(|(mntns, _)| mntns).collect())
    }

    fn map(&self, name: &str) -> Result<&aya::maps::Map, ProfileError> {
        self.ebpf
            .map(name)
            .ok_or_else(|| ProfileError::Bpf(format!("the recorder object has no map `{name}`")))
    }

    fn map_mut(&mut self, name: &str) -> Result<&mut aya::maps::Map, ProfileError> {
        self.ebpf
            .map_mut(name)
            .ok_or_else(|| ProfileError::Bpf(format!("the recorder object has no map `{name}`")))
    }
}

/// Loads and attaches the programs, each on the tracepoint of its name.
fn attach(ebpf: &mut Ebpf, btf: &Btf) -> Result<(), ProfileError> {
    for (name, what) in [
        ("sys_enter", "the raw_syscalls:sys_enter tracepoint"),
        ("cap_capable", "the capability:cap_capable tracepoint"),
    ] {
        let program: &mut BtfTracePoint = program_of(ebpf, name)?;
        program
            .load(name, btf)
            .map_err(|error| program_error(name, what, &error))?;
        program
            .attach()
            .map_err(|error| program_error(name, what, &error))?;
    }
    Ok(())
}

fn program_of<'a, T>(ebpf: &'a mut Ebpf, name: &str) -> Result<&'a mut T, ProfileError>
where
    &'a mut T: TryFrom<&'a mut aya::programs::Program, Error = aya::programs::ProgramError>,
{
    let program = ebpf
        .program_mut(name)
        .ok_or_else(|| ProfileError::Bpf(format!("the recorder object has no program `{name}`")))?;
    program
        .try_into()
        .map_err(|error| ProfileError::Bpf(format!("program `{name}`: {error}")))
}

fn program_error(name: &str, what: &str, error: &aya::programs::ProgramError) -> ProfileError {
    // The verifier's log is the useful part of a load error; aya keeps it in the error's source.
    let mut message = format!("{what}: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    ProfileError::Bpf(format!("program `{name}`, {message}"))
}

/// The absolute path of a `path_key`: its path, after its working directory when it is relative.
fn written_path(key: &[u8; PATH_KEY]) -> String {
    let text = |bytes: &[u8]| {
        let end = bytes
            .iter()
            .position(|&byte| byte == 0)
            .unwrap_or(bytes.len());
        String::from_utf8_lossy(&bytes[..end]).into_owned()
    };
    let path = text(&key[8..8 + PATH_LEN]);
    if key[4] == 0 {
        return path;
    }
    let mut absolute = String::new();
    for name in key[8 + PATH_LEN..].chunks(NAME_LEN).rev() {
        let name = text(name);
        if !name.is_empty() {
            absolute.push('/');
            absolute.push_str(&name);
        }
    }
    absolute.push('/');
    absolute.push_str(&path);
    absolute
}

fn map_error(error: aya::maps::MapError) -> ProfileError {
    ProfileError::Bpf(format!("reading the recorder's maps: {error}"))
}
