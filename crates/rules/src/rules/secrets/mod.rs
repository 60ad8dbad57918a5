//! Layer `secrets`: secrets kept out of configuration, images and the process environment.

pub(crate) mod credential_literal;
pub(crate) mod credential_setup_in_run;
pub(crate) mod deleted_secret_in_layer;
pub(crate) mod private_key_generated;
pub(crate) mod secret_exposed_as_environment;
pub(crate) mod secret_file_copied;
pub(crate) mod secret_file_copied_from_context;
pub(crate) mod secret_file_in_image;
pub(crate) mod secret_in_build_arg;
pub(crate) mod secret_in_env;
pub(crate) mod secret_in_image_history;
pub(crate) mod secret_in_run_argument;

#[cfg(test)]
mod tests {
    use leastpriv_model::{Container, EnvVar, ImageFacts, Runtime, Sensitive, SourceKind};
    use leastpriv_source::{SourceDb, Span, Spanned, TextRange};

    use crate::dockerfile_testing::{dockerfile_container, findings_in};
    use crate::{check, RuleSelection};

    /// The same two variables, one container per source: a Dockerfile, Compose, Kubernetes,
    /// `docker run`, an image config.
    #[test]
    fn every_source_is_judged_the_same() {
        let db = SourceDb::new();
        let mut containers = vec![dockerfile_container(
            &db,
            "FROM alpine\nENV DB_PASSWORD=SuperSecret123 AWS_ACCESS_KEY_ID=AKIAZ7Q3RBN5VXWYTU2P\n",
        )];
        let text = "DB_PASSWORD=SuperSecret123\nAWS_ACCESS_KEY_ID=AKIAZ7Q3RBN5VXWYTU2P\n";
        for kind in [
            SourceKind::Compose,
            SourceKind::Kubernetes,
            SourceKind::DockerRun,
            SourceKind::Image,
        ] {
            let file = db.add(format!("{kind:?}"), text);
            let span =
                |start: usize, len: usize| Span::new(file, TextRange::new(start, start + len));
            let environment = vec![
                EnvVar {
                    name: Spanned::new("DB_PASSWORD".into(), span(0, 11)),
                    value: Some(Spanned::new(Sensitive::new("SuperSecret123"), span(12, 14))),
                },
                EnvVar {
                    name: Spanned::new("AWS_ACCESS_KEY_ID".into(), span(27, 17)),
                    value: Some(Spanned::new(
                        Sensitive::new("AKIAZ7Q3RBN5VXWYTU2P"),
                        span(45, 20),
                    )),
                },
            ];
            let mut container = Container::new("c", kind, span(0, 1));
            if kind == SourceKind::Image {
                container.image = Some(ImageFacts {
                    env: environment,
                    ..ImageFacts::default()
                });
            } else {
                container.runtime = Some(Runtime {
                    environment,
                    ..Runtime::default()
                });
            }
            containers.push(container);
        }
        for (meta, needle) in [
            (
                &super::secret_in_env::META,
                "`DB_PASSWORD` is set to a literal in ",
            ),
            (&super::credential_literal::META, "`AWS_ACCESS_KEY_ID` in "),
        ] {
            let found = findings_in(meta, &db, &containers);
            assert_eq!(found.len(), 5, "{}: {found:#?}", meta.name);
            assert!(
                found.iter().all(|finding| finding.contains(needle)),
                "{found:#?}"
            );
            for place in [
                "`ENV`",
                "`environment:`",
                "`env:`",
                "`docker run -e`",
                "`Env`",
            ] {
                assert!(
                    found.iter().any(|finding| finding.contains(place)),
                    "{}: no finding names {place}: {found:#?}",
                    meta.name
                );
            }
        }
    }

    /// Secret values planted in a Dockerfile; no finding of any rule may quote one.
    const PLANTED: &[&str] = &[
        "SuperSecret123",
        "Dr1ftw00dDbPass",
        "AKIAZ7Q3RBN5VXWYTU2P",
        "Zk3Tq9VbL2mN8pR4sW6yX1aC5dE7fG0hJ2kL4mN6",
        "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
        "glpat-Ab3De6Gh9Jk2Mn5Pq8St",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "npm_Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8",
        "r00tPassw0rd",
        "hunter2hunter2",
    ];

    #[test]
    fn no_rule_prints_a_planted_secret() {
        let dockerfile = "\
ARG GITHUB_TOKEN=ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8
FROM python:3.12 AS build
ENV DB_PASSWORD=Dr1ftw00dDbPass
ARG NPM_TOKEN=npm_Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8
RUN npm config set //registry.npmjs.org/:_authToken npm_Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8
FROM python:3.12
ENV DB_PASSWORD=SuperSecret123 AWS_ACCESS_KEY_ID=AKIAZ7Q3RBN5VXWYTU2P
ENV AWS_SECRET_ACCESS_KEY=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
ARG STRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc
RUN echo root:r00tPassw0rd | chpasswd
RUN git clone https://ci:glpat-Ab3De6Gh9Jk2Mn5Pq8St@gitlab.com/acme/app.git
RUN curl -u admin:hunter2hunter2 https://example.com && mysql --password=hunter2hunter2
RUN aws configure set aws_secret_access_key Zk3Tq9VbL2mN8pR4sW6yX1aC5dE7fG0hJ2kL4mN6
RUN docker login -p SuperSecret123 registry.example.com
USER app
";
        let db = SourceDb::new();
        let container = dockerfile_container(&db, dockerfile);
        let diagnostics = check(&db, std::slice::from_ref(&container), &RuleSelection::all());
        assert!(
            diagnostics.len() >= 10,
            "the planted secrets should be found: {diagnostics:#?}"
        );
        for diagnostic in &diagnostics {
            let texts = std::iter::once(&diagnostic.message)
                .chain(std::iter::once(&diagnostic.fix))
                .chain(diagnostic.related.iter().map(|(_, note)| note));
            for text in texts {
                for secret in PLANTED {
                    assert!(
                        !text.contains(secret),
                        "{} prints a planted secret: {text}",
                        diagnostic.rule.code
                    );
                }
            }
            let remedy = format!("{:?}", diagnostic.remedy);
            for secret in PLANTED {
                assert!(
                    !remedy.contains(secret),
                    "{}: {remedy}",
                    diagnostic.rule.code
                );
            }
        }
    }
}
