//! The one table of rules: the only place codes are assigned.
//!
//! Codes are stable forever; the hundreds digit is the layer: 1xx escape, 2xx user, 3xx capabilities,
//! 4xx confinement, 5xx filesystem, 6xx secrets, 7xx daemon. A retired code is never reused.

use crate::rules;
use crate::Rule;

macro_rules! registry {
    ($($code:literal => $($module:ident)::+),* $(,)?) => {
        /// Every rule, in code order.
        pub static RULES: &[Rule] = &[
            $(Rule {
                code: $code,
                meta: &rules::$($module)::+::META,
                check: rules::$($module)::+::CHECK,
            }),*
        ];
    };
}

registry! {
    "LP101" => escape::run_security_insecure,
    "LP102" => escape::run_network_host,
    "LP110" => escape::privileged_container,
    "LP111" => escape::engine_socket_mounted,
    "LP112" => escape::sensitive_host_path_mounted,
    "LP113" => escape::host_path_volume,
    "LP114" => escape::shared_mount_propagation,
    "LP115" => escape::host_pid_namespace,
    "LP116" => escape::host_network_namespace,
    "LP117" => escape::host_ipc_namespace,
    "LP118" => escape::host_uts_namespace,
    "LP119" => escape::host_user_namespace,
    "LP120" => escape::host_cgroup_namespace,
    "LP121" => escape::host_device_mapped,
    "LP122" => escape::device_cgroup_rule_added,
    "LP123" => escape::unsafe_sysctl,
    "LP124" => escape::host_port_bound,
    "LP125" => escape::non_core_volume_type,
    "LP201" => user::root_user,
    "LP202" => user::sudo_installed,
    "LP203" => user::passwordless_sudo,
    "LP204" => user::sudo_in_run,
    "LP205" => user::setuid_bit_set,
    "LP206" => user::privileged_port_exposed,
    "LP207" => user::user_not_numeric,
    "LP208" => user::password_set_in_run,
    "LP209" => user::ssh_server_in_image,
    "LP220" => user::image_default_user,
    "LP221" => user::run_as_non_root_unset,
    "LP222" => user::non_numeric_user_with_run_as_non_root,
    "LP223" => user::root_group,
    "LP250" => user::unexpected_setuid_file,
    "LP251" => user::setuid_files_present,
    "LP252" => user::passwordless_sudo_in_image,
    "LP301" => capabilities::file_capabilities_set,
    "LP310" => capabilities::capability_added,
    "LP311" => capabilities::capabilities_not_dropped,
    "LP401" => confinement::seccomp_unconfined,
    "LP402" => confinement::seccomp_profile_unset,
    "LP403" => confinement::permissive_seccomp_profile,
    "LP404" => confinement::apparmor_unconfined,
    "LP405" => confinement::selinux_label_weakened,
    "LP406" => confinement::proc_paths_unmasked,
    "LP501" => filesystem::privilege_escalation_allowed,
    "LP502" => filesystem::writable_root_filesystem,
    "LP503" => filesystem::read_only_root_without_scratch,
    "LP504" => filesystem::permissive_tmpfs_mount,
    "LP505" => filesystem::world_writable_mode_set,
    "LP550" => filesystem::world_writable_directory,
    "LP601" => secrets::secret_in_env,
    "LP602" => secrets::secret_in_build_arg,
    "LP603" => secrets::credential_literal,
    "LP604" => secrets::secret_file_copied,
    "LP605" => secrets::credential_setup_in_run,
    "LP606" => secrets::private_key_generated,
    "LP607" => secrets::secret_in_run_argument,
    "LP608" => secrets::secret_file_copied_from_context,
    "LP620" => secrets::secret_exposed_as_environment,
    "LP650" => secrets::secret_file_in_image,
    "LP651" => secrets::deleted_secret_in_layer,
    "LP652" => secrets::secret_in_image_history,
    "LP701" => daemon::daemon_runs_as_root,
    "LP702" => daemon::userns_remap_disabled,
    "LP703" => daemon::daemon_tcp_without_tls,
    "LP704" => daemon::inter_container_communication_enabled,
    "LP705" => daemon::new_privileges_allowed_by_default,
    "LP706" => daemon::live_restore_disabled,
    "LP707" => daemon::userland_proxy_enabled,
    "LP708" => daemon::insecure_registry,
    "LP709" => daemon::seccomp_unconfined_by_default,
    "LP710" => daemon::daemon_socket_world_writable,
    "LP711" => daemon::daemon_socket_unexpected_owner,
    "LP712" => daemon::default_ulimits_unset,
    "LP713" => daemon::daemon_without_lsm,
    "LP714" => daemon::host_cgroup_namespace_by_default,
}

/// The rule with this code (any case) or name.
pub fn find_rule(code_or_name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|rule| rule.code.eq_ignore_ascii_case(code_or_name) || rule.meta.name == code_or_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Layer;

    #[test]
    fn codes_are_unique_sorted_and_match_their_layer() {
        let mut previous = "";
        for rule in RULES {
            assert!(
                rule.code > previous,
                "{} is out of order or repeated",
                rule.code
            );
            previous = rule.code;
            let digit = Layer::ALL
                .iter()
                .position(|&l| l == rule.meta.layer)
                .unwrap()
                + 1;
            assert_eq!(
                &rule.code[2..3],
                digit.to_string(),
                "{}: code does not match layer {}",
                rule.code,
                rule.meta.layer
            );
        }
    }

    #[test]
    fn names_are_unique_kebab_case_and_name_the_pattern() {
        let mut names: Vec<_> = RULES.iter().map(|rule| rule.meta.name).collect();
        for name in &names {
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{name} is not kebab-case"
            );
            assert!(
                !name.starts_with("no-"),
                "{name}: name the flagged pattern, not its absence"
            );
        }
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "rule names repeat");
    }

    #[test]
    fn every_rule_is_documented_with_every_section() {
        for rule in RULES {
            let doc = rule.explanation();
            for section in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "Use instead:",
                "## Equivalents",
            ] {
                assert!(doc.contains(section), "{} lacks `{section}`", rule.code);
            }
            let fix = rule.meta.fix_title;
            assert!(
                !fix.ends_with('.'),
                "{}: fix title ends with a period",
                rule.code
            );
        }
    }

    #[test]
    fn docs_are_fresh() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rules.md");
        let generated = crate::render_rule_docs();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let current = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            current == generated,
            "docs/rules.md is stale: run `UPDATE_DOCS=1 cargo test -p leastpriv-rules docs_are_fresh`"
        );
    }
}
