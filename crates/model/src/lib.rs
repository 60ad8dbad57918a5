//! The security model of a container.
//!
//! Every front-end (Dockerfile, Compose, Kubernetes, `docker run`, `docker inspect`, image archives)
//! lowers its source into the same [`Container`], and every rule judges only this model: one rule serves
//! every source. The model has no I/O and no parsing; it is plain typed data, each user-written value a
//! [`Spanned`] so that findings point at the place that causes them.
//!
//! A container has up to three parts, each present only when the source can say something about it:
//!
//! - [`Build`]: how the image is made (Dockerfile stages, `RUN` commands, `COPY` sources, `ENV`, `ARG`,
//!   the final stage's `USER`). Present for Dockerfiles and for Compose services with `build:`.
//! - [`Runtime`]: how the container is run (user override, privileged, capabilities, confinement,
//!   mounts, namespaces …). Present for Compose, Kubernetes, `docker run` and `docker inspect`.
//!   `None` means "unknown here", never "default": a Dockerfile cannot drop capabilities, so
//!   runtime rules stay silent on it.
//! - [`ImageFacts`]: what a built image really holds (config user and env, history, files and their
//!   modes). Present for image archives and images in the engine.
//!
//! The engine that runs them is a [`Daemon`]: its configuration and its reported state, judged by the
//! `daemon` layer's rules.
//!
//! Uncertainty is explicit: [`User::is_root`] answers [`Certainty::Unknown`] for an unexpanded `ARG`,
//! and rules decide what an unknown means. Values that may be secrets are held as [`Sensitive`], whose
//! `Debug`, `Display` and `Serialize` print only a redaction.
#![deny(missing_docs)]

mod build;
mod capability;
mod daemon;
mod image;
mod profile;
mod remedy;
mod runtime;
mod sensitive;
mod user;

pub use build::{
    references_variable, Build, BuildArg, BuildContext, ContextSecret, CopyInstruction, PortSpec,
    RunFlags, RunInstruction, ShellCommand, Stage, StageBase,
};
pub use capability::{Capability, ALL_CAPABILITIES, DOCKER_DEFAULT_CAPABILITIES};
pub use daemon::{Account, Daemon, DaemonConfig, DaemonState, InsecureApi, SocketFile};
pub use image::{quote_path, short_digest, ImageFacts, ImageFile, ImageHistoryEntry, ImageLayer};
pub use leastpriv_source::{FileId, Span, Spanned, TextRange};
pub use profile::{ProfilePort, ProfileRun, WorkloadProfile, PROFILE_SCHEMA};
pub use remedy::{Confinement, Namespace, Remedy};
pub use runtime::{
    Device, LsmProfile, Mount, MountKind, NamespaceMode, Namespaces, PortMapping, Protocol,
    Runtime, SeccompFacts, SeccompProfile, SecretMount, SelinuxLabel, Sysctl, Tmpfs,
};
pub use sensitive::{EnvVar, Sensitive};
pub use user::{atoi, is_root_group, AccountDb, AccountFile, Certainty, Id, Resolved, User};

/// Which kind of source described a container. Reporters use it for wording; rules for the few
/// differences in meaning between sources (a missing `user:` in Compose vs a missing `USER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A Dockerfile (or Containerfile).
    Dockerfile,
    /// A Compose service.
    Compose,
    /// A container of a Kubernetes workload.
    Kubernetes,
    /// A `docker run` / `docker create` / `podman run` command line in a script.
    DockerRun,
    /// A container in `docker inspect` output or in the live engine.
    DockerInspect,
    /// A built image: an archive or an image in the engine.
    Image,
}

/// One container as it will run (or, for a Dockerfile, the image it builds).
#[derive(Debug, Clone)]
pub struct Container {
    /// A human name: the Dockerfile's path, a Compose service, `Deployment/web:app`.
    pub name: String,
    /// The kind of source.
    pub kind: SourceKind,
    /// Where findings about something *missing* point: the final `FROM`, the service key, the
    /// container's `name:` entry.
    pub origin: Span,
    /// How the image is built, when the source says.
    pub build: Option<Build>,
    /// How the container runs, when the source says.
    pub runtime: Option<Runtime>,
    /// What the built image holds, when it was read.
    pub image: Option<ImageFacts>,
    /// Secret-named variables set in committed env files whose values no container is known to
    /// receive (a Compose project's `.env`, read for interpolation; a `.env` named as an input):
    /// audited for literal secrets only.
    pub committed_env: Vec<EnvVar>,
}

impl Container {
    /// A container with no build, runtime or image facts yet.
    pub fn new(name: impl Into<String>, kind: SourceKind, origin: Span) -> Self {
        Self {
            name: name.into(),
            kind,
            origin,
            build: None,
            runtime: None,
            image: None,
            committed_env: Vec::new(),
        }
    }

    /// The user the container's process starts as, and where that was decided: the runtime override
    /// first, then the image's configured user, then the final build stage's `USER`. `None` when no
    /// source in view sets it (the base image decides).
    pub fn effective_user(&self) -> Option<&Spanned<User>> {
        self.runtime
            .as_ref()
            .and_then(|runtime| runtime.user.as_ref())
            .or_else(|| self.image.as_ref().and_then(|image| image.user.as_ref()))
            .or_else(|| self.build.as_ref().and_then(Build::final_user))
    }

    /// Whether [`Container::effective_user`] is root. A name is resolved through the image's own
    /// `/etc/passwd` when the image was read (`USER toor` with uid 0 is root); otherwise as
    /// [`User::is_root`] spells it.
    pub fn effective_user_is_root(&self) -> Option<(&Spanned<User>, Certainty)> {
        let user = self.effective_user()?;
        let certainty = match &self.image {
            Some(image) => image.is_root(&user.value),
            None => user.value.is_root(),
        };
        Some((user, certainty))
    }
}
