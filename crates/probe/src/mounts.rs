//! `/proc/self/mountinfo`: parsed once, each mount classified (the container's root, pseudo
//! filesystems, the runtime's masks, engine-managed files, tmpfs, volumes, host bind mounts).
//!
//! A bind mount shows the mounted directory's path *inside its filesystem* in the `root` field, so a
//! host directory on the host's root filesystem shows its host path; a directory on another host
//! filesystem shows the path below that filesystem's mount point.

/// Filesystems whose writability says nothing about file storage; reported separately (escape).
const PSEUDO_FILESYSTEMS: [&str; 18] = [
    "proc",
    "sysfs",
    "devpts",
    "mqueue",
    "cgroup",
    "cgroup2",
    "securityfs",
    "debugfs",
    "tracefs",
    "bpf",
    "fusectl",
    "configfs",
    "pstore",
    "binfmt_misc",
    "autofs",
    "hugetlbfs",
    "nsfs",
    "efivarfs",
];

/// Files the engine or kubelet bind-mounts into every container.
const ENGINE_FILES: [&str; 4] = [
    "/etc/hosts",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/dev/termination-log",
];

/// One line of mountinfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mount {
    /// The path inside the mounted filesystem (field 4).
    pub(crate) root: String,
    /// The mount point (field 5).
    pub(crate) target: String,
    /// Per-mount options (field 6).
    pub(crate) options: Vec<String>,
    /// Filesystem type.
    pub(crate) fstype: String,
    /// Mount source (device).
    pub(crate) source: String,
    /// Superblock options.
    pub(crate) super_options: Vec<String>,
}

/// What a mount is, for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MountKind {
    /// The container's `/`.
    Root,
    /// proc, sysfs, devpts, cgroup …
    Pseudo,
    /// A mount the runtime puts over `/proc` or `/sys` (masked and read-only paths).
    RuntimeMask,
    /// `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`.
    EngineFile,
    /// A tmpfs (`--tmpfs`, `/dev`, `/dev/shm`).
    Tmpfs,
    /// A named volume.
    Volume,
    /// A host file or directory.
    HostBind,
    /// The probe's own binary, bind-mounted by `leastpriv verify`.
    Probe,
    /// Anything else (an overlay mounted below `/`, a network filesystem root).
    Other,
}

impl Mount {
    /// Whether writes through this mount fail: the mount or its superblock is read-only.
    pub(crate) fn read_only(&self) -> bool {
        self.options.iter().any(|option| option == "ro")
            || self.super_options.iter().any(|option| option == "ro")
    }

    /// Whether it has the per-mount option.
    pub(crate) fn has_option(&self, name: &str) -> bool {
        self.options.iter().any(|option| option == name)
    }

    /// Classifies the mount; `probe_path` is where the probe's own binary is.
    pub(crate) fn kind(&self, probe_path: Option<&str>) -> MountKind {
        let target = self.target.as_str();
        if target == "/" {
            MountKind::Root
        } else if probe_path == Some(target) {
            MountKind::Probe
        } else if PSEUDO_FILESYSTEMS.contains(&self.fstype.as_str()) {
            MountKind::Pseudo
        } else if is_under(target, "/proc") || (is_under(target, "/sys") && self.fstype != "tmpfs")
        {
            MountKind::RuntimeMask
        } else if is_under(target, "/sys") {
            // tmpfs over /sys: a mask (/sys/firmware) or cgroup v1's /sys/fs/cgroup.
            if target == "/sys/fs/cgroup" {
                MountKind::Pseudo
            } else {
                MountKind::RuntimeMask
            }
        } else if ENGINE_FILES.contains(&target) {
            MountKind::EngineFile
        } else if self.fstype == "tmpfs" && self.root == "/" {
            MountKind::Tmpfs
        } else if self.root.contains("/volumes/") {
            MountKind::Volume
        } else if self.fstype.contains("overlay") && self.root == "/" {
            MountKind::Other
        } else {
            MountKind::HostBind
        }
    }
}

fn is_under(path: &str, dir: &str) -> bool {
    path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Parses mountinfo; malformed lines are skipped.
pub(crate) fn parse(text: &str) -> Vec<Mount> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Mount> {
    let (before, after) = line.split_once(" - ")?;
    let mut fields = before.split(' ');
    let _id = fields.next()?;
    let _parent = fields.next()?;
    let _device = fields.next()?;
    let root = unescape(fields.next()?);
    let target = unescape(fields.next()?);
    let options = fields.next()?.split(',').map(str::to_owned).collect();
    let mut after = after.split(' ');
    let fstype = after.next()?.to_owned();
    let source = unescape(after.next()?);
    let super_options = after
        .next()
        .map(|options| options.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    Some(Mount {
        root,
        target,
        options,
        fstype,
        source,
        super_options,
    })
}

/// Undoes the kernel's octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|digits| {
            bytes[i] == b'\\' && digits.iter().all(|digit| (b'0'..=b'7').contains(digit))
        });
        match octal {
            Some(digits) => {
                let value = digits
                    .iter()
                    .fold(0u32, |value, digit| value * 8 + u32::from(digit - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The visible mounts: of several mounts on one target, the last one.
pub(crate) fn visible(mounts: &[Mount]) -> Vec<&Mount> {
    let mut visible: Vec<&Mount> = Vec::new();
    for mount in mounts {
        visible.retain(|earlier| earlier.target != mount.target);
        visible.push(mount);
    }
    visible
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKER: &str = "\
69 45 0:39 / / rw,nodev,noatime master:2 - fuse.fuse-overlayfs fuse-overlayfs rw,user_id=0
70 69 0:41 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
71 69 0:42 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
73 69 0:44 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
74 73 0:45 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755
75 74 0:29 /docker/83 /sys/fs/cgroup/cpu ro,nosuid - cgroup cgroup rw,cpu
86 69 254:0 /var/lib/docker/containers/83/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw
89 69 0:50 / /tmp rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=1024k
90 69 0:22 /docker.sock /var/run/docker.sock rw,nosuid,nodev - tmpfs tmpfs rw,mode=755
91 69 254:0 /srv/my\\040data /data ro,relatime - ext4 /dev/vda rw
92 69 254:0 /var/lib/docker/volumes/pg/_data /var/lib/postgresql rw - ext4 /dev/vda rw
93 69 254:0 /work/target/leastpriv /.leastpriv/leastpriv ro - ext4 /dev/vda rw
49 70 0:41 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw
51 70 0:42 /null /proc/keys rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
53 73 0:48 / /sys/firmware ro,relatime - tmpfs tmpfs ro
";

    #[test]
    fn classifies_a_docker_container() {
        let mounts = parse(DOCKER);
        assert_eq!(mounts.len(), 15);
        let kinds: Vec<(&str, MountKind)> = mounts
            .iter()
            .map(|mount| {
                (
                    mount.target.as_str(),
                    mount.kind(Some("/.leastpriv/leastpriv")),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("/", MountKind::Root),
                ("/proc", MountKind::Pseudo),
                ("/dev", MountKind::Tmpfs),
                ("/sys", MountKind::Pseudo),
                ("/sys/fs/cgroup", MountKind::Pseudo),
                ("/sys/fs/cgroup/cpu", MountKind::Pseudo),
                ("/etc/resolv.conf", MountKind::EngineFile),
                ("/tmp", MountKind::Tmpfs),
                ("/var/run/docker.sock", MountKind::HostBind),
                ("/data", MountKind::HostBind),
                ("/var/lib/postgresql", MountKind::Volume),
                ("/.leastpriv/leastpriv", MountKind::Probe),
                ("/proc/sys", MountKind::Pseudo),
                ("/proc/keys", MountKind::RuntimeMask),
                ("/sys/firmware", MountKind::RuntimeMask),
            ]
        );
        assert_eq!(mounts[9].root, "/srv/my data");
        assert!(mounts[9].read_only());
        assert!(!mounts[0].read_only());
        assert!(mounts[3].read_only());
    }

    #[test]
    fn the_last_mount_on_a_target_is_visible() {
        let mounts = parse(
            "1 0 0:1 / / ro - overlay overlay rw\n2 1 0:2 / /tmp rw - tmpfs tmpfs rw\n\
             3 1 0:3 / /tmp ro - tmpfs tmpfs ro\n",
        );
        let visible = visible(&mounts);
        assert_eq!(visible.len(), 2);
        assert!(visible[1].read_only());
    }

    #[test]
    fn skips_malformed_lines() {
        assert!(parse("garbage\n1 2 3\n").is_empty());
        assert_eq!(unescape("a\\134b\\0"), "a\\b\\0");
    }
}
