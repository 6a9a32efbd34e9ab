//! Engine clients that keep a connection between close requests. bollard's own unix and
//! tcp clients keep none: each request connects afresh, which for a list and the inspects
//! after it, or a few hosts re-read every 2 s, is most of the work of the request.

use super::connect::DockerError;
use bollard::{API_DEFAULT_VERSION, BollardRequest, Docker};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Idle connections kept per engine: one serves the re-reads and the inspects after a
/// list; streams (events, stats, logs) hold their own while they run.
const IDLE_PER_ENGINE: usize = 1;
/// How long an idle connection is kept: past a few hosts' refresh, short of a large
/// fleet's list period (each idle connection holds about 25 KB of buffers, so a thousand
/// engines reconnect for their lists rather than keep 25 MB).
const KEEP_IDLE: Duration = Duration::from_secs(5);
/// Each connection's read buffer, whole: hyper's own starts at 8 KB and grows, and every
/// engine keeps an events stream open whose news comes a few hundred bytes at a time. It
/// also bounds a response's head, which from an engine is a few hundred bytes.
const READ_BUFFER: usize = 4096;

/// A client whose connections `connector` makes and a pool keeps. `addr` only fills the
/// Host header where the connector ignores the URI.
pub(super) fn over<C>(connector: C, addr: &str, timeout_secs: u64) -> Result<Docker, DockerError>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(IDLE_PER_ENGINE)
        .pool_idle_timeout(KEEP_IDLE)
        .pool_timer(TokioTimer::new())
        .http1_read_buf_exact_size(READ_BUFFER)
        .build(connector);
    let transport = move |request: BollardRequest| {
        let client = client.clone();
        async move {
            client
                .request(request)
                .await
                .map_err(bollard::errors::Error::from)
        }
    };
    Ok(Docker::connect_with_custom_transport(
        transport,
        Some(addr),
        timeout_secs,
        API_DEFAULT_VERSION,
    )?)
}

/// The engine behind the unix socket at `path` (`unix://` stripped or not).
pub(super) fn unix(url: &str, timeout_secs: u64) -> Result<Docker, DockerError> {
    let path = url.strip_prefix("unix://").unwrap_or(url);
    if !Path::new(path).exists() {
        return Err(DockerError::NoSocket {
            path: path.to_owned(),
        });
    }
    over(
        UnixConnector(Arc::from(Path::new(path))),
        "http://docker",
        timeout_secs,
    )
}

/// The engine at `tcp://HOST:PORT`, plain HTTP.
pub(super) fn tcp(url: &str, timeout_secs: u64) -> Result<Docker, DockerError> {
    let addr = url.replacen("tcp://", "http://", 1);
    over(HttpConnector::new(), &addr, timeout_secs)
}

/// Connects to one socket whatever the URI says.
#[derive(Clone)]
struct UnixConnector(Arc<Path>);

impl tower_service::Service<hyper::Uri> for UnixConnector {
    type Response = TokioIo<tokio::net::UnixStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let path = Arc::clone(&self.0);
        Box::pin(async move { Ok(TokioIo::new(tokio::net::UnixStream::connect(&*path).await?)) })
    }
}
