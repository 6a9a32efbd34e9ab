//! One etcd client shared by every watcher of a process: its watches ride one connection,
//! and an outage costs one reconnect, not one per watcher.

use super::connect::connect;
use super::error::StoreError;
use crate::config::EtcdConfig;
use etcd_client::Client;
use std::sync::Arc;
use tokio::sync::Mutex;

/// A handle on the process's etcd client; clones share it.
#[derive(Clone)]
pub struct EtcdLink {
    cfg: Arc<EtcdConfig>,
    /// The client and its generation; None until a connect succeeds, and after `lost`.
    client: Arc<Mutex<(u64, Option<Client>)>>,
}

impl EtcdLink {
    pub fn new(cfg: EtcdConfig) -> EtcdLink {
        EtcdLink {
            cfg: Arc::new(cfg),
            client: Arc::new(Mutex::new((0, None))),
        }
    }

    pub fn config(&self) -> &EtcdConfig {
        &self.cfg
    }

    /// The shared client with its generation, connecting first if there is none. The
    /// lock is held while connecting, so watchers that fail together reconnect once.
    pub async fn client(&self) -> Result<(u64, Client), StoreError> {
        let mut slot = self.client.lock().await;
        if let Some(client) = &slot.1 {
            return Ok((slot.0, client.clone()));
        }
        let client = connect(&self.cfg).await?;
        slot.0 += 1;
        slot.1 = Some(client.clone());
        Ok((slot.0, client))
    }

    /// The client of `generation` failed: the next `client` connects afresh (unless a
    /// newer one is already there).
    pub async fn lost(&self, generation: u64) {
        let mut slot = self.client.lock().await;
        if slot.0 == generation {
            slot.1 = None;
        }
    }
}

impl std::fmt::Debug for EtcdLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdLink")
            .field("endpoints", &self.cfg.endpoints)
            .finish_non_exhaustive()
    }
}

impl From<EtcdConfig> for EtcdLink {
    fn from(cfg: EtcdConfig) -> EtcdLink {
        EtcdLink::new(cfg)
    }
}
