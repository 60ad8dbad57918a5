//! Layer `secrets`.

pub(crate) mod credential_literal;
pub(crate) mod credential_setup_in_run;
pub(crate) mod private_key_generated;
pub(crate) mod secret_file_copied;
pub(crate) mod secret_in_build_arg;
pub(crate) mod secret_in_env;
pub(crate) mod secret_in_run_argument;

#[cfg(test)]
mod tests {
    use leastpriv_source::SourceDb;

    use crate::dockerfile_testing::dockerfile_container;
    use crate::{check, RuleSelection};

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
        let diagnostics = check(&db, &[container], &RuleSelection::all());
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
