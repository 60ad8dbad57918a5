use leastpriv_model::{Container, Remedy};

use crate::engine::Checker;
use crate::helpers::shell::{run_invocations, Invocation};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a `RUN` in a stage that reaches the image that generates private key material:
    /// `ssh-keygen` (host keys with `-A`, or a key pair), `openssl genrsa|genpkey|ecparam -genkey`,
    /// `openssl req -newkey|-x509` with a new key, `mkcert`, `keytool -genkeypair`,
    /// `certtool --generate-privkey`, `gpg --gen-key|--generate-key|--quick-generate-key`,
    /// `wg genkey`, `make-ssl-cert generate-default-snakeoil`. Key generation in a builder stage
    /// whose output is copied out (`--output`) is not reported.
    ///
    /// ## Why is this bad?
    /// A key generated at build time is the same in every container started from the image, and it
    /// is in a layer that anyone who can pull the image can read. Whoever has the image can
    /// impersonate the service (an SSH host key, a TLS server key) or decrypt its recorded
    /// traffic. Keys are per-instance secrets: create them when the container starts, or mount
    /// them from a secret store.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apt-get install -y openssh-server && ssh-keygen -A
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// RUN apt-get install -y openssh-server && rm -f /etc/ssh/ssh_host_*
    /// # entrypoint.sh: ssh-keygen -A && exec /usr/sbin/sshd -D
    /// ```
    ///
    /// ## Equivalents
    /// hadolint: none · trivy: none (its secret scanner finds the key in the built image) ·
    /// checkov: none · dockle CIS-DI-0010 (key files in layers) · CIS Docker Benchmark 4.10
    pub(crate) static META = {
        name: "private-key-generated",
        layer: Secrets,
        severity: Medium,
        fix: "Generate keys when the container starts, or mount them from a secret store; never bake them into the image",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(build) = &container.build else {
        return;
    };
    for run in build.image_stages().flat_map(|stage| stage.runs.iter()) {
        for invocation in run_invocations(run) {
            let Some(what) = generates_key(&invocation) else {
                continue;
            };
            checker
                .report(
                    invocation.command.span,
                    format!("`{what}` generates a private key at build time: every container from the image shares it, and anyone who can pull the image has it"),
                )
                .remedy(Remedy::RemoveInstruction);
        }
    }
}

/// The command, as shown, when the invocation generates a private key.
fn generates_key(invocation: &Invocation<'_>) -> Option<&'static str> {
    let args: Vec<&str> = invocation
        .args
        .iter()
        .map(|arg| arg.value.as_str())
        .collect();
    let has = |flags: &[&str]| args.iter().any(|arg| flags.contains(arg));
    match invocation.name() {
        // `-l`, `-y`, `-F`, `-R`, `-H`, `-s` (sign), `-Y` read, sign with or manage existing keys.
        "ssh-keygen" => (!has(&[
            "-l", "-y", "-F", "-R", "-H", "-s", "-Y", "-e", "-i", "-D", "-p", "-c", "-B",
        ]))
        .then_some("ssh-keygen"),
        "openssl" => match args.first().copied() {
            Some("genrsa" | "gendsa" | "genpkey") => Some("openssl genrsa/genpkey"),
            Some("ecparam") if has(&["-genkey"]) => Some("openssl ecparam -genkey"),
            Some("req") if has(&["-newkey"]) || (has(&["-new"]) && !has(&["-key"])) => {
                Some("openssl req -newkey")
            }
            _ => None,
        },
        "mkcert" if !has(&["-uninstall", "-CAROOT", "-help"]) => Some("mkcert"),
        "keytool" if has(&["-genkeypair", "-genkey"]) => Some("keytool -genkeypair"),
        "certtool" if has(&["--generate-privkey", "-p"]) => Some("certtool --generate-privkey"),
        "gpg" | "gpg2"
            if has(&[
                "--gen-key",
                "--generate-key",
                "--full-generate-key",
                "--quick-generate-key",
                "--quick-gen-key",
                "--full-gen-key",
            ]) =>
        {
            Some("gpg --generate-key")
        }
        "wg" if args.first() == Some(&"genkey") => Some("wg genkey"),
        "make-ssl-cert" if args.first() == Some(&"generate-default-snakeoil") => {
            Some("make-ssl-cert")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_on_key_generation_in_the_image() {
        let found = findings(
            &META,
            "FROM debian\n\
             RUN apt-get install -y openssh-server && ssh-keygen -A\n\
             RUN openssl req -x509 -nodes -newkey rsa:2048 -keyout /etc/ssl/private/app.key -out /etc/ssl/app.crt -subj /CN=app\n",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("2: medium `ssh-keygen` generates a private key"),
            "{found:?}"
        );
    }

    #[test]
    fn stays_silent_on_builders_and_key_inspection() {
        // Modelled on moby__buildkit/examples/create-certs/Dockerfile (keys made in a builder
        // stage and exported with `--output`).
        let found = findings(
            &META,
            "FROM alpine AS gen\n\
             RUN mkcert -cert-file daemon/cert.pem -key-file daemon/key.pem localhost\n\
             FROM scratch\n\
             COPY --from=gen /certs /\n",
        );
        assert!(found.is_empty(), "{found:?}");
        let found = findings(
            &META,
            "FROM debian\nRUN ssh-keygen -l -f /etc/ssh/ssh_host_rsa_key.pub && openssl req -new -key app.key -out app.csr\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
