use leastpriv_model::{Container, Remedy};

use crate::engine::Checker;
use crate::helpers::host_path::normalize;
use crate::helpers::runtime::fix_for;
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a host device given to the container (Compose `devices:`, `docker run --device`,
    /// `HostConfig.Devices`), graded by what the device reaches:
    ///
    /// - critical: disks and partitions (`/dev/sd*`, `/dev/nvme*`, `/dev/vd*`, `/dev/xvd*`,
    ///   `/dev/mmcblk*`, `/dev/dm-*`, `/dev/mapper/*`, `/dev/md*`, `/dev/loop*`, `/dev/disk/*`) and
    ///   memory (`/dev/mem`, `/dev/kmem`, `/dev/port`); high when such a device is read-only;
    /// - medium: any other device;
    /// - low: everyday hardware (GPUs `/dev/dri`, `/dev/nvidia*`, `/dev/kfd`; sound; video; serial
    ///   and USB adapters; `/dev/net/tun`; `/dev/fuse`; `/dev/kvm`).
    ///
    /// ## Why is this bad?
    /// A device bypasses the container's filesystem entirely: with the host's disk the container
    /// mounts or edits the host's root filesystem (`debugfs -w /dev/sda1`), with `/dev/mem` it reads and
    /// writes physical memory. Even ordinary devices expose kernel drivers, a frequent source of
    /// kernel bugs.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   backup:
    ///     image: example/backup
    ///     devices:
    ///       - /dev/sda:/dev/sda
    /// ```
    ///
    /// Use instead: back up a mounted directory (or a volume) read-only, not the raw disk.
    ///
    /// ## Equivalents
    /// CIS Docker Benchmark 5.18 (manual) · KICS compose (no device query) · trivy and checkov: none
    pub(crate) static META = {
        name: "host-device-mapped",
        layer: Escape,
        severity: Medium,
        fix: "Remove the device, or map only the one device node the program needs",
        also: [Critical, High, Low],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

/// Disks, partitions and memory: whoever writes them owns the host.
const RAW_STORAGE_PREFIXES: [&str; 11] = [
    "/dev/sd",
    "/dev/hd",
    "/dev/vd",
    "/dev/xvd",
    "/dev/nvme",
    "/dev/mmcblk",
    "/dev/dm-",
    "/dev/mapper/",
    "/dev/md",
    "/dev/loop",
    "/dev/disk/",
];
const MEMORY_DEVICES: [&str; 3] = ["/dev/mem", "/dev/kmem", "/dev/port"];

/// Hardware that desktop, media and machine-learning containers use routinely.
const EVERYDAY_PREFIXES: [&str; 14] = [
    "/dev/dri",
    "/dev/nvidia",
    "/dev/kfd",
    "/dev/snd",
    "/dev/video",
    "/dev/media",
    "/dev/ttyUSB",
    "/dev/ttyACM",
    "/dev/bus/usb",
    "/dev/net/tun",
    "/dev/fuse",
    "/dev/kvm",
    "/dev/input",
    "/dev/hidraw",
];

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    for device in &runtime.devices {
        let host = normalize(&device.value.host).unwrap_or_else(|| device.value.host.clone());
        let writable =
            device.value.permissions.is_empty() || device.value.permissions.contains('w');
        let (severity, message) = judge(&host, writable);
        let fix = fix_for(
            container,
            &format!("remove `{host}` from `devices:`"),
            &format!("remove the device `{host}`"),
            &format!("remove `--device {host}`"),
        );
        checker
            .report(device.span, message)
            .severity(severity)
            .fix(fix)
            .remedy(Remedy::RemoveMount {
                target: device.value.container.clone(),
            });
    }
}

/// How bad mapping the host device `host` (normalised) is, and why. Also what `verify` asks of a
/// device node it sees in a running container that nobody mapped.
pub(crate) fn judge(host: &str, writable: bool) -> (Severity, String) {
    let raw = MEMORY_DEVICES.contains(&host)
        || RAW_STORAGE_PREFIXES
            .iter()
            .any(|prefix| host.starts_with(prefix));
    if raw && writable {
        (
            Severity::Critical,
            format!("host device `{host}` is mapped writable: it is the host's disk or memory, so the container can rewrite the host"),
        )
    } else if raw {
        (
            Severity::High,
            format!("host device `{host}` is mapped read-only: the container reads the host's disk or memory, every secret included"),
        )
    } else if EVERYDAY_PREFIXES
        .iter()
        .any(|prefix| host.starts_with(prefix))
    {
        (
            Severity::Low,
            format!(
                "host device `{host}` is mapped: its kernel driver is exposed to the container"
            ),
        )
    } else {
        (
            Severity::Medium,
            format!("host device `{host}` is mapped: the container talks to host hardware through its kernel driver"),
        )
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Device, Runtime, SourceKind};

    use crate::testing::Source;
    use crate::Severity;

    #[test]
    fn grades_devices() {
        let source = Source::new();
        let cases = [
            ("/dev/sda", "rwm", Severity::Critical),
            ("/dev/nvme0n1p1", "", Severity::Critical),
            ("/dev/mem", "r", Severity::High),
            ("/dev/dri", "rwm", Severity::Low),
            ("/dev/ttyUSB0", "rwm", Severity::Low),
            ("/dev/watchdog", "rwm", Severity::Medium),
        ];
        let runtime = Runtime {
            devices: cases
                .iter()
                .enumerate()
                .map(|(index, (host, permissions, _))| {
                    source.at(
                        index as u32 + 2,
                        Device {
                            host: (*host).into(),
                            container: (*host).into(),
                            permissions: (*permissions).into(),
                        },
                    )
                })
                .collect(),
            ..Runtime::default()
        };
        let found = source.run("LP121", &[source.container(SourceKind::Compose, runtime)]);
        let got: Vec<_> = found.iter().map(|f| f.severity).collect();
        let expected: Vec<_> = cases.iter().map(|case| case.2).collect();
        assert_eq!(got, expected);
    }
}
