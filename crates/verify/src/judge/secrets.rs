//! The secrets layer: no secret value in the environment (LP620 and LP601 judge the same in a
//! configuration; the probe reads names only, never values), and the secret files configured are
//! mounted.

use leastpriv_probe::ProbeReport;

use super::{listed, same_path, Checks, Promises};
use crate::expect::Expectation;

pub(super) fn judge(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    for secret in &promises.runtime.secrets {
        let Some(target) = &secret.value.target else {
            continue;
        };
        match probe
            .secret_files
            .iter()
            .find(|file| same_path(&file.path, target))
        {
            Some(file) => checks.pass(format!(
                "secret {} at {target} (mode {}, uid {})",
                secret.value.name, file.mode, file.uid
            )),
            None => checks.broken(
                None,
                format!(
                    "secret {} was configured at {target}, but is not there",
                    secret.value.name
                ),
            ),
        }
    }
    if probe.secret_env_names.is_empty() {
        checks.pass("no secret-looking variable in the environment");
    } else {
        checks.finding(
            "LP620",
            format!(
                "secrets in the environment, where child processes, crash dumps and logs see them: \
                 {} (names only; values are never read)",
                listed(&probe.secret_env_names)
            ),
        );
    }
    if !probe.secret_files.is_empty() {
        checks.note(format!(
            "secret files: {}",
            listed(
                probe
                    .secret_files
                    .iter()
                    .map(|file| format!("{} ({})", file.path, file.mode))
            )
        ));
    }
    if promises.expects(Expectation::NoSecretEnv) {
        checks.promise(
            probe.secret_env_names.is_empty(),
            "expect no-secret-env: none",
            format!("expect no-secret-env: {}", listed(&probe.secret_env_names)),
        );
    }
}
