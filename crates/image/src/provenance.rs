//! Which Dockerfile line created each layer, when the image was built from a Dockerfile in the
//! audited tree.
//!
//! An image does not say which Dockerfile built it, but its `history` does say what each layer's
//! instruction was: the builder records a `RUN`'s script after its shell (`/bin/sh -c …`, or the
//! `SHELL` set; with `|N NAME=value …` before it when build arguments were in scope) and a `COPY` or
//! `ADD`'s destination as written (`#(nop) COPY file:… in /app` for the classic builder, `COPY src
//! /app # buildkit` for BuildKit). A Dockerfile whose layer-creating instructions (`RUN`, `COPY`,
//! `ADD`, through the stages its target is built `FROM`) match the image's newest history entries one
//! for one, in order, built them; the layers below are the base image's. An instruction whose layer
//! came out empty (a `COPY` of files an earlier layer holds unchanged) still has its entry. Instructions that create no layer
//! (`ENV`, `WORKDIR` …) are not compared: builders differ on whether they record them as layers.
//!
//! A match needs every layer-creating instruction of the Dockerfile, so an image built from an older
//! version of the file, or from a different one, is linked to nothing rather than to the wrong line.
//! When several Dockerfiles match alike (copies of one file), the one whose lines they agree on wins;
//! otherwise nothing is linked.

use leastpriv_model::{Build, ImageFacts, RunInstruction, StageBase};
use leastpriv_source::Span;

/// One layer-creating Dockerfile instruction, as its history entry will show it.
#[derive(Debug, PartialEq, Eq)]
enum Instruction {
    /// A `RUN`'s script, whitespace collapsed.
    Run(String),
    /// A `COPY` or `ADD`'s destination as written, without a trailing `/`.
    Copy { add: bool, destination: String },
}

/// Links the layers of `image` to the instructions of the best-matching build among `builds`: sets
/// [`ImageLayer::instruction`](leastpriv_model::ImageLayer::instruction) for each layer a Dockerfile
/// line created. Returns whether a Dockerfile matched.
pub fn link_layers<'a>(
    image: &mut ImageFacts,
    builds: impl IntoIterator<Item = &'a Build>,
) -> bool {
    let mut best: Option<Vec<(usize, Span)>> = None;
    let mut ambiguous = false;
    for build in builds {
        let Some(links) = match_build(image, build) else {
            continue;
        };
        match &best {
            Some(current) if links.len() < current.len() => {}
            Some(current) if links.len() == current.len() => ambiguous |= *current != links,
            _ => {
                ambiguous = false;
                best = Some(links);
            }
        }
    }
    match best {
        Some(links) if !ambiguous => {
            for (layer, span) in links {
                if let Some(layer) = image.layers.get_mut(layer) {
                    layer.instruction = Some(span);
                }
            }
            true
        }
        _ => false,
    }
}

/// The layer-creating instructions of the build's target stage and the stages it is built `FROM`,
/// oldest first, with their spans.
fn instructions(build: &Build) -> Vec<(Instruction, Span)> {
    let mut chain = Vec::new();
    let mut index = Some(build.target);
    // A stage can only be built FROM an earlier one, so the walk ends; the bound is for malformed
    // models.
    while let Some(stage) = index.and_then(|index| build.stages.get(index)) {
        chain.push(stage);
        index = match stage.base {
            StageBase::Stage(base) if base < stage.index && chain.len() <= build.stages.len() => {
                Some(base)
            }
            _ => None,
        };
    }
    let mut instructions = Vec::new();
    for stage in chain.into_iter().rev() {
        let mut of_stage: Vec<(Instruction, Span)> = stage
            .runs
            .iter()
            .map(|run| (Instruction::Run(recorded_script(run)), run.span))
            .chain(stage.copies.iter().map(|copy| {
                let destination = copy.destination.value.trim_end_matches('/');
                let destination = if destination.is_empty() {
                    "/"
                } else {
                    destination
                };
                (
                    Instruction::Copy {
                        add: copy.is_add,
                        destination: destination.to_owned(),
                    },
                    copy.span,
                )
            }))
            .collect();
        of_stage.sort_by_key(|(_, span)| span.range.start);
        instructions.extend(of_stage);
    }
    instructions
}

/// `(layer index, instruction span)` for every layer `build` created, when all its layer-creating
/// instructions match the image's newest history entries in order.
fn match_build(image: &ImageFacts, build: &Build) -> Option<Vec<(usize, Span)>> {
    let wanted = instructions(build);
    if wanted.is_empty() {
        return None;
    }
    // Every history entry, newest first, with what it records: a `COPY` of files an earlier layer
    // already holds unchanged commits an empty layer, but is still the instruction's entry.
    let mut entries = image
        .history
        .iter()
        .rev()
        .map(|entry| (entry.layer, recorded(&entry.created_by.value)));
    let mut links = Vec::with_capacity(wanted.len());
    'instructions: for (instruction, span) in wanted.iter().rev() {
        for (layer, recorded) in entries.by_ref() {
            match recorded {
                Recorded::Other => continue, // e.g. a WORKDIR the builder committed as a layer
                Recorded::Run(text) => {
                    let Instruction::Run(script) = instruction else {
                        return None;
                    };
                    if !script.is_empty() && collapse(text).ends_with(script.as_str()) {
                        links.extend(layer.map(|layer| (layer, *span)));
                        continue 'instructions;
                    }
                    return None;
                }
                Recorded::Copy { add, destination } => match instruction {
                    Instruction::Copy {
                        add: wanted_add,
                        destination: wanted_destination,
                    } if add == *wanted_add
                        && destination.trim_end_matches('/') == wanted_destination =>
                    {
                        links.extend(layer.map(|layer| (layer, *span)));
                        continue 'instructions;
                    }
                    _ => return None,
                },
            }
        }
        return None;
    }
    (!links.is_empty()).then_some(links)
}

/// What a history entry's `created_by` records.
#[derive(Debug, PartialEq, Eq)]
enum Recorded<'a> {
    /// A `RUN`: the whole text (the script is its end).
    Run(&'a str),
    /// A `COPY` or `ADD` and its destination.
    Copy { add: bool, destination: &'a str },
    /// Anything else: metadata instructions, `docker import`, `docker commit`.
    Other,
}

fn recorded(created_by: &str) -> Recorded<'_> {
    let text = created_by.trim();
    let text = text.strip_suffix("# buildkit").unwrap_or(text).trim_end();
    // The classic builder records metadata and file instructions as `/bin/sh -c #(nop) INSTR …`.
    let (classic_nop, rest) = match text.find("#(nop)") {
        Some(at) => (true, text[at + "#(nop)".len()..].trim_start()),
        None => (false, text),
    };
    let keyword = rest.split_whitespace().next().unwrap_or("");
    match keyword {
        "COPY" | "ADD" => {
            let add = keyword == "ADD";
            // Classic: `COPY file:<hash> in <dest>`; BuildKit: `COPY [--flags] src… <dest>`.
            let destination = match rest.rsplit_once(" in ") {
                Some((_, destination)) if classic_nop => destination.trim(),
                _ => rest.rsplit(' ').next().unwrap_or(""),
            };
            Recorded::Copy { add, destination }
        }
        _ if classic_nop => Recorded::Other,
        // What BuildKit records of instructions that may commit a layer but are not compared.
        "WORKDIR" | "ENV" | "ARG" | "LABEL" | "USER" | "EXPOSE" | "VOLUME" | "CMD"
        | "ENTRYPOINT" | "SHELL" | "HEALTHCHECK" | "STOPSIGNAL" | "ONBUILD" | "MAINTAINER" => {
            Recorded::Other
        }
        // BuildKit prefixes RUN; the classic builder records the shell line, or an exec form's
        // words, itself. Anything else (a base image's own history) cannot match a RUN's script.
        _ => Recorded::Run(rest),
    }
}

/// What the builder records of a `RUN`: the shell form's script, or the exec form's words joined by
/// spaces.
fn recorded_script(run: &RunInstruction) -> String {
    if run.exec_form {
        if let Ok(words) = serde_json::from_str::<Vec<String>>(&run.script.value) {
            return collapse(&words.join(" "));
        }
    }
    collapse(&run.script.value)
}

/// Whitespace runs (line continuations included) as one space.
fn collapse(text: &str) -> String {
    text.replace("\\\n", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{ImageHistoryEntry, ImageLayer};
    use leastpriv_source::{SourceDb, Spanned, TextRange};

    use super::*;

    const DOCKERFILE: &str = "FROM debian:bookworm AS base\n\
        ARG GITHUB_TOKEN\n\
        ENV DB_HOST=db\n\
        WORKDIR /app\n\
        RUN printf 'https://%s@git.example.com\\n' \"$GITHUB_TOKEN\" \\\n    > /root/.git-credentials\n\
        COPY build/web /usr/local/bin/web\n\
        FROM base\n\
        COPY . /app/\n\
        ADD https://example.com/x.tar.gz /opt\n\
        CMD [\"web\"]\n";

    fn build(db: &SourceDb, text: &str) -> Build {
        let file = db.add("Dockerfile", text);
        let lowered = leastpriv_frontend::dockerfile::lower(db, file, &Default::default());
        assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
        lowered
            .containers
            .into_iter()
            .find_map(|container| container.build)
            .expect("a build")
    }

    fn image(db: &SourceDb, history: &[(&str, bool)]) -> ImageFacts {
        let config = db.add("image.tar", "{}");
        let span = Span::new(config, TextRange::new(0, 2));
        let mut facts = ImageFacts::default();
        for (created_by, empty) in history {
            let layer = (!empty).then(|| {
                facts.layers.push(ImageLayer {
                    digest: format!("sha256:{:064}", facts.layers.len()),
                    created_by: Some(span),
                    instruction: None,
                });
                facts.layers.len() - 1
            });
            facts.history.push(ImageHistoryEntry {
                created_by: Spanned::new((*created_by).to_owned(), span),
                empty_layer: *empty,
                layer,
                build_args: Vec::new(),
            });
        }
        facts
    }

    fn lines(db: &SourceDb, image: &ImageFacts) -> Vec<Option<u32>> {
        image
            .layers
            .iter()
            .map(|layer| {
                layer
                    .instruction
                    .map(|span| db.get(span.file).line_column(span.range.start).line)
            })
            .collect()
    }

    #[test]
    fn links_classic_builder_history_to_lines() {
        let db = SourceDb::new();
        let build = build(&db, DOCKERFILE);
        let mut image = image(
            &db,
            &[
                ("/bin/sh -c #(nop) ADD file:0123 in / ", false),
                ("/bin/sh -c #(nop)  CMD [\"bash\"]", true),
                ("/bin/sh -c #(nop)  ARG GITHUB_TOKEN", true),
                ("/bin/sh -c #(nop)  ENV DB_HOST=db", true),
                ("/bin/sh -c #(nop) WORKDIR /app", false),
                (
                    "|1 GITHUB_TOKEN=ghp_x /bin/sh -c printf 'https://%s@git.example.com\\n' \"$GITHUB_TOKEN\"     > /root/.git-credentials",
                    false,
                ),
                ("/bin/sh -c #(nop) COPY file:abcd in /usr/local/bin/web ", false),
                ("/bin/sh -c #(nop) COPY dir:ef01 in /app/ ", false),
                // Files the image already held: the classic builder commits no layer.
                ("/bin/sh -c #(nop) ADD 2345 in /opt ", true),
                ("/bin/sh -c #(nop)  CMD [\"web\"]", true),
            ],
        );
        assert!(link_layers(&mut image, [&build]));
        // The base image's layer and the WORKDIR layer have no line.
        assert_eq!(lines(&db, &image), [None, None, Some(5), Some(7), Some(9)]);
    }

    #[test]
    fn links_buildkit_history_to_lines() {
        let db = SourceDb::new();
        let build = build(&db, DOCKERFILE);
        let mut image = image(
            &db,
            &[
                ("# debian.sh --arch 'amd64' out/ 'bookworm' '@1700000000'", false),
                ("WORKDIR /app", false),
                (
                    "RUN |1 GITHUB_TOKEN=ghp_x /bin/sh -c printf 'https://%s@git.example.com\\n' \"$GITHUB_TOKEN\"     > /root/.git-credentials # buildkit",
                    false,
                ),
                ("COPY build/web /usr/local/bin/web # buildkit", false),
                ("COPY . /app/ # buildkit", false),
                ("ADD https://example.com/x.tar.gz /opt # buildkit", false),
            ],
        );
        assert!(link_layers(&mut image, [&build]));
        assert_eq!(
            lines(&db, &image),
            [None, None, Some(5), Some(7), Some(9), Some(10)]
        );
    }

    #[test]
    fn links_nothing_when_the_dockerfile_differs_or_two_disagree() {
        let db = SourceDb::new();
        let build = build(&db, DOCKERFILE);
        let changed = |history: &[(&str, bool)]| {
            let mut image = image(&db, history);
            (link_layers(&mut image, [&build]), lines(&db, &image))
        };
        // A RUN that is not the Dockerfile's.
        let (linked, lines_of) = changed(&[
            ("RUN /bin/sh -c apt-get update # buildkit", false),
            ("COPY build/web /usr/local/bin/web # buildkit", false),
            ("COPY . /app/ # buildkit", false),
            ("ADD https://example.com/x.tar.gz /opt # buildkit", false),
        ]);
        assert!(!linked);
        assert_eq!(lines_of, [None, None, None, None]);
        // Too few layers: not built from this file.
        let (linked, _) = changed(&[("COPY . /app/ # buildkit", false)]);
        assert!(!linked);

        // The same file twice (a Compose build and the Dockerfile itself) links; two different
        // files that both match do not.
        let mut image = image(
            &db,
            &[
                ("RUN /bin/sh -c printf 'https://%s@git.example.com\\n' \"$GITHUB_TOKEN\" > /root/.git-credentials", false),
                ("COPY build/web /usr/local/bin/web # buildkit", false),
                ("COPY . /app # buildkit", false),
                ("ADD x /opt # buildkit", false),
            ],
        );
        assert!(link_layers(&mut image, [&build, &build]));
        let other = super::tests::build(&db, &format!("# a copy\n{DOCKERFILE}"));
        let mut fresh = image.clone();
        fresh
            .layers
            .iter_mut()
            .for_each(|layer| layer.instruction = None);
        assert!(!link_layers(&mut fresh, [&build, &other]));
    }

    #[test]
    fn reads_what_history_entries_record() {
        assert_eq!(
            recorded("/bin/sh -c #(nop) COPY file:ab in /app/.env "),
            Recorded::Copy {
                add: false,
                destination: "/app/.env"
            }
        );
        assert_eq!(
            recorded("COPY --chown=1:1 --from=build /out /bin # buildkit"),
            Recorded::Copy {
                add: false,
                destination: "/bin"
            }
        );
        assert_eq!(recorded("/bin/sh -c #(nop)  ENV A=b"), Recorded::Other);
        assert_eq!(recorded("WORKDIR /app"), Recorded::Other);
        assert_eq!(
            recorded("/bin/rm /tmp/key"),
            Recorded::Run("/bin/rm /tmp/key")
        );
        assert_eq!(
            recorded("/bin/bash -o pipefail -c make"),
            Recorded::Run("/bin/bash -o pipefail -c make")
        );
    }
}
