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
    "LP201" => user::root_user,
    "LP202" => user::sudo_installed,
    "LP203" => user::passwordless_sudo,
    "LP204" => user::sudo_in_run,
    "LP205" => user::setuid_bit_set,
    "LP206" => user::privileged_port_exposed,
    "LP207" => user::user_not_numeric,
    "LP208" => user::password_set_in_run,
    "LP209" => user::ssh_server_in_image,
    "LP301" => capabilities::file_capabilities_set,
    "LP601" => secrets::secret_in_env,
    "LP602" => secrets::secret_in_build_arg,
    "LP603" => secrets::credential_literal,
    "LP604" => secrets::secret_file_copied,
    "LP605" => secrets::credential_setup_in_run,
    "LP606" => secrets::private_key_generated,
    "LP607" => secrets::secret_in_run_argument,
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
