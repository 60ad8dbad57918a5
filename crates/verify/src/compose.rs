//! `leastpriv verify --compose FILE --service NAME`: run one Compose service's probe with the user's
//! own Compose tool.
//!
//! As for `docker run`, the tool that turns the configuration into an API request is the one the
//! deployment uses (`docker compose`, else `docker-compose`), so that what is verified is Compose's
//! own reading of the file — merge order, interpolation, `.env`, defaults — not ours. The probe runs
//! as `compose run --rm --no-deps -T --entrypoint PROBE -v BINARY:PROBE:ro SERVICE probe --format json`:
//! the service's user, capabilities, security options, read-only root, tmpfs, mounts, secrets and
//! environment apply unchanged; `ports` are not published (`run` does not), `depends_on` services
//! are not started and `entrypoint`/`command` are replaced by the probe.
//!
//! Everything runs under a project name of its own (`leastpriv-verify-<pid>-<nanos>`), so that the
//! user's running stack is never touched, and `down --volumes --remove-orphans --rmi local` removes
//! after it the network, volumes and any image built for a service without an `image:` name.
//!
//! The promises come from leastpriv's own Compose front-end, as `audit` reads the same files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use leastpriv_frontend::{compose, Options as FrontendOptions};
use leastpriv_model::Runtime;
use leastpriv_source::read;
use leastpriv_source::SourceDb;

use crate::engine;
use crate::VerifyError;

/// Which service of which Compose project.
#[derive(Clone, Debug)]
pub struct ComposeTarget {
    /// The Compose files, merged in order (`-f a -f b`); the first one's directory is the project's.
    pub files: Vec<PathBuf>,
    /// The service; `None` picks the project's only service.
    pub service: Option<String>,
}

/// Service keys the probe's run leaves out, for the report.
const LEFT_OUT: [&str; 4] = ["ports", "depends_on", "entrypoint", "command"];

/// One service, read and ready to run.
#[derive(Debug)]
pub struct ComposeRun {
    /// `docker compose` or `docker-compose`.
    tool: Vec<String>,
    /// The project name the probe's run uses.
    project: String,
    /// The files, absolute.
    files: Vec<String>,
    /// The project's directory (the first file's), where the Compose tool runs: Compose v1 reads
    /// a relative `seccomp=FILE` from its working directory, v2 from the project's.
    directory: PathBuf,
    /// The service.
    pub service: String,
    /// The service's `image:`.
    image: Option<String>,
    /// Whether the service is built from a Dockerfile.
    builds: bool,
    /// What the service's configuration promises.
    pub runtime: Runtime,
}

impl ComposeRun {
    /// Reads the project with the Compose front-end and picks the service.
    pub fn load(target: &ComposeTarget, project: String) -> Result<Self, VerifyError> {
        let mut files = Vec::new();
        let db = SourceDb::new();
        let mut ids = Vec::new();
        for path in &target.files {
            let absolute = std::fs::canonicalize(path)
                .map_err(|error| VerifyError::Usage(format!("{}: {error}", path.display())))?;
            // The audit's bounded reader: a regular file (a FIFO named here must not block) of at
            // most the size `audit` reads, so that the Compose front-end's memory bounds hold.
            let text = read::read_regular(&absolute, read::MAX_INPUT_BYTES)
                .and_then(read::decode)
                .map_err(|error| VerifyError::Usage(format!("{}: {error}", path.display())))?;
            ids.push(db.add(path.to_string_lossy(), text));
            files.push(absolute.to_string_lossy().into_owned());
        }
        let lowered = compose::lower_files(&db, &ids, &FrontendOptions::default());
        if let Some(error) = lowered.errors.first() {
            return Err(VerifyError::Usage(error.located(&db)));
        }
        let services: Vec<String> = lowered
            .containers
            .iter()
            .map(|container| service_name(&container.name).to_owned())
            .collect();
        let service = match &target.service {
            Some(service) => service.clone(),
            None if services.len() == 1 => services[0].clone(),
            None => {
                return Err(VerifyError::Usage(format!(
                    "the project has {} services; name one with --service: {}",
                    services.len(),
                    services.join(", ")
                )))
            }
        };
        let container = lowered
            .containers
            .into_iter()
            .find(|container| service_name(&container.name) == service)
            .ok_or_else(|| {
                VerifyError::Usage(format!(
                    "no service `{service}` in {}; services: {}",
                    target
                        .files
                        .iter()
                        .map(|path| path.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    services.join(", ")
                ))
            })?;
        let runtime = container.runtime.unwrap_or_default();
        let image = runtime.image.as_ref().map(|image| image.value.clone());
        let directory = files
            .first()
            .and_then(|first| Path::new(first).parent())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Ok(Self {
            tool: Vec::new(),
            project,
            files,
            directory,
            service,
            // A service without `image:` must have `build:`; the front-end has build facts only when
            // the Dockerfile could be read, and Compose reports a missing one better than we can.
            builds: container.build.is_some() || image.is_none(),
            image,
            runtime,
        })
    }

    /// Finds the Compose tool: the `docker compose` plugin, else the standalone `docker-compose`.
    pub fn find_tool(&mut self) -> Result<(), VerifyError> {
        let candidates: [&[&str]; 2] = [&["docker", "compose"], &["docker-compose"]];
        for candidate in candidates {
            let mut argv: Vec<String> = candidate.iter().map(|word| (*word).to_owned()).collect();
            argv.push("version".to_owned());
            if engine::run(&argv, Duration::from_secs(30)).is_ok_and(|out| out.code == Some(0)) {
                self.tool = candidate.iter().map(|word| (*word).to_owned()).collect();
                return Ok(());
            }
        }
        Err(VerifyError::Engine(
            "neither `docker compose` nor `docker-compose` runs here".into(),
        ))
    }

    /// Adds a file merged after the user's (an override of leastpriv's own).
    pub fn add_file(&mut self, path: &str) {
        self.files.push(path.to_owned());
    }

    /// The project name the run uses.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The service's `image:`, if it names one.
    pub fn image(&self) -> Option<&str> {
        self.image.as_deref()
    }

    /// The directory the Compose tool runs in: the project's.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// `TOOL -p PROJECT -f FILE…`.
    pub fn base(&self) -> Vec<String> {
        let mut argv = self.tool.clone();
        argv.extend(["-p".to_owned(), self.project.clone()]);
        for file in &self.files {
            argv.extend(["-f".to_owned(), file.clone()]);
        }
        argv
    }

    /// Builds the service's image first, when it has a `build:` section, so that build output never
    /// mixes with the probe's report.
    pub fn build_argv(&self) -> Option<Vec<String>> {
        self.builds.then(|| {
            let mut argv = self.base();
            // --force-rm: the classic builder keeps a failed step's container otherwise.
            argv.extend(["build", "--force-rm"].map(str::to_owned));
            argv.push(self.service.clone());
            argv
        })
    }

    /// The run of the probe in place of the service's process.
    pub(crate) fn probe_argv(&self, probe_binary: &str) -> Vec<String> {
        let mut argv = self.base();
        argv.extend(
            [
                "run",
                "--rm",
                "--no-deps",
                "-T",
                "--entrypoint",
                crate::PROBE_PATH,
                "-v",
            ]
            .map(str::to_owned),
        );
        argv.push(format!("{probe_binary}:{}:ro", crate::PROBE_PATH));
        argv.extend([self.service.clone(), "probe".to_owned()]);
        argv.extend(["--format".to_owned(), "json".to_owned()]);
        argv
    }

    /// Removes what the probe's run created: containers, the network, volumes, built images.
    pub fn down_argv(&self) -> Vec<String> {
        let mut argv = self.base();
        argv.extend(["down", "--volumes", "--remove-orphans", "--rmi", "local"].map(str::to_owned));
        argv
    }

    /// The names the service's image can have: its `image:`, else what Compose v2 and v1 call an
    /// image built for the project.
    pub(crate) fn image_names(&self) -> Vec<String> {
        match &self.image {
            Some(image) => vec![image.clone()],
            None => vec![
                format!("{}-{}", self.project, self.service),
                format!("{}_{}", self.project, self.service),
            ],
        }
    }

    /// What the report calls the image.
    pub fn image_label(&self) -> String {
        match &self.image {
            Some(image) => format!("{image} (service {})", self.service),
            None => format!("service {} (built)", self.service),
        }
    }

    /// Service keys left out of the probe's run.
    pub(crate) fn left_out() -> Vec<String> {
        LEFT_OUT.iter().map(|key| (*key).to_owned()).collect()
    }
}

/// `web (profiles: debug)` → `web`.
fn service_name(display: &str) -> &str {
    display.split(" (profiles:").next().unwrap_or(display)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::Path;

    use super::*;

    fn project(yaml: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::Builder::new()
            .suffix(".yaml")
            .tempfile()
            .expect("temp file");
        file.write_all(yaml.as_bytes()).expect("writes");
        file
    }

    fn load(file: &Path, service: Option<&str>) -> Result<ComposeRun, VerifyError> {
        let target = ComposeTarget {
            files: vec![file.to_path_buf()],
            service: service.map(str::to_owned),
        };
        ComposeRun::load(&target, "leastpriv-verify-1-2".into())
    }

    #[test]
    fn reads_the_promises_and_rewrites_the_run() {
        let file = project(
            "services:\n  web:\n    build: .\n    user: \"10001\"\n    cap_drop: [ALL]\n    \
             read_only: true\n  db:\n    image: postgres:16\n",
        );
        let mut run = load(file.path(), Some("web")).expect("loads");
        run.tool = vec!["docker-compose".into()];
        assert_eq!(
            run.runtime.read_only_root.as_ref().map(|ro| ro.value),
            Some(true)
        );
        assert_eq!(run.runtime.cap_drop.len(), 1);
        let path = file.path().canonicalize().expect("exists");
        let path = path.to_str().expect("utf-8");
        let base = format!("docker-compose -p leastpriv-verify-1-2 -f {path}");
        assert_eq!(
            run.probe_argv("/opt/leastpriv").join(" "),
            format!(
                "{base} run --rm --no-deps -T --entrypoint /.leastpriv/leastpriv \
                 -v /opt/leastpriv:/.leastpriv/leastpriv:ro web probe --format json"
            )
        );
        assert_eq!(
            run.build_argv().map(|argv| argv.join(" ")),
            Some(format!("{base} build --force-rm web"))
        );
        assert_eq!(
            run.down_argv().join(" "),
            format!("{base} down --volumes --remove-orphans --rmi local")
        );
        assert_eq!(
            run.image_names(),
            ["leastpriv-verify-1-2-web", "leastpriv-verify-1-2_web"]
        );

        let db = load(file.path(), Some("db")).expect("loads");
        assert_eq!(db.build_argv(), None);
        assert_eq!(db.image_names(), ["postgres:16"]);
    }

    #[test]
    fn picks_the_only_service_and_names_the_choices_otherwise() {
        let one = project("services:\n  web:\n    image: web:1\n");
        assert_eq!(load(one.path(), None).expect("loads").service, "web");

        let two = project("services:\n  web:\n    image: web:1\n  db:\n    image: db:1\n");
        let error = load(two.path(), None).expect_err("ambiguous").to_string();
        assert!(
            error.contains("2 services") && error.contains("web, db"),
            "{error}"
        );
        let error = load(two.path(), Some("cache"))
            .expect_err("absent")
            .to_string();
        assert!(error.contains("no service `cache`"), "{error}");
    }

    #[test]
    fn a_malformed_file_is_an_error_with_its_position() {
        let file = project("services:\n  web:\n    cap_drop: 12\n");
        let error = load(file.path(), Some("web"))
            .expect_err("malformed")
            .to_string();
        assert!(error.contains(":3:"), "{error}");
    }
}
