//! The `docker run` fixer: the remedies of a script's container commands, written as flags.
//!
//! Each container command (`docker run`, `docker create`, `podman run` …) is rewritten in place: the
//! flags harden adds go right after `docker run` (one per line when the command already continues
//! over lines with `\`), a flag it removes goes with its value and the blanks after it, and every
//! other byte of the script (quoting, continuation lines, the other commands) stays as written.
//!
//! - added: `--user 10001:10001`, `--cap-drop ALL` with `--cap-add` of what the workload needs (the
//!   profile's capabilities; else `NET_BIND_SERVICE` when a port below 1024 is published),
//!   `--security-opt no-new-privileges`, `--read-only` with `--tmpfs` for the paths written (the
//!   profile's; else `/tmp` and those of well-known images), `--security-opt seccomp=FILE` from a
//!   profile;
//! - replaced: `-u root`, `--read-only=false`, `no-new-privileges=false`, a literal secret `-e
//!   NAME=value` (by a secret file and `NAME_FILE` for images that read one, else by `-e NAME` taken
//!   from the caller's environment);
//! - removed: `seccomp=unconfined`, `apparmor=unconfined`, `label=disable`, `systempaths=unconfined`
//!   (confinement comes back); and only with `--remove-dangerous`, which changes behaviour on
//!   purpose: `--privileged`, engine-socket and sensitive host mounts, host devices, host namespaces
//!   and dangerous `--cap-add`s.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;

use leastpriv_frontend::docker_run::{command_layouts, CommandLayout, FlagLayout};
use leastpriv_model::{Capability, Certainty, Remedy, Runtime, SeccompProfile};
use leastpriv_rules::{Diagnostic, Layer};

use crate::dockerfile::{skip_blanks, without_no_ops, NON_ROOT_ID};
use crate::edit::Edit;
use crate::known_images::{self, SecretFiles};
use crate::plan::{Change, FilePlan, Fix, LeftReason};
use crate::profile::{needed_capabilities, profile_for, Profile};
use crate::{FixInput, Fixer};

/// The size of each tmpfs harden adds: enough for temporary files, small enough that a runaway
/// writer fills it rather than the host's memory.
const TMPFS_OPTIONS: &str = "rw,noexec,nosuid,size=64m";

/// Rules whose mount is removed with `--remove-dangerous`: a mount that hands over the host.
const DANGEROUS_MOUNT_RULES: &[&str] = &["engine-socket-mounted", "sensitive-host-path-mounted"];

/// The fixer of shell scripts' container commands.
pub struct DockerRunFixer;

impl Fixer for DockerRunFixer {
    fn plan(&self, input: &FixInput<'_>) -> FilePlan {
        let source = input.db.get(input.file);
        let text = source.text();
        let script_dir = Path::new(source.path())
            .parent()
            .unwrap_or(Path::new(""))
            .to_path_buf();
        let mut plan = FilePlan::default();
        let layouts = command_layouts(text);
        for subject in input.subjects {
            let container = subject.container;
            let Some(runtime) = &container.runtime else {
                continue;
            };
            let Some(layout) = layouts
                .iter()
                .find(|layout| layout.head == container.origin.range)
            else {
                continue;
            };
            let image = runtime.image.as_ref().map(|image| image.value.as_str());
            let profile = profile_for(&input.options.profiles, container, image);
            let findings: Vec<&Diagnostic> = subject
                .findings
                .iter()
                .filter(|finding| finding.span.file == input.file)
                .collect();
            let command = Command {
                text,
                runtime,
                layout,
                remove_dangerous: input.options.remove_dangerous,
                secret_files: &input.options.secret_files,
                profile,
                seccomp_file: profile
                    .filter(|_| input.profile_seccomp)
                    .and_then(|profile| profile.seccomp_file_from(&script_dir)),
                name: &container.name,
            };
            command.plan(&findings, &mut plan);
        }
        plan
    }
}

/// One container command being hardened.
struct Command<'a> {
    text: &'a str,
    runtime: &'a Runtime,
    layout: &'a CommandLayout,
    remove_dangerous: bool,
    /// The `NAME_FILE` conventions the user declared.
    secret_files: &'a SecretFiles,
    /// The profile recorded for this container, if one was given.
    profile: Option<&'a Profile>,
    /// Its seccomp profile file, as a path from the script's directory.
    seccomp_file: Option<String>,
    name: &'a str,
}

/// Flags to add after `docker run`: one insertion, one change per setting.
#[derive(Default)]
struct Additions<'a> {
    settings: Vec<Setting<'a>>,
}

/// One setting the added flags make, and the findings that ask for it.
struct Setting<'a> {
    flags: Vec<String>,
    findings: Vec<&'a Diagnostic>,
    layer: Layer,
    summary: String,
    may_break: String,
}

impl<'a> Additions<'a> {
    fn add(
        &mut self,
        flags: impl IntoIterator<Item = String>,
        findings: &[&'a Diagnostic],
        layer: Layer,
        summary: String,
        may_break: String,
    ) {
        self.settings.push(Setting {
            flags: flags.into_iter().collect(),
            findings: findings.to_vec(),
            layer,
            summary,
            may_break,
        });
    }

    /// Another finding that the setting of `layer` already answers.
    fn also(&mut self, finding: &'a Diagnostic, layer: Layer) {
        if let Some(setting) = self
            .settings
            .iter_mut()
            .find(|setting| setting.layer == layer)
        {
            setting.findings.push(finding);
        }
    }
}

impl<'a> Command<'a> {
    fn plan(&self, findings: &[&'a Diagnostic], plan: &mut FilePlan) {
        let mut additions = Additions::default();
        let mut fixes = Vec::new();
        let mut cap_added = false;
        // The profile's seccomp filter: what the recorded runs needed is all the profile asks for,
        // and a command that sets no seccomp profile runs Docker's broader default.
        if let Some(file) = self.seccomp_file.as_deref() {
            if self.runtime.seccomp.is_none() {
                additions.add(
                    [format!("--security-opt seccomp={}", shell_word(file))],
                    &[],
                    Layer::Confinement,
                    format!("added `--security-opt seccomp={file}` (the profile's)"),
                    "only the syscalls the profile recorded are allowed: a code path not exercised while profiling fails with EPERM".to_owned(),
                );
            }
        }
        for &finding in findings {
            let result = match &finding.remedy {
                Some(Remedy::SetNonRootUser) => self.user(finding, &mut additions),
                Some(Remedy::DropAllCapabilities) if !cap_added => {
                    cap_added = true;
                    self.drop_capabilities(finding, &mut additions)
                }
                Some(Remedy::DropAllCapabilities) => {
                    additions.also(finding, Layer::Capabilities);
                    Ok(None)
                }
                Some(Remedy::SetNoNewPrivileges) => self.no_new_privileges(finding, &mut additions),
                Some(Remedy::SetReadOnlyRoot) => self.read_only(finding, &mut additions),
                Some(Remedy::RestoreConfinement(_)) => self.confinement(finding, &mut additions),
                Some(Remedy::RemovePrivileged) => self.remove_privileged(finding),
                Some(Remedy::RemoveAddedCapability(capability)) => {
                    self.remove_capability(finding, capability)
                }
                Some(Remedy::RemoveMount { .. }) => self.remove_mount(finding),
                Some(Remedy::UsePrivateNamespace(_)) => self.private_namespace(finding),
                Some(Remedy::MoveToSecret { name }) => self.move_to_secret(finding, name),
                Some(Remedy::RemoveInstruction) | None => Err((
                    LeftReason::NotExpressible,
                    "a `docker run` flag cannot express it: change the image or the engine"
                        .to_owned(),
                )),
            };
            match result {
                Ok(Some(fix)) => fixes.push(fix),
                Ok(None) => {}
                Err((reason, detail)) => plan.leave(self.name, finding, reason, detail),
            }
        }
        if !additions.settings.is_empty() {
            fixes.push(self.insertion(additions));
        }
        let fixes = without_no_ops(self.text, fixes, plan);
        plan.fixes.extend(fixes);
    }

    fn fix(
        &self,
        findings: &[&Diagnostic],
        layer: Layer,
        summary: String,
        edits: Vec<Edit>,
    ) -> Fix {
        let mut rules: Vec<&'static str> = findings.iter().map(|f| f.rule.code).collect();
        rules.sort_unstable();
        rules.dedup();
        Fix {
            changes: vec![Change {
                container: self.name.to_owned(),
                rules,
                layer,
                summary,
                may_break: None,
                follow_up: None,
            }],
            edits,
        }
    }

    /// The flags added after `docker run`, as one insertion: on the head's line, or one per line when
    /// the command already continues over lines.
    fn insertion(&self, mut additions: Additions<'_>) -> Fix {
        // The profile's seccomp file last: it reads as what is added on top of the defaults.
        additions
            .settings
            .sort_by_key(|setting| setting.layer == Layer::Confinement);
        let flags: Vec<&String> = additions
            .settings
            .iter()
            .flat_map(|setting| &setting.flags)
            .collect();
        let head_end = self.layout.head.end as usize;
        let rest = &self.text[head_end..];
        let line_rest = rest.trim_start_matches([' ', '\t']);
        let continued = line_rest.starts_with("\\\n") || line_rest.starts_with("\\\r\n");
        let text = if continued {
            let newline = if line_rest.starts_with("\\\r\n") {
                "\r\n"
            } else {
                "\n"
            };
            let next_line = &line_rest[1 + newline.len()..];
            let indent =
                &next_line[..next_line.len() - next_line.trim_start_matches([' ', '\t']).len()];
            flags
                .iter()
                .map(|flag| format!(" \\{newline}{indent}{flag}"))
                .collect::<String>()
        } else {
            flags
                .iter()
                .map(|flag| format!(" {flag}"))
                .collect::<String>()
        };
        let changes = additions
            .settings
            .into_iter()
            .map(|setting| {
                let mut rules: Vec<&'static str> =
                    setting.findings.iter().map(|f| f.rule.code).collect();
                rules.sort_unstable();
                rules.dedup();
                Change {
                    container: self.name.to_owned(),
                    rules,
                    layer: setting.layer,
                    summary: setting.summary,
                    may_break: Some(setting.may_break),
                    follow_up: None,
                }
            })
            .collect();
        Fix {
            changes,
            edits: vec![Edit::insert(head_end, text)],
        }
    }

    /// The flags named `name`.
    fn flags(&self, name: &str) -> impl Iterator<Item = &'a FlagLayout> + use<'a, '_> {
        let name = name.to_owned();
        self.layout
            .flags
            .iter()
            .filter(move |flag| flag.name == name)
    }

    /// The flag whose value is written at the finding's span.
    fn flag_at(&self, finding: &Diagnostic) -> Option<&'a FlagLayout> {
        let at = finding.span.range;
        self.layout.flags.iter().find(|flag| {
            flag.value_range
                .is_some_and(|value| value.start <= at.start && at.end <= value.end)
                || flag
                    .words
                    .is_some_and(|words| words.start <= at.start && at.end <= words.end)
        })
    }

    /// What deleting a flag removes: its words and the blanks (and line continuation) after them.
    fn deletion(&self, flag: &FlagLayout) -> Result<Range<usize>, Refusal> {
        let words = flag.words.ok_or_else(|| {
            (
                LeftReason::UnusualSyntax,
                "the flag shares its word with other flags (`-itv …`): split them to let harden remove it".to_owned(),
            )
        })?;
        Ok(words.start as usize..skip_blanks(self.text, words.end as usize, '\\'))
    }

    fn user(&self, finding: &'a Diagnostic, additions: &mut Additions<'a>) -> Outcome {
        // The user a known image is built to run as (its data directories belong to it), else a
        // high uid no distribution uses.
        let ids = self
            .runtime
            .image
            .as_ref()
            .and_then(|image| known_images::user(&image.value))
            .map_or_else(|| format!("{NON_ROOT_ID}:{NON_ROOT_ID}"), str::to_owned);
        let may_break = format!(
            "the process runs as `{ids}`: it can no longer write files owned by root in the image or in mounts"
        );
        match &self.runtime.user {
            Some(user) if user.value.is_root() == Certainty::Yes && !user.value.unresolved => {
                let mut fix = self.fix(
                    &[finding],
                    Layer::User,
                    format!("`--user {}` became `--user {ids}`", user.value),
                    vec![Edit::replace(user.span.range.to_range(), ids)],
                );
                change_of(&mut fix).may_break = Some(may_break);
                Ok(Some(fix))
            }
            Some(user) => Err((
                LeftReason::UnusualSyntax,
                format!(
                    "the user `{}` is not a numeric non-root uid harden can check: write `--user <uid>:<gid>`",
                    user.value
                ),
            )),
            None => {
                additions.add(
                    [format!("--user {ids}")],
                    &[finding],
                    Layer::User,
                    format!("added `--user {ids}`"),
                    may_break,
                );
                Ok(None)
            }
        }
    }

    fn drop_capabilities(&self, finding: &'a Diagnostic, additions: &mut Additions<'a>) -> Outcome {
        let needed: BTreeSet<String> = needed_capabilities(self.profile, Some(self.runtime))
            .0
            .into_iter()
            .collect();
        let added: BTreeSet<String> = self
            .runtime
            .cap_add
            .iter()
            .map(|capability| capability.value.to_string())
            .collect();
        let mut flags = vec!["--cap-drop ALL".to_owned()];
        let mut summary = "added `--cap-drop ALL`".to_owned();
        for capability in needed.difference(&added) {
            flags.push(format!("--cap-add {capability}"));
            summary.push_str(&format!(" + `--cap-add {capability}`"));
        }
        let may_break = match self.profile {
            Some(profile) => format!("only the capabilities {} recorded remain", profile.path.display()),
            None => "a process that changes owners, binds ports below 1024 or changes user (an entrypoint that drops root itself) needs its capability back with `--cap-add`".to_owned(),
        };
        additions.add(flags, &[finding], Layer::Capabilities, summary, may_break);
        Ok(None)
    }

    fn no_new_privileges(&self, finding: &'a Diagnostic, additions: &mut Additions<'a>) -> Outcome {
        if let Some(setting) = &self.runtime.no_new_privileges {
            return Ok(Some(self.fix(
                &[finding],
                Layer::Filesystem,
                "`no-new-privileges=false` became `no-new-privileges`".to_owned(),
                vec![Edit::replace(
                    setting.span.range.to_range(),
                    "no-new-privileges",
                )],
            )));
        }
        additions.add(
            ["--security-opt no-new-privileges".to_owned()],
            &[finding],
            Layer::Filesystem,
            "added `--security-opt no-new-privileges`".to_owned(),
            "setuid programs (sudo, su, ping on old images) no longer gain privileges".to_owned(),
        );
        Ok(None)
    }

    fn read_only(&self, finding: &'a Diagnostic, additions: &mut Additions<'a>) -> Outcome {
        let mut paths: BTreeSet<String> = BTreeSet::new();
        match self
            .profile
            .filter(|profile| profile.observed("written_paths"))
        {
            Some(profile) => {
                paths.insert("/tmp".to_owned());
                paths.extend(tmpfs_directories(&profile.profile.written_paths));
            }
            None => {
                paths.insert("/tmp".to_owned());
                if let Some(image) = &self.runtime.image {
                    let written = known_images::written_paths(&image.value);
                    paths.extend(written.iter().map(|path| (*path).to_owned()));
                }
            }
        }
        let mut paths = outermost(paths);
        for tmpfs in &self.runtime.tmpfs {
            paths.remove(tmpfs.value.target.as_str());
        }
        for mount in &self.runtime.mounts {
            paths.remove(mount.value.target.as_str());
        }
        let tmpfs: Vec<String> = paths
            .iter()
            .map(|path| format!("--tmpfs {path}:{TMPFS_OPTIONS}"))
            .collect();
        let may_break = format!(
            "the container must not write outside {}",
            if paths.is_empty() {
                "its volumes".to_owned()
            } else {
                paths.iter().cloned().collect::<Vec<_>>().join(", ")
            }
        );
        let tmpfs_summary: String = tmpfs.iter().map(|flag| format!(" + `{flag}`")).collect();
        match &self.runtime.read_only_root {
            Some(setting) => {
                if !tmpfs.is_empty() {
                    additions.add(
                        tmpfs,
                        &[finding],
                        Layer::Filesystem,
                        format!("added{}", tmpfs_summary.trim_start_matches(" +")),
                        "the paths the container writes are in memory and lost when it stops"
                            .to_owned(),
                    );
                }
                let mut fix = self.fix(
                    &[finding],
                    Layer::Filesystem,
                    "`--read-only=false` became `--read-only`".to_owned(),
                    vec![Edit::replace(setting.span.range.to_range(), "--read-only")],
                );
                change_of(&mut fix).may_break = Some(may_break);
                Ok(Some(fix))
            }
            None => {
                let flags = std::iter::once("--read-only".to_owned()).chain(tmpfs);
                additions.add(
                    flags,
                    &[finding],
                    Layer::Filesystem,
                    format!("added `--read-only`{tmpfs_summary}"),
                    may_break,
                );
                Ok(None)
            }
        }
    }

    fn confinement(&self, finding: &'a Diagnostic, additions: &mut Additions<'a>) -> Outcome {
        let seccomp = self.seccomp_file.as_deref();
        let flag = self
            .flag_at(finding)
            .filter(|flag| flag.name == "security-opt");
        if let Some(privileged) = self
            .flag_at(finding)
            .filter(|flag| flag.name == "privileged")
        {
            let written = privileged
                .words
                .map_or("--privileged", |words| &self.text[words.to_range()]);
            return Err((
                LeftReason::NeedsRemoveDangerous,
                format!("the confinement comes back when `{written}` goes"),
            ));
        }
        let Some(flag) = flag else {
            // Nothing written to undo: the profile's seccomp file, added above, answers it.
            if self.seccomp_file.is_some() && self.runtime.seccomp.is_none() {
                additions.also(finding, Layer::Confinement);
                return Ok(None);
            }
            return Err((
                LeftReason::NotExpressible,
                "no profile to apply: record one with `leastpriv profile` and harden with `--profile`".to_owned(),
            ));
        };
        let value = flag.value.clone().unwrap_or_default();
        let is_seccomp = matches!(
            self.runtime.seccomp.as_ref().map(|setting| &setting.value),
            Some(SeccompProfile::Unconfined | SeccompProfile::File(_))
        ) && value.starts_with("seccomp");
        match (is_seccomp, seccomp, flag.value_range) {
            (true, Some(file), Some(range)) => Ok(Some(self.fix(
                &[finding],
                Layer::Confinement,
                format!("`--security-opt {value}` became `seccomp={file}` from the profile"),
                vec![Edit::replace(range.to_range(), format!("seccomp={}", shell_word(file)))],
            ))),
            _ if value.contains("unconfined") || value.contains("disable") => {
                let deletion = self.deletion(flag)?;
                Ok(Some(self.fix(
                    &[finding],
                    Layer::Confinement,
                    format!("removed `--security-opt {value}`: the engine's default confinement applies"),
                    vec![Edit::delete(deletion)],
                )))
            }
            _ => Err((
                LeftReason::NotExpressible,
                format!("`{value}` is a custom profile: tighten it, or harden with `--profile` to replace it"),
            )),
        }
    }

    fn dangerous(&self, what: &str) -> Result<(), Refusal> {
        if self.remove_dangerous {
            Ok(())
        } else {
            Err((
                LeftReason::NeedsRemoveDangerous,
                format!(
                    "{what} is there on purpose: removing it changes what the container can do"
                ),
            ))
        }
    }

    fn remove_privileged(&self, finding: &Diagnostic) -> Outcome {
        self.dangerous("`--privileged`")?;
        let flag = self.flags("privileged").next().ok_or_else(|| {
            (
                LeftReason::UnusualSyntax,
                "`--privileged` is not written as a flag harden can edit".to_owned(),
            )
        })?;
        let mut fix = self.fix(
            &[finding],
            Layer::Escape,
            "removed `--privileged`".to_owned(),
            vec![Edit::delete(self.deletion(flag)?)],
        );
        change_of(&mut fix).may_break = Some(
            "privileged: the container no longer sees host devices or holds every capability"
                .to_owned(),
        );
        Ok(Some(fix))
    }

    fn remove_capability(&self, finding: &Diagnostic, capability: &Capability) -> Outcome {
        let needed = self.profile.is_some_and(|profile| {
            profile.profile.capabilities.iter().any(|name| {
                name.trim_start_matches("CAP_")
                    .eq_ignore_ascii_case(&capability.to_string())
            })
        });
        if needed {
            return Err((
                LeftReason::NeedsRemoveDangerous,
                format!("the profile records that the workload needs {capability}"),
            ));
        }
        self.dangerous(&format!("`--cap-add {capability}`"))?;
        let flag = self
            .flag_at(finding)
            .filter(|flag| flag.name == "cap-add")
            .ok_or_else(|| {
                (
                    LeftReason::UnusualSyntax,
                    "the capability is not written in a `--cap-add` harden can edit".to_owned(),
                )
            })?;
        let value = flag.value.as_deref().unwrap_or_default();
        let entries = value
            .split(',')
            .filter(|entry| !entry.trim().is_empty())
            .count();
        let deletion = if entries <= 1 {
            self.deletion(flag)?
        } else {
            // One entry of `--cap-add A,B`: it and the comma after it (or before it, when last).
            let at = finding.span.range.to_range();
            if self.text[at.end..].starts_with(',') {
                at.start..at.end + 1
            } else if self.text[..at.start].ends_with(',') {
                at.start - 1..at.end
            } else {
                return Err((
                    LeftReason::UnusualSyntax,
                    "the capability list is written in a form harden does not edit".to_owned(),
                ));
            }
        };
        let mut fix = self.fix(
            &[finding],
            Layer::Capabilities,
            format!("removed `--cap-add {capability}`"),
            vec![Edit::delete(deletion)],
        );
        change_of(&mut fix).may_break = Some(format!(
            "capabilities: whatever needed {capability} fails with EPERM"
        ));
        Ok(Some(fix))
    }

    fn remove_mount(&self, finding: &Diagnostic) -> Outcome {
        let rule = finding.rule.meta.name;
        let flag = self.flag_at(finding).ok_or_else(|| {
            (
                LeftReason::UnusualSyntax,
                "the mount is not written as a flag harden can edit".to_owned(),
            )
        })?;
        if !DANGEROUS_MOUNT_RULES.contains(&rule) && flag.name != "device" {
            return Err((
                LeftReason::NotExpressible,
                "the host directory is the workload's data: replace it with a named volume, or mount it read-only, by hand".to_owned(),
            ));
        }
        let written = self.text[flag.words.map_or(0..0, |words| words.to_range())].to_owned();
        self.dangerous(&format!("`{written}`"))?;
        let mut fix = self.fix(
            &[finding],
            Layer::Escape,
            format!("removed `{written}`"),
            vec![Edit::delete(self.deletion(flag)?)],
        );
        let target = match &finding.remedy {
            Some(Remedy::RemoveMount { target }) => target.as_str(),
            _ => flag.value.as_deref().unwrap_or_default(),
        };
        change_of(&mut fix).may_break = Some(format!(
            "the container no longer finds the host's mount at `{target}`"
        ));
        Ok(Some(fix))
    }

    fn private_namespace(&self, finding: &Diagnostic) -> Outcome {
        let flag = self.flag_at(finding).ok_or_else(|| {
            (
                LeftReason::UnusualSyntax,
                "the namespace is not written as a flag harden can edit".to_owned(),
            )
        })?;
        let written = self.text[flag.words.map_or(0..0, |words| words.to_range())].to_owned();
        self.dangerous(&format!("`{written}`"))?;
        let mut fix = self.fix(
            &[finding],
            Layer::Escape,
            format!(
                "removed `{written}`: the container gets its own {} namespace",
                flag.name
            ),
            vec![Edit::delete(self.deletion(flag)?)],
        );
        change_of(&mut fix).may_break = Some(match flag.name {
            "network" => "network: the container no longer shares the host's network; publish its ports with `-p`".to_owned(),
            name => format!("{name}: the container no longer sees the host's {name} namespace"),
        });
        Ok(Some(fix))
    }

    fn move_to_secret(&self, finding: &Diagnostic, name: &str) -> Outcome {
        let flag = self
            .flag_at(finding)
            .filter(|flag| flag.name == "env")
            .ok_or_else(|| {
                (
                    LeftReason::NotExpressible,
                    "the secret is not a `-e NAME=value` of this command".to_owned(),
                )
            })?;
        let words = flag.words.ok_or_else(|| {
            (
                LeftReason::UnusualSyntax,
                "the `-e` flag shares its word with other flags".to_owned(),
            )
        })?;
        let id = name.to_ascii_lowercase();
        let image = self
            .runtime
            .image
            .as_ref()
            .map(|image| image.value.as_str())
            .unwrap_or_default();
        // `-e NAME` passes the caller's value through: only a file the image reads moves it out of
        // the environment.
        let literal = flag
            .value
            .as_deref()
            .is_some_and(|value| value.contains('='));
        let written = if literal {
            format!("-e {name}=…")
        } else {
            format!("-e {name}")
        };
        let file_variable = self.secret_files.file_variable(None, image, name);
        if !literal && file_variable.is_none() {
            return Err((
                LeftReason::NoFileConvention,
                format!("the image has no known `{name}_FILE` convention: make the program read the secret from a file under /run/secrets, mount it there and declare it in leastpriv.toml (`[harden.secret-files]`)"),
            ));
        }
        let mut fix = if let Some(variable) = file_variable {
            let replacement = format!(
                "--mount type=bind,src=\"$PWD/secrets/{id}\",dst=/run/secrets/{id},readonly -e {variable}=/run/secrets/{id}"
            );
            let mut fix = self.fix(
                &[finding],
                Layer::Secrets,
                format!("`{written}` became the secret file `/run/secrets/{id}` read through `{variable}`"),
                vec![Edit::replace(words.to_range(), replacement)],
            );
            let rotate = if literal {
                ", and rotate the value that was committed"
            } else {
                ""
            };
            change_of(&mut fix).follow_up = Some(format!(
                "put the value in `secrets/{id}` in the directory the script runs from (readable by the container's user, never committed){rotate}"
            ));
            change_of(&mut fix).may_break = Some(format!(
                "the container does not start until `secrets/{id}` exists"
            ));
            fix
        } else {
            let mut fix = self.fix(
                &[finding],
                Layer::Secrets,
                format!("`-e {name}=…` became `-e {name}`: the value comes from the caller's environment"),
                vec![Edit::replace(words.to_range(), format!("-e {name}"))],
            );
            change_of(&mut fix).follow_up = Some(format!(
                "export `{name}` before running the script (from a secret manager, never a committed file), rotate the value that was committed, and better, make the program read it from a file under /run/secrets"
            ));
            fix
        };
        if change_of(&mut fix).may_break.is_none() {
            change_of(&mut fix).may_break = Some(format!(
                "`{name}` must now be exported when the script runs"
            ));
        }
        Ok(Some(fix))
    }
}

/// The change a fix of this module makes (each makes one).
fn change_of(fix: &mut Fix) -> &mut Change {
    &mut fix.changes[0]
}

/// Why a remedy was not applied.
type Refusal = (LeftReason, String);

/// A fix made alone, none (the remedy joined the flags added after `docker run`), or why not.
type Outcome = Result<Option<Fix>, Refusal>;

/// The directories to mount a tmpfs on for the paths a profile saw written: each path's directory,
/// those inside another one dropped.
pub fn tmpfs_directories(written: &[String]) -> Vec<String> {
    let directories: Vec<String> = written
        .iter()
        .filter(|path| path.starts_with('/'))
        .map(|path| match path.rsplit_once('/') {
            Some(("", _)) | None => "/".to_owned(),
            Some((parent, _)) => parent.to_owned(),
        })
        .filter(|directory| directory != "/")
        .collect();
    outermost(directories).into_iter().collect()
}

/// The paths not inside another one of them (a tmpfs on `/tmp` covers `/tmp/cache`).
fn outermost(paths: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    let sorted: BTreeSet<String> = paths.into_iter().collect();
    let mut kept: BTreeSet<String> = BTreeSet::new();
    for path in sorted {
        if !kept
            .iter()
            .any(|outer| path.starts_with(&format!("{outer}/")))
        {
            kept.insert(path);
        }
    }
    kept
}

/// `text` as one shell word: as is when it needs no quoting, else in single quotes.
fn shell_word(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@%".contains(&b))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_frontend::InputKind;
    use leastpriv_rules::Severity;

    use super::*;
    use crate::dockerfile::testing::{findings, harden};
    use crate::{FixOptions, Hardened, LeftReason};

    fn hardened(script: &str, remove_dangerous: bool) -> Hardened {
        let options = FixOptions {
            remove_dangerous,
            ..FixOptions::default()
        };
        harden(
            "run.sh",
            script,
            InputKind::ShellScript,
            &DockerRunFixer,
            &options,
        )
    }

    fn medium_or_above(script: &str) -> Vec<String> {
        findings("run.sh", script, InputKind::ShellScript, Severity::Medium)
    }

    #[test]
    fn adds_the_missing_flags_on_the_head_line() {
        let script = "#!/bin/sh\nset -e\ndocker run -d --name web -p 8080:8080 example/web:1 serve # start\necho started\n";
        let result = hardened(script, false);
        assert_eq!(
            result.text,
            "#!/bin/sh\nset -e\ndocker run --user 10001:10001 --cap-drop ALL --security-opt no-new-privileges --read-only --tmpfs /tmp:rw,noexec,nosuid,size=64m -d --name web -p 8080:8080 example/web:1 serve # start\necho started\n"
        );
        assert!(
            medium_or_above(&result.text).is_empty(),
            "{:?}",
            medium_or_above(&result.text)
        );
    }

    #[test]
    fn keeps_continuation_lines_and_their_indentation() {
        let script = "docker run \\\n    --name 'my web' \\\n    -p 80:80 \\\n    nginx:1.25\n";
        let result = hardened(script, false);
        assert_eq!(
            result.text,
            "docker run \\\n    --user 10001:10001 \\\n    --cap-drop ALL \\\n    --cap-add NET_BIND_SERVICE \\\n    --security-opt no-new-privileges \\\n    --read-only \\\n    --tmpfs /tmp:rw,noexec,nosuid,size=64m \\\n    --tmpfs /var/cache/nginx:rw,noexec,nosuid,size=64m \\\n    --tmpfs /var/run:rw,noexec,nosuid,size=64m \\\n    --name 'my web' \\\n    -p 80:80 \\\n    nginx:1.25\n"
        );
    }

    #[test]
    fn dangerous_flags_are_left_unless_asked() {
        let script = "docker run --privileged -v /var/run/docker.sock:/var/run/docker.sock --pid=host \\\n  --security-opt seccomp=unconfined -u root alpine:3 sh\n";
        let kept = hardened(script, false);
        let reasons: Vec<_> = kept.left.iter().map(|left| left.reason).collect();
        assert!(
            reasons.contains(&LeftReason::NeedsRemoveDangerous),
            "{reasons:?}"
        );
        assert!(kept.text.contains("--privileged -v /var/run/docker.sock"));
        assert!(
            !kept.text.contains("seccomp=unconfined"),
            "confinement is restored by default"
        );
        assert!(
            kept.text.contains("-u 10001:10001 alpine:3 sh"),
            "{}",
            kept.text
        );

        let removed = hardened(script, true);
        assert_eq!(
            removed.text,
            "docker run --cap-drop ALL --security-opt no-new-privileges --read-only --tmpfs /tmp:rw,noexec,nosuid,size=64m -u 10001:10001 alpine:3 sh\n"
        );
        assert!(
            medium_or_above(&removed.text).is_empty(),
            "{:?}",
            medium_or_above(&removed.text)
        );
    }

    #[test]
    fn literal_secrets_leave_the_script() {
        let script = "docker run -e POSTGRES_PASSWORD=Sup3r-s3cret-Passw0rd -e \"API_TOKEN=tok_abcdef0123456789abcdef\" postgres:16\n";
        let result = hardened(script, false);
        assert!(!result.text.contains("Sup3r"), "{}", result.text);
        assert!(!result.text.contains("tok_abcdef"), "{}", result.text);
        assert!(result.text.contains(
            "--mount type=bind,src=\"$PWD/secrets/postgres_password\",dst=/run/secrets/postgres_password,readonly -e POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password"
        ), "{}", result.text);
        for change in &result.changes {
            let shown = format!("{change:?}");
            assert!(
                !shown.contains("Sup3r") && !shown.contains("tok_abcdef"),
                "{shown}"
            );
        }
    }

    #[test]
    fn a_profile_decides_capabilities_tmpfs_and_seccomp() {
        let profile = crate::Profile {
            path: "profiles/web.profile.json".into(),
            profile: leastpriv_model::WorkloadProfile {
                capabilities: vec!["CAP_NET_BIND_SERVICE".to_owned()],
                written_paths: vec!["/var/cache/web/index".to_owned(), "/tmp/x/y".to_owned()],
                seccomp_profile: Some("web.seccomp.json".to_owned()),
                run: leastpriv_model::ProfileRun {
                    image: Some("example/web:1".to_owned()),
                    ..Default::default()
                },
                ..Default::default()
            },
        };
        let options = FixOptions {
            profiles: vec![profile],
            ..FixOptions::default()
        };
        let script = "docker run -d example/web:1\ndocker run -d other:1\n";
        let result = harden(
            "scripts/run.sh",
            script,
            InputKind::ShellScript,
            &DockerRunFixer,
            &options,
        );
        let lines: Vec<&str> = result.text.lines().collect();
        assert_eq!(
            lines[0],
            "docker run --user 10001:10001 --cap-drop ALL --cap-add NET_BIND_SERVICE --security-opt no-new-privileges --read-only --tmpfs /tmp:rw,noexec,nosuid,size=64m --tmpfs /var/cache/web:rw,noexec,nosuid,size=64m --security-opt seccomp=../profiles/web.seccomp.json -d example/web:1"
        );
        assert!(
            !lines[1].contains("seccomp") && !lines[1].contains("--cap-add"),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn a_secret_passed_through_moves_to_a_file_only_where_the_image_reads_one() {
        let script = "docker run -e POSTGRES_PASSWORD -e API_TOKEN=tok_abcdef0123456789abcdef example/app:1\ndocker run -e POSTGRES_PASSWORD postgres:16\n";
        let result = hardened(script, false);
        let lines: Vec<&str> = result.text.lines().collect();
        assert!(
            lines[0].ends_with(" -e POSTGRES_PASSWORD -e API_TOKEN example/app:1"),
            "{}",
            lines[0]
        );
        assert!(lines[1].ends_with(" --mount type=bind,src=\"$PWD/secrets/postgres_password\",dst=/run/secrets/postgres_password,readonly -e POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password postgres:16"), "{}", lines[1]);
        let left: Vec<_> = result
            .left
            .iter()
            .map(|left| (left.rule, left.reason))
            .collect();
        assert_eq!(
            left,
            [
                ("LP620", LeftReason::NoFileConvention),
                ("LP620", LeftReason::NoFileConvention)
            ]
        );
    }

    #[test]
    fn unusual_command_lines_are_hardened_or_left_never_broken() {
        for script in [
            "docker run $DOCKER_OPTS --rm img\n",
            "docker run -itv /var/run/docker.sock:/s --privileged=true img\n",
            "id=$(docker run -d --cap-add=ALL,SYS_ADMIN --cap-add NET_ADMIN img)\n",
            "sudo podman container create --net=host --ipc host -u 0:0 img\r\nexit 0\r\n",
            "docker run --help\ndocker run --read-only=false --security-opt=no-new-privileges=false -e PASSWORD img\n",
            "docker run \\\n\t--security-opt apparmor=unconfined \\\n\t--security-opt label=disable img &\nwait\n",
        ] {
            for dangerous in [false, true] {
                let result = hardened(script, dangerous);
                assert!(result.text.ends_with('\n'), "{}", result.text);
            }
        }
        let removed = hardened(
            "id=$(docker run -d --cap-add=ALL,SYS_ADMIN --cap-add NET_ADMIN img)\n",
            true,
        );
        assert!(!removed.text.contains("--cap-add"), "{}", removed.text);
    }

    #[test]
    fn tmpfs_directories_collapse() {
        let written = [
            "/tmp/a".to_owned(),
            "/tmp/b/c".to_owned(),
            "/var/cache/nginx/x".to_owned(),
            "/data".to_owned(),
        ];
        assert_eq!(tmpfs_directories(&written), ["/tmp", "/var/cache/nginx"]);
    }
}
