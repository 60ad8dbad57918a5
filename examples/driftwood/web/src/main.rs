//! Driftwood's web service: says hello on `/` and, on `/healthz`, whether its database answers.
//!
//! It stands for any small service a team ships: it listens on a port, reads its configuration from
//! the environment and its credentials from a file or the environment, and talks to a database. It
//! uses the standard library only, so that it builds as one static binary and runs in an image
//! `FROM scratch` on a machine without a registry.
//!
//! Configuration:
//! - `LISTEN` (default `0.0.0.0:8000`): where to listen;
//! - `DB_HOST` (default `db`), `DB_PORT` (default `5432`): the database, checked by a TCP connect;
//! - `DB_PASSWORD_FILE` (a runtime secret file) or, as first written, `DB_PASSWORD`.
//!
//! `driftwood-web healthcheck` asks the running service for `/healthz` and exits 0 when it answers:
//! an image `FROM scratch` has no `curl` for a Compose `healthcheck`.

use std::env;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(2);

/// The service's configuration, read from the environment once.
#[derive(Debug)]
struct Config {
    /// `DB_HOST:DB_PORT`.
    database: String,
    /// `DB_PASSWORD_FILE`, when the password is a secret file.
    password_file: Option<std::ffi::OsString>,
    /// Whether `DB_PASSWORD` is set (its value is never read here).
    password_in_environment: bool,
}

impl Config {
    fn from_environment() -> Self {
        let host = env::var("DB_HOST").unwrap_or_else(|_| "db".to_owned());
        let port = env::var("DB_PORT").unwrap_or_else(|_| "5432".to_owned());
        Self {
            database: format!("{host}:{port}"),
            password_file: env::var_os("DB_PASSWORD_FILE"),
            password_in_environment: env::var_os("DB_PASSWORD").is_some(),
        }
    }
}

fn main() -> ExitCode {
    let listen = env::var("LISTEN").unwrap_or_else(|_| "0.0.0.0:8000".to_owned());
    let result = match env::args().nth(1).as_deref() {
        None | Some("serve") => serve(&listen, Arc::new(Config::from_environment())),
        Some("healthcheck") => healthcheck(&listen),
        Some(other) => Err(io::Error::other(format!(
            "unknown command `{other}`: expected `serve` or `healthcheck`"
        ))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(io::stderr(), "driftwood-web: {error}");
            ExitCode::FAILURE
        }
    }
}

fn serve(listen: &str, config: Arc<Config>) -> io::Result<()> {
    let listener = TcpListener::bind(listen).map_err(|error| {
        io::Error::new(error.kind(), format!("cannot listen on {listen}: {error}"))
    })?;
    let _ = writeln!(io::stderr(), "driftwood-web: listening on {listen}");
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let config = Arc::clone(&config);
                thread::spawn(move || {
                    let _ = answer(stream, &config);
                });
            }
            Err(error) => {
                let _ = writeln!(io::stderr(), "driftwood-web: accept: {error}");
            }
        }
    }
    Ok(())
}

/// Reads one request line (headers are read and ignored) and writes a JSON answer.
fn answer(stream: TcpStream, config: &Config) -> io::Result<()> {
    stream.set_read_timeout(Some(TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?.take(64 * 1024));
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let mut words = request.split_whitespace();
    let (status, body) = match (words.next(), words.next()) {
        (Some("GET"), Some("/healthz")) => ("200 OK", health(config)),
        (Some("GET"), Some(_)) => (
            "200 OK",
            r#"{"service":"driftwood","message":"hello from the beach"}"#.to_owned(),
        ),
        _ => (
            "405 Method Not Allowed",
            r#"{"error":"GET only"}"#.to_owned(),
        ),
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// `{"status":"ok","database":…,"credentials":…}`: never the credential itself.
fn health(config: &Config) -> String {
    let database = match connect(&config.database) {
        Ok(_) => "ok".to_owned(),
        Err(error) => format!("unavailable ({})", error.kind()),
    };
    let credentials = match &config.password_file {
        Some(path) if std::fs::metadata(path).is_ok() => "secret file",
        Some(_) => "secret file missing",
        None if config.password_in_environment => "environment",
        None => "none",
    };
    format!(r#"{{"status":"ok","database":"{database}","credentials":"{credentials}"}}"#)
}

fn connect(address: &str) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for address in address.to_socket_addrs()? {
        match TcpStream::connect_timeout(&address, TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(error) => last = error,
        }
    }
    Err(last)
}

/// `GET /healthz` on the service itself; exit 0 when it answers 200.
fn healthcheck(listen: &str) -> io::Result<()> {
    let address: SocketAddr = listen
        .parse()
        .map_err(|error| io::Error::other(format!("LISTEN={listen}: {error}")))?;
    let local = SocketAddr::new([127, 0, 0, 1].into(), address.port());
    let mut stream = TcpStream::connect_timeout(&local, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut status = String::new();
    BufReader::new(stream).read_line(&mut status)?;
    if status.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(io::Error::other(format!("unhealthy: {}", status.trim())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_hello_and_health_over_http() {
        // A database address nothing listens on: refused at once.
        let closed = TcpListener::bind("127.0.0.1:0").expect("binds");
        let config = Config {
            database: closed.local_addr().expect("address").to_string(),
            password_file: Some("/nonexistent/db_password".into()),
            password_in_environment: false,
        };
        drop(closed);
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
        let address = listener.local_addr().expect("address");
        thread::spawn(move || {
            for stream in listener.incoming().take(2) {
                answer(stream.expect("accepts"), &config).expect("answers");
            }
        });
        let get = |path: &str| {
            let mut stream = TcpStream::connect(address).expect("connects");
            write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").expect("writes");
            let mut response = String::new();
            stream.read_to_string(&mut response).expect("reads");
            response
        };
        let hello = get("/");
        assert!(hello.starts_with("HTTP/1.1 200 OK\r\n"), "{hello}");
        assert!(hello.ends_with(r#"{"service":"driftwood","message":"hello from the beach"}"#));
        let health = get("/healthz");
        assert!(
            health.ends_with(
                r#"{"status":"ok","database":"unavailable (connection refused)","credentials":"secret file missing"}"#
            ),
            "{health}"
        );
    }
}
