//! How a secret found in an environment variable is described and fixed, in the words of its source.
//! The detectors themselves are in [`leastpriv_secrets`], shared with the reporters' masks.

use leastpriv_model::SourceKind;

pub(crate) use leastpriv_secrets::{
    find_credential, find_credential_in_variable, find_credentials, is_literal_value,
    is_placeholder_for, is_secret_name, secret_arguments, secret_file_kind, SECRET_DIRECTORY_KINDS,
};

/// Where a variable was set, in the words of its source, and who can read it there.
pub(crate) fn environment_exposure(kind: SourceKind) -> (&'static str, &'static str) {
    match kind {
        SourceKind::Dockerfile => ("`ENV`", "stored in the image config, readable with `docker inspect` by anyone who can pull the image"),
        SourceKind::Compose => ("`environment:`", "written in the Compose file and readable with `docker inspect`"),
        SourceKind::Kubernetes => ("`env:`", "written in the manifest and readable by anyone who can read the pod spec"),
        SourceKind::DockerRun => ("`docker run -e`", "written in the script, the shell history and `docker inspect`"),
        SourceKind::DockerInspect => ("the container's environment", "readable with `docker inspect`"),
        SourceKind::Image => ("the image config's `Env`", "readable by anyone who can pull the image"),
    }
}

/// How to move a secret out of a variable, in the words of its source.
pub(crate) fn environment_fix(kind: SourceKind, name: &str) -> String {
    let id = name.to_ascii_lowercase();
    match kind {
        SourceKind::Dockerfile | SourceKind::Image => format!(
            "Remove the value: pass it at run time as a secret file (`/run/secrets/{id}`), or at build time with `RUN --mount=type=secret,id={id},env={name}`"
        ),
        SourceKind::Compose => format!(
            "Move it to a top-level `secrets:` entry, grant it with `secrets: [{id}]` and read `/run/secrets/{id}` (many images accept `{name}_FILE`)"
        ),
        SourceKind::Kubernetes => format!(
            "Store it in a Secret and mount it as a file, or reference it with `valueFrom.secretKeyRef` instead of a literal `{name}`"
        ),
        SourceKind::DockerRun | SourceKind::DockerInspect => format!(
            "Pass it as a file instead (`--mount type=bind,src=…,dst=/run/secrets/{id},readonly`, or `docker secret`), not as `-e {name}=…`"
        ),
    }
}
