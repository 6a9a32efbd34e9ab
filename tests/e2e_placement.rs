//! The real binary in tmux against a real lab with a controller (address base 76): the
//! Apps panel marks an app whose instances cannot all be placed (⚠, with the reason host
//! by host) and an app whose record in etcd is broken (✗, with why), and clears the
//! placement mark once everything fits.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::lab::{BIN, Controller, ctl_ok as ctl, spec_file};
use common::tmux::{Tmux, quote};
use std::time::Duration;
use wheelhouse::config::EtcdConfig;
use wheelhouse::lab::TestLab;
use wheelhouse::store;

fn apply(lab: &TestLab, name: &str, text: &str) {
    let spec = spec_file(lab.dir(), name, text);
    ctl(
        &lab.config_path(),
        &["apply", "-f", &spec.to_string_lossy()],
    );
}

#[test]
fn the_apps_panel_says_why_an_app_cannot_be_placed_or_read() {
    let lab = TestLab::up(3).expect("lab up");
    let config = lab.config_path();
    let _controller = Controller::start(&config, &lab.dir().join("controller.log"));
    let fat = |n: u32| {
        format!(
            "name = \"fat\"\nimage = \"wheelhouse/demo:1\"\ninstances = {n}\ncpus = 1.9\nports = [\"http\"]\n"
        )
    };
    apply(&lab, "fat", &fat(4));
    apply(
        &lab,
        "s4",
        "name = \"s4\"\nimage = \"wheelhouse/demo:1\"\ninstances = 1\nports = [\"http\"]\n",
    );

    let tmux = Tmux::start("placement", 160, 30);
    tmux.run_line(&format!(
        "{} --config {} --log-file {}",
        quote(BIN.as_ref()),
        quote(&config),
        quote(&lab.dir().join("e2e-placement.log")),
    ));
    let screen = tmux.wait_for("fat marked unplaced", Duration::from_secs(60), |s| {
        s.contains("⚠ fat") && s.contains("1 unplaced: lab-1: cpu")
    });
    assert!(!screen.contains("✗"), "{screen}");

    // A record overwritten with garbage: s4 stays, marked broken with the reason.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let cfg = EtcdConfig {
            endpoints: vec![lab.etcd_endpoint()],
            ..EtcdConfig::default()
        };
        let mut client = store::connect(&cfg).await.expect("etcd");
        let key = store::app_key("/wheelhouse", "s4");
        client
            .put(key, r#"{"name":"s4","image":"#, None)
            .await
            .expect("corrupt s4");
    });
    tmux.wait_for("s4 marked broken", Duration::from_secs(20), |s| {
        s.contains("✗ s4") && s.contains("broken record: app spec")
    });

    // Once everything fits, the mark goes.
    apply(&lab, "fat", &fat(1));
    tmux.wait_for("fat placed", Duration::from_secs(30), |s| {
        !s.contains("⚠ fat") && s.contains(" fat ")
    });
    tmux.keys(&["q"]);
}
