//! Questions about a Dockerfile build that several rules ask: which stages reach the image, which
//! user a `RUN` runs as, how to name a stage in a message.

use leastpriv_model::{Build, RunInstruction, Stage, StageBase, User};
use leastpriv_source::Spanned;

/// For each stage index, whether the stage reaches the image (the target and the stages it is
/// built `FROM`). Stages copied from with `COPY --from` do not: only the copied files do.
pub(crate) fn image_stage_mask(build: &Build) -> Vec<bool> {
    let mut mask = vec![false; build.stages.len()];
    for stage in build.image_stages() {
        if let Some(slot) = mask.get_mut(stage.index) {
            *slot = true;
        }
    }
    mask
}

/// The user an instruction at byte `offset` of `stage` runs as: the stage's last `USER` before it,
/// else the user the stage inherits from the stage it is built `FROM`. `None` when only the base
/// image decides (root unless the base image sets a user).
pub(crate) fn user_at<'a>(
    build: &'a Build,
    stage: &'a Stage,
    offset: u32,
) -> Option<&'a Spanned<User>> {
    if let Some(user) = stage
        .users
        .iter()
        .rev()
        .find(|user| user.span.range.start < offset)
    {
        return Some(user);
    }
    let mut current = stage;
    // Bounded by the number of stages: a stage can only be built from an earlier one.
    for _ in 0..build.stages.len() {
        let StageBase::Stage(parent) = current.base else {
            return None;
        };
        if parent >= current.index {
            return None;
        }
        current = build.stages.get(parent)?;
        if let Some(user) = current.users.last() {
            return Some(user);
        }
    }
    None
}

/// Every `RUN` of a stage, its `ONBUILD RUN`s included, each with the prefix a message writes before
/// `RUN` (`""` or `"ONBUILD "`).
pub(crate) fn runs_with_trigger(
    stage: &Stage,
) -> impl Iterator<Item = (&RunInstruction, &'static str)> {
    stage
        .runs
        .iter()
        .map(|run| (run, ""))
        .chain(stage.onbuild_runs.iter().map(|run| (run, "ONBUILD ")))
}

/// How a message names a stage: ``stage `build` `` or `stage 2` (1-based, as people count).
pub(crate) fn stage_label(stage: &Stage) -> String {
    match &stage.name {
        Some(name) => format!("stage `{}`", name.value),
        None => format!("stage {}", stage.index + 1),
    }
}

/// Whether the image only carries files: built `FROM scratch` with no `CMD` or `ENTRYPOINT` in any
/// of its stages, as an export stage for `docker build --output` is. Such an image runs nothing, so
/// rules about the process it runs have nothing to judge.
pub(crate) fn only_carries_files(build: &Build) -> bool {
    let stages: Vec<&Stage> = build.image_stages().collect();
    matches!(
        stages.last().map(|stage| &stage.base),
        Some(StageBase::Scratch)
    ) && stages.iter().all(|stage| stage.command.is_none())
}
