//! The LSM label of the process: AppArmor or SELinux, from `/proc/self/attr`.
//!
//! On kernels that stack LSMs, `/proc/self/attr/current` belongs to the first "major" LSM and AppArmor
//! has its own `/proc/self/attr/apparmor/current`; both are read. With no LSM that labels processes,
//! reading fails with EINVAL and the label is `null`.

use crate::host::{read_text, Host};

/// The label and the LSM it comes from.
pub(crate) fn probe(host: &dyn Host) -> (Option<String>, Option<String>) {
    if let Some(label) = read_label(host, "/proc/self/attr/apparmor/current") {
        return (Some(label), Some("apparmor".to_owned()));
    }
    let Some(label) = read_label(host, "/proc/self/attr/current") else {
        return (None, None);
    };
    let kind = kind_of(
        &label,
        read_text(host, "/sys/kernel/security/lsm").as_deref(),
    );
    (Some(label), Some(kind.to_owned()))
}

fn read_label(host: &dyn Host, path: &str) -> Option<String> {
    let label = read_text(host, path)?;
    let label = label.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!label.is_empty()).then(|| label.to_owned())
}

/// Which LSM wrote a label: SELinux contexts have the form `user:role:type:level`, AppArmor labels are
/// a profile name and a mode (`docker-default (enforce)`) or `unconfined`.
fn kind_of(label: &str, active: Option<&str>) -> &'static str {
    let active = active.unwrap_or("");
    if label.split(':').count() >= 3 && !label.contains(' ') {
        "selinux"
    } else if label == "unconfined" || label.ends_with(')') || active.contains("apparmor") {
        "apparmor"
    } else if active.contains("smack") {
        "smack"
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_labels_apart() {
        assert_eq!(kind_of("docker-default (enforce)", None), "apparmor");
        assert_eq!(kind_of("unconfined", None), "apparmor");
        assert_eq!(
            kind_of("system_u:system_r:container_t:s0:c12,c34", None),
            "selinux"
        );
        assert_eq!(kind_of("_", Some("capability,smack")), "smack");
    }
}
