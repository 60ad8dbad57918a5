//! What harden knows of widely used images: the user they are built to run as, the paths they write,
//! and whether they read a secret from a file named by `NAME_FILE`.
//!
//! A short table of facts from the images' own documentation, not guesses: an image not listed gets
//! the safe defaults (uid 10001, `/tmp`) and a note. What harden cannot know of a project's own
//! images (which variables its program also reads from a file) the user declares in
//! `leastpriv.toml` ([`SecretFiles`]).

use std::collections::{BTreeMap, BTreeSet};

/// An image's repository without registry, tag or digest, lowercase (`library/postgres:16` and
/// `docker.io/postgres@sha256:…` are `postgres`; `bitnami/redis` stays `bitnami/redis`).
pub fn repository(image: &str) -> String {
    let without_digest = image.split('@').next().unwrap_or(image);
    // A tag is after the last `:` that follows the last `/` (a registry port comes before a `/`).
    let name_start = without_digest.rfind('/').map_or(0, |at| at + 1);
    let without_tag = match without_digest[name_start..].find(':') {
        Some(colon) => &without_digest[..name_start + colon],
        None => without_digest,
    };
    let mut parts: Vec<&str> = without_tag.split('/').collect();
    if parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
    {
        parts.remove(0);
    }
    if parts.first() == Some(&"library") {
        parts.remove(0);
    }
    parts.join("/").to_ascii_lowercase()
}

/// The last component of the repository (`postgres`, `nginx`): stand-ins and mirrors
/// (`driftwood/postgres`, `mirror/library/nginx`) keep the official image's conventions.
fn short_name(image: &str) -> String {
    let repository = repository(image);
    repository
        .rsplit('/')
        .next()
        .unwrap_or(&repository)
        .to_owned()
}

/// The non-root user an image's entrypoint expects (its data directories belong to it).
pub fn user(image: &str) -> Option<&'static str> {
    Some(match short_name(image).as_str() {
        "postgres" | "postgis" => "postgres",
        "mysql" | "mariadb" | "percona" => "mysql",
        "redis" | "valkey" => "redis",
        "mongo" => "mongodb",
        "rabbitmq" => "rabbitmq",
        "memcached" => "memcache",
        "elasticsearch" | "opensearch" => "1000:1000",
        "grafana" => "472",
        "prometheus" | "alertmanager" => "nobody",
        _ => return None,
    })
}

/// Directories an image writes outside its volumes at run time, which need a tmpfs under a
/// read-only root (`/tmp` is always given one).
pub fn written_paths(image: &str) -> &'static [&'static str] {
    match short_name(image).as_str() {
        "nginx" | "openresty" => &["/var/cache/nginx", "/var/run"],
        "postgres" | "postgis" => &["/var/run/postgresql"],
        "mysql" | "mariadb" | "percona" => &["/var/run/mysqld"],
        "httpd" => &["/usr/local/apache2/logs"],
        "rabbitmq" => &["/var/lib/rabbitmq"],
        _ => &[],
    }
}

/// The variable from which an image reads `variable`'s value out of a file, if it has one: the
/// official database images read `NAME_FILE` for their settings, Grafana `NAME__FILE`.
pub fn file_variable(image: &str, variable: &str) -> Option<String> {
    let short = short_name(image);
    let repository = repository(image);
    let suffix = match short.as_str() {
        "postgres" | "postgis" | "mysql" | "mariadb" | "percona" | "mongo" | "wordpress"
        | "nextcloud" | "drupal" | "joomla" | "ghost" | "matomo" | "influxdb" | "couchdb"
        | "keycloak" | "gitea" | "phpmyadmin" | "redmine" | "odoo" => "_FILE",
        "grafana" if variable.starts_with("GF_") => "__FILE",
        _ if repository.starts_with("bitnami/") => "_FILE",
        _ => return None,
    };
    Some(format!("{variable}{suffix}"))
}

/// The `NAME_FILE` conventions the user declared for images harden does not know (a project's own,
/// built ones): `[harden.secret-files]` in `leastpriv.toml`, keyed by a Compose service name or an
/// image repository, each with the variables whose value the program also reads from the file
/// named by `NAME_FILE`.
#[derive(Clone, Debug, Default)]
pub struct SecretFiles {
    /// Service name or lowercased image repository → variable names.
    declared: BTreeMap<String, BTreeSet<String>>,
}

impl SecretFiles {
    /// Declares that `subject` (a service name or an image) reads each of `variables` from a file
    /// named by `NAME_FILE`.
    pub fn declare(&mut self, subject: &str, variables: impl IntoIterator<Item = String>) {
        let key = if subject.contains(['/', ':', '@']) {
            repository(subject)
        } else {
            subject.to_owned()
        };
        self.declared.entry(key).or_default().extend(variables);
    }

    /// The variable from which the container of `service` (when it is a Compose service) running
    /// `image` reads `variable`'s value out of a file: the image's own convention when harden knows
    /// it, else one the user declared for the service or the image.
    pub fn file_variable(
        &self,
        service: Option<&str>,
        image: &str,
        variable: &str,
    ) -> Option<String> {
        if let Some(known) = file_variable(image, variable) {
            return Some(known);
        }
        let declared = |key: &str| {
            self.declared
                .get(key)
                .is_some_and(|variables| variables.contains(variable))
        };
        let by_image = !image.is_empty() && declared(&repository(image));
        (by_image || service.is_some_and(declared)).then(|| format!("{variable}_FILE"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_conventions_match_a_service_or_an_image_and_known_ones_come_first() {
        let mut declared = SecretFiles::default();
        declared.declare("web", ["DB_PASSWORD".to_owned()]);
        declared.declare("registry.example.com/team/api:2", ["TOKEN".to_owned()]);
        assert_eq!(
            declared
                .file_variable(Some("web"), "", "DB_PASSWORD")
                .as_deref(),
            Some("DB_PASSWORD_FILE")
        );
        assert_eq!(declared.file_variable(Some("web"), "", "SECRET_KEY"), None);
        assert_eq!(declared.file_variable(Some("db"), "", "DB_PASSWORD"), None);
        assert_eq!(
            declared
                .file_variable(None, "team/api:3", "TOKEN")
                .as_deref(),
            Some("TOKEN_FILE")
        );
        assert_eq!(
            declared
                .file_variable(Some("x"), "grafana/grafana", "GF_X")
                .as_deref(),
            Some("GF_X__FILE")
        );
    }

    #[test]
    fn repositories_drop_registry_tag_and_digest() {
        assert_eq!(repository("postgres:16"), "postgres");
        assert_eq!(
            repository("docker.io/library/postgres@sha256:ab"),
            "postgres"
        );
        assert_eq!(repository("localhost:5000/team/app:1"), "team/app");
        assert_eq!(repository("Bitnami/Redis"), "bitnami/redis");
    }

    #[test]
    fn file_conventions_of_known_images() {
        assert_eq!(
            file_variable("postgres:16", "POSTGRES_PASSWORD").as_deref(),
            Some("POSTGRES_PASSWORD_FILE")
        );
        assert_eq!(
            file_variable("grafana/grafana", "GF_SECURITY_ADMIN_PASSWORD").as_deref(),
            Some("GF_SECURITY_ADMIN_PASSWORD__FILE")
        );
        assert_eq!(file_variable("redis:7", "REDIS_PASSWORD"), None);
        assert_eq!(file_variable("myapp", "DB_PASSWORD"), None);
    }
}
