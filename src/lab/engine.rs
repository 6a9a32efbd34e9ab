//! The lab's calls to its engines (bollard) and to demo web servers (reqwest), blocking, so
//! `lab up`, `demo` and plain #[test]s can make them without an async runtime of their own.

use super::LabError;
use crate::docker::{self, DockerError};
use crate::domain::HostSpec;
use bollard::Docker;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CreateContainerOptions, CreateImageOptions, ListContainersOptions, ListImagesOptions,
    RemoveContainerOptions,
};
use futures::TryStreamExt;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;
use tokio::runtime::Runtime;
use tokio::sync::OnceCell;

const QUICK: Duration = Duration::from_secs(2);
const SLOW: Duration = Duration::from_secs(60);

/// One engine of the lab, reached over its unix socket.
#[derive(Debug)]
pub struct Engine {
    socket: PathBuf,
    /// Connected on first use with the API version negotiated (dockerd 20.10 speaks 1.41);
    /// a failed attempt is tried again on the next call.
    docker: OnceCell<Docker>,
}

impl Engine {
    pub fn new(socket: &Path) -> Self {
        Engine {
            socket: socket.to_owned(),
            docker: OnceCell::new(),
        }
    }

    /// The engine answers `/_ping` with "OK".
    pub fn ping(&self) -> Result<(), LabError> {
        self.call("ping", QUICK, async |d| match d.ping().await? {
            ok if ok == "OK" => Ok(()),
            other => Err(DockerError::Engine(format!("unexpected answer {other:?}"))),
        })
    }

    /// `docker import` of a root filesystem tar as `repo:tag`, with Dockerfile-style `changes`.
    pub fn import(
        &self,
        tar: &[u8],
        repo: &str,
        tag: &str,
        changes: &[String],
    ) -> Result<(), LabError> {
        let options = CreateImageOptions {
            from_src: Some("-".to_owned()),
            repo: Some(repo.to_owned()),
            tag: Some(tag.to_owned()),
            changes: changes.to_vec(),
            ..Default::default()
        };
        let body = bollard::body_full(tar.to_vec().into());
        self.call(&format!("import {repo}:{tag}"), SLOW, async |d| {
            // Errors after the headers arrive inside the progress stream; bollard raises them.
            d.create_image(Some(options), Some(body), None)
                .try_collect::<Vec<_>>()
                .await?;
            Ok(())
        })
    }

    /// Every `repo:tag` the engine holds.
    pub fn image_tags(&self) -> Result<Vec<String>, LabError> {
        self.call("list images", SLOW, async |d| {
            let images = d.list_images(None::<ListImagesOptions>).await?;
            Ok(images.into_iter().flat_map(|i| i.repo_tags).collect())
        })
    }

    /// Creates and starts a container named `name`; returns its id.
    pub fn run(&self, name: &str, config: ContainerCreateBody) -> Result<String, LabError> {
        let options = CreateContainerOptions {
            name: Some(name.to_owned()),
            ..Default::default()
        };
        self.call(&format!("run {name}"), SLOW, async |d| {
            let id = d.create_container(Some(options), config).await?.id;
            d.start_container(&id, None).await?;
            Ok(id)
        })
    }

    /// Ids of all containers (running or not) carrying `label` (`key=value`).
    pub fn containers_with_label(&self, label: &str) -> Result<Vec<String>, LabError> {
        let options = ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([(
                "label".to_owned(),
                vec![label.to_owned()],
            )])),
            ..Default::default()
        };
        self.call(&format!("list containers {label}"), SLOW, async |d| {
            let list = d.list_containers(Some(options)).await?;
            Ok(list.into_iter().filter_map(|c| c.id).collect())
        })
    }

    pub fn remove_container(&self, id: &str) -> Result<(), LabError> {
        let options = RemoveContainerOptions {
            force: true,
            ..Default::default()
        };
        self.call(&format!("remove container {id}"), SLOW, async |d| {
            Ok(d.remove_container(id, Some(options)).await?)
        })
    }

    /// Runs `op` on the connected client within `limit`; a failure names the engine and `what`.
    fn call<T: Send>(
        &self,
        what: &str,
        limit: Duration,
        op: impl AsyncFnOnce(&Docker) -> Result<T, DockerError> + Send,
    ) -> Result<T, LabError> {
        let answer = block_on(|| async {
            tokio::time::timeout(limit, async { op(self.docker().await?).await })
                .await
                .unwrap_or_else(|_| {
                    Err(DockerError::Engine(format!(
                        "no answer within {}s",
                        limit.as_secs()
                    )))
                })
        })?;
        answer.map_err(|e| {
            LabError::engine(
                format!("engine at {}", self.socket.display()),
                format!("{what}: {e}"),
            )
        })
    }

    async fn docker(&self) -> Result<&Docker, DockerError> {
        self.docker
            .get_or_try_init(async || {
                let spec = HostSpec {
                    name: self.socket.display().to_string(),
                    engine: format!("unix://{}", self.socket.display()),
                    address: None,
                    zone: None,
                    labels: BTreeMap::new(),
                    tls: None,
                };
                // Imports and container starts may take long on a loaded machine.
                Ok(docker::connect(&spec).await?.with_timeout(SLOW))
            })
            .await
    }
}

/// One plain HTTP GET, e.g. to a demo container: (status, body).
pub fn http_get(addr: &str, path: &str) -> Result<(u16, String), LabError> {
    let url = format!("http://{addr}{path}");
    let http = &io()?.http;
    let answer = block_on(|| async {
        let resp = http.get(&url).send().await?;
        let status = resp.status().as_u16();
        Ok::<_, reqwest::Error>((status, resp.text().await?))
    })?;
    answer.map_err(|e| LabError::engine(format!("GET {url}"), docker::describe_cause(&e)))
}

/// What the lab's blocking calls share: a runtime and an HTTP client.
struct Io {
    runtime: Runtime,
    http: reqwest::Client,
}

static IO: LazyLock<Result<Io, String>> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("wheelhouse-lab")
        .enable_all()
        .build()
        .map_err(|e| format!("start the lab's runtime: {e}"))?;
    // No proxy: the demo servers are on loopback. No idle connections: a demo container
    // may be gone by the next request, and a stale pooled connection would fail it.
    let http = crate::agent::client::builder()
        .timeout(QUICK)
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| format!("build the lab's HTTP client: {e}"))?;
    Ok(Io { runtime, http })
});

fn io() -> Result<&'static Io, LabError> {
    IO.as_ref().map_err(|e| LabError::Invalid(e.clone()))
}

/// Runs the future `task` makes on the lab's runtime. A thread already inside a runtime (an
/// async test) must not block on another one, so there the task runs on a thread of its own.
fn block_on<F: Future>(task: impl FnOnce() -> F + Send) -> Result<F::Output, LabError>
where
    F::Output: Send,
{
    let runtime = &io()?.runtime;
    if tokio::runtime::Handle::try_current().is_err() {
        return Ok(runtime.block_on(task()));
    }
    std::thread::scope(|s| s.spawn(|| runtime.block_on(task())).join())
        .map_err(|_| LabError::Invalid("a lab engine call panicked".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls_fail_with_clear_messages() {
        let engine = Engine::new(Path::new("/nonexistent/docker.sock"));
        let err = engine.ping().unwrap_err().to_string();
        assert_eq!(
            err,
            "engine at /nonexistent/docker.sock: ping: no socket at /nonexistent/docker.sock"
        );
        // Nothing listens on port 1.
        let err = http_get("127.0.0.1:1", "/x").unwrap_err().to_string();
        assert_eq!(err, "GET http://127.0.0.1:1/x: connection refused");
    }

    #[test]
    fn calls_block_without_a_runtime() {
        calls_fail_with_clear_messages();
    }

    /// Blocking on the lab's runtime from inside another would panic.
    #[tokio::test]
    async fn calls_block_inside_a_runtime() {
        calls_fail_with_clear_messages();
    }
}
