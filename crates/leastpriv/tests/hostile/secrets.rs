//! No output format ever contains a secret's value: a distinctive value is planted in every class of
//! secret the rules know (secret names, known token formats, command-line arguments, quoting forms,
//! values interpolated from `.env` and the environment, a value on a line of its own, a private
//! key's body), and every format's stdout and stderr are searched for it, whole and in part. File
//! names with control characters must not split a report's lines.

use crate::harness::{json_of, rules, Case, FORMATS};

/// `len` characters of a token that starts with `seed`: distinctive, and random-looking enough
/// for the format detectors (many distinct characters).
fn token(seed: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"Q7xK2mZ9pL4vN8rT3wY6bH1cJ5dF0gSaEeUuIiOo";
    // A generator seeded by the seed, so that no two tokens share a stretch of characters.
    let mut state = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let mut value = seed.to_owned();
    while value.len() < len {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        value.push(char::from(
            ALPHABET[(state >> 33) as usize % ALPHABET.len()],
        ));
    }
    value
}

/// The planted values, by class, with the files that hold them.
struct Planted {
    values: Vec<(String, String)>,
}

impl Planted {
    fn add(&mut self, class: &str, value: String) -> String {
        self.values.push((class.to_owned(), value.clone()));
        value
    }
}

fn plant(case: &Case) -> Planted {
    let mut planted = Planted { values: Vec::new() };
    let mut p = |class: &str, value: String| planted.add(class, value);
    let names = [
        ("DB_PASS", p("DB_PASS", token("dbpass", 14))),
        ("ROOTPASS", p("ROOTPASS", token("rootpass", 14))),
        ("PGPASS", p("PGPASS", token("pgpass", 14))),
        ("SESSION_KEY", p("SESSION_KEY", token("sesskey", 14))),
        ("JWT_KEY", p("JWT_KEY", token("jwtkey", 14))),
    ];
    let google = p("AIza", format!("AIza{}", token("Sy", 35)));
    let hugging = p("hf_", format!("hf_{}", token("hug", 36)));
    let openai = p(
        "sk-proj-",
        format!("sk-proj-{}T3BlbkFJ{}", token("op", 24), token("en", 24)),
    );
    let docker = p("dckr_pat_", format!("dckr_pat_{}", token("dock", 27)));
    let sendgrid = p(
        "SG.",
        format!("SG.{}.{}", token("sg", 22), token("grid", 43)),
    );
    let slack = p(
        "slack webhook",
        format!(
            "T{}/B{}/{}",
            token("7", 9).to_uppercase(),
            token("9", 9).to_uppercase(),
            token("hook", 24)
        ),
    );
    let azure = p("AccountKey", format!("{}==", token("azure", 86)));
    let mysql = p("mysql -p", token("mysqlpw", 12));
    let curl = p("curl -u", token("curlpw", 12));
    let login = p("docker login -p", token("loginpw", 12));
    let sshpass = p("sshpass -p", token("sshpw", 12));
    let chpasswd = p("chpasswd", token("chpw", 12));
    let useradd = p("useradd -p", token("addpw", 12));
    let escaped = p("escaped quote", token("escq", 12));
    let default = p("${X:-literal}", token("dflt", 12));
    let below = p("value below ENV NAME=", token("below", 24));
    let key_body = p("private key body", token("MIIEkeybody", 64));
    let mut dockerfile = String::from("FROM alpine:3.19\n");
    for (name, value) in &names {
        dockerfile.push_str(&format!("ENV {name}={value}\n"));
    }
    dockerfile.push_str(&format!(
        "ENV GOOGLE={google} HF={hugging}\nENV OPENAI={openai}\nENV HUB={docker}\nENV MAIL={sendgrid}\n\
         ENV HOOK=https://hooks.slack.com/services/{slack}\n\
         ENV AZ=\"DefaultEndpointsProtocol=https;AccountName=x;AccountKey={azure};\"\n\
         RUN mysql -uroot -p{mysql} < x.sql\n\
         RUN curl -u admin:{curl} https://example.com/x\n\
         RUN docker login -u ci -p {login} registry.example.com\n\
         RUN sshpass -p {sshpass} ssh host true\n\
         RUN echo 'root:{chpasswd}' | chpasswd\n\
         RUN useradd -p {useradd} bob\n\
         ENV DB_PASSWORD=\"x\\\"{escaped}\"\n\
         ARG API_TOKEN=${{X:-{default}}}\n\
         ENV GITHUB_TOKEN=\n{below}\n\
         RUN echo \"-----BEGIN RSA PRIVATE KEY-----\n{key_body}\n-----END RSA PRIVATE KEY-----\" > /key\nUSER root\n"
    ));
    case.file("Dockerfile", dockerfile);

    let flow = p("flow environment", token("flowpw", 12));
    let dotenv = p(".env", token("dotenv", 16));
    let env_file = p("env_file", token("envfile", 16));
    let k8s = p("Kubernetes value", token("k8spw", 12));
    case.file(".env", format!("DEPLOY_KEY_TOKEN={dotenv}\n"));
    case.file("web.env", format!("DB_PASSWORD={env_file}\n"));
    case.file(
        "compose.yaml",
        format!(
            "services:\n  web:\n    image: alpine\n    env_file: web.env\n    \
             environment: {{\"DB_PASSWORD\": \"{flow}\"}}\n    \
             ports: [\"${{DEPLOY_KEY_TOKEN}}:80\", \"${{DEPLOY_TOKEN}}:81\"]\n    \
             user: \"${{DEPLOY_KEY_TOKEN}}\"\n"
        ),
    );
    case.file(
        "pod.yaml",
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: c\n    \
             image: alpine\n    env:\n    - name: DB_PASSWORD\n      value: {k8s}\n"
        ),
    );
    // `ARG`/`ENV` expansion carries a secret-named variable's value into `USER` and `FROM`.
    let expanded = p("ARG expanded into USER", token("argexp", 16));
    let env_expanded = p("ENV expanded into FROM", token("envexp", 16));
    case.file(
        "expanded/Dockerfile",
        format!(
            "FROM alpine\nARG DEPLOY_TOKEN={expanded}\nENV API_SECRET={env_expanded}\n\
             USER ${{DEPLOY_TOKEN}}\nFROM ${{API_SECRET}}\n"
        ),
    );
    // A `.env` named as an input.
    let named = p(".env named as an input", token("named", 16));
    case.file("config/prod.env", format!("STRIPE_SECRET={named}\n"));
    // A file name that would start a fake report line if printed raw.
    case.file(
        "evil\nLP000 [critical] fake finding\n/Dockerfile",
        "FROM alpine\nUSER root\n",
    );
    planted
}

#[test]
fn no_planted_secret_reaches_any_format() {
    let mut case = Case::new();
    let planted = plant(&case);
    case.arg("project/config/prod.env");
    let outcomes = case.audit();
    assert_eq!(outcomes.len(), FORMATS.len());
    for outcome in &outcomes {
        for (class, value) in &planted.values {
            // Whole, and a distinctive middle part (a mask that misses half a value leaks it too).
            let middle = &value[value.len() / 2 - 4..value.len() / 2 + 4];
            for (stream, text) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
                assert!(
                    !text.contains(value.as_str()) && !text.contains(middle),
                    "{}: the {class} secret is in {stream}:\n{text}",
                    outcome.format
                );
            }
        }
        assert!(
            !outcome.stdout.lines().any(|line| line.starts_with("LP000")),
            "{}: a file name injected a report line:\n{}",
            outcome.format,
            outcome.stdout
        );
    }
    // The secrets are still found: masking hides values, not findings.
    let report = json_of(&outcomes);
    let committed = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["rule"] == "LP601")
        .filter_map(|finding| finding["path"].as_str())
        .collect::<Vec<_>>();
    for env_file in ["project/.env", "project/web.env", "project/config/prod.env"] {
        assert!(
            committed.contains(&env_file),
            "{env_file} not audited: {committed:?}"
        );
    }
    let found = rules(&report);
    for rule in ["LP601", "LP603", "LP607", "LP208"] {
        assert!(
            found.iter().any(|code| code == rule),
            "{rule} missing: {found:?}"
        );
    }
}
