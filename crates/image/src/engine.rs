//! Images in the local Docker Engine, streamed from its export API (`GET /images/{name}/get`).
//!
//! The export is a `docker save` tar. It is never written to disk nor held whole: a background thread
//! runs the engine client (bollard on a one-thread tokio runtime) and hands chunks through a bounded
//! channel to a blocking [`Read`] that the archive reader consumes, so memory stays at a few chunks
//! whatever the image size. The engine is found as the `docker` CLI finds it (`DOCKER_HOST`, else the
//! local socket).

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use bollard::Docker;
use futures_util::StreamExt;
use leastpriv_source::{InputError, SourceDb};

use crate::{audit_stream, Audited, Options};

/// Chunks in flight between the engine thread and the reader.
const CHANNEL_CHUNKS: usize = 16;

/// Reads image `reference` (`name[:tag]`, an id or a digest) from the local engine.
pub fn audit_engine_image(db: &SourceDb, reference: &str, options: &Options) -> Audited {
    match EngineExport::start(reference) {
        Ok(reader) => audit_stream(db, reader, reference, options),
        Err(message) => Audited {
            containers: Vec::new(),
            errors: vec![InputError::file(reference, message)],
        },
    }
}

enum Message {
    Ready,
    Chunk(Vec<u8>),
    Failed(String),
}

/// The export stream as a blocking reader.
struct EngineExport {
    receiver: Receiver<Message>,
    chunk: Vec<u8>,
    position: usize,
    done: bool,
}

impl EngineExport {
    /// Connects, checks the image exists, and starts the export; the error is the user's message.
    fn start(reference: &str) -> Result<Self, String> {
        let (sender, receiver) = sync_channel(CHANNEL_CHUNKS);
        let reference = reference.to_owned();
        std::thread::Builder::new()
            .name("engine-export".to_owned())
            .spawn(move || export(&reference, &sender))
            .map_err(|error| format!("cannot start the engine client: {error}"))?;
        match receiver.recv() {
            Ok(Message::Ready) => Ok(Self {
                receiver,
                chunk: Vec::new(),
                position: 0,
                done: false,
            }),
            Ok(Message::Failed(message)) => Err(message),
            Ok(Message::Chunk(_)) | Err(_) => {
                Err("the engine client stopped unexpectedly".to_owned())
            }
        }
    }
}

impl Read for EngineExport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.position == self.chunk.len() {
            if self.done {
                return Ok(0);
            }
            match self.receiver.recv() {
                Ok(Message::Chunk(chunk)) => {
                    self.chunk = chunk;
                    self.position = 0;
                }
                Ok(Message::Failed(message)) => return Err(io::Error::other(message)),
                Ok(Message::Ready) | Err(_) => self.done = true,
            }
        }
        let len = buf.len().min(self.chunk.len() - self.position);
        buf[..len].copy_from_slice(&self.chunk[self.position..self.position + len]);
        self.position += len;
        Ok(len)
    }
}

/// Runs on the engine thread: sends `Ready` or `Failed`, then the chunks; a closed channel (the reader
/// gave up) ends it.
fn export(reference: &str, sender: &SyncSender<Message>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = sender.send(Message::Failed(format!(
                "cannot start the engine client: {error}"
            )));
            return;
        }
    };
    runtime.block_on(async {
        let docker = match connect().await {
            Ok(docker) => docker,
            Err(message) => {
                let _ = sender.send(Message::Failed(message));
                return;
            }
        };
        if let Err(error) = docker.inspect_image(reference).await {
            let message = match &error {
                bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                } => format!("no such image in the local engine: `{reference}`"),
                _ => format!("cannot inspect image `{reference}`: {error}"),
            };
            let _ = sender.send(Message::Failed(message));
            return;
        }
        if sender.send(Message::Ready).is_err() {
            return;
        }
        let mut stream = docker.export_image(reference);
        while let Some(chunk) = stream.next().await {
            let message = match chunk {
                Ok(bytes) => Message::Chunk(bytes.to_vec()),
                Err(error) => Message::Failed(format!("the engine's export stopped: {error}")),
            };
            let failed = matches!(message, Message::Failed(_));
            if sender.send(message).is_err() || failed {
                return;
            }
        }
    });
}

async fn connect() -> Result<Docker, String> {
    let docker = Docker::connect_with_defaults()
        .map_err(|error| format!("cannot connect to the Docker Engine: {error}"))?;
    docker
        .negotiate_version()
        .await
        .map_err(|error| format!("cannot reach the Docker Engine (is it running?): {error}"))
}

/// Whether an engine answers, for callers that skip engine work without one.
pub fn engine_available() -> bool {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return false;
    };
    runtime.block_on(async { connect().await.is_ok() })
}
