//! An etcd-only lab and clients of its etcd.

use wheelhouse::config::EtcdConfig;
use wheelhouse::lab::TestLab;
use wheelhouse::store;

/// An etcd-only lab (the lab's calls block, so they run off the runtime's workers).
pub fn lab() -> TestLab {
    match tokio::task::block_in_place(|| TestLab::up(0)) {
        Ok(lab) => lab,
        Err(e) => panic!("lab up: {e}"),
    }
}

/// The etcd settings for one endpoint, without auth or TLS.
pub fn cfg(endpoint: &str) -> EtcdConfig {
    EtcdConfig {
        endpoints: vec![endpoint.to_owned()],
        ..EtcdConfig::default()
    }
}

/// A connected client of `endpoint`.
pub async fn client(endpoint: &str) -> etcd_client::Client {
    match store::connect(&cfg(endpoint)).await {
        Ok(c) => c,
        Err(e) => panic!("connect {endpoint}: {e}"),
    }
}
