//! A three-member etcd (`lab up --etcd 3`): the config lists every member, and when the
//! leader is killed while the controller runs a rollout and an operator scales, the
//! rollout finishes, the scale is applied or refused clearly, and nothing is lost.
//! Prints how long writes failed, as a client with every endpoint (ctl, the cockpit) and
//! the controller saw it.

// Tests may unwrap, expect and panic by design: a failed step fails the test. clippy.toml
// lets only #[test] and #[cfg(test)] code do so, not the helpers of an integration test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::lab::{ctl, running_images, wait_rollout, wait_until, web_under_controller};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wheelhouse::config::{Config, EtcdConfig};
use wheelhouse::lab::TestLab;
use wheelhouse::store;

/// Writes a probe key every 50 ms through a client that knows every endpoint (as ctl and
/// the cockpit do), recording when each write ended and whether it succeeded.
fn probe_writes(
    endpoints: Vec<String>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<(Instant, bool)>> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            let cfg = EtcdConfig {
                endpoints,
                ..EtcdConfig::default()
            };
            let mut client = store::connect(&cfg).await.expect("probe connects");
            let mut samples = Vec::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let put = client.put("/probe/write", n.to_string(), None);
                let ok = matches!(
                    tokio::time::timeout(Duration::from_secs(1), put).await,
                    Ok(Ok(_))
                );
                samples.push((Instant::now(), ok));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            samples
        })
    })
}

/// From the kill to the first write that succeeded after it, and to the last that failed.
fn unwritable_for(samples: &[(Instant, bool)], kill: Instant) -> (Duration, Duration) {
    let after: Vec<&(Instant, bool)> = samples.iter().filter(|(at, _)| *at > kill).collect();
    let first_ok = after
        .iter()
        .find(|(_, ok)| *ok)
        .map_or(Duration::MAX, |(at, _)| at.duration_since(kill));
    let last_failed = after
        .iter()
        .rev()
        .find(|(_, ok)| !*ok)
        .map_or(Duration::ZERO, |(at, _)| at.duration_since(kill));
    (first_ok, last_failed)
}

#[test]
fn the_etcd_leader_dies_during_a_rollout_and_a_scale_and_nothing_is_lost() {
    let mut lab = TestLab::up_etcd_cluster(3, 3).expect("lab up");
    let config = lab.config_path();
    let endpoints = lab.etcd_endpoints();
    assert_eq!(endpoints.len(), 3);
    let text = std::fs::read_to_string(&config).expect("config");
    let parsed = Config::parse(&config, &text).expect("config parses");
    assert_eq!(parsed.etcd.expect("etcd").endpoints, endpoints);
    let names: Vec<String> = lab.status().into_iter().map(|(n, _, _)| n).collect();
    assert_eq!(&names[..3], ["etcd-1", "etcd-2", "etcd-3"]);

    let _controller = web_under_controller(&lab, 4, "2s");
    let log = lab.dir().join("controller.log");
    wait_until("4 instances of demo:1", Duration::from_secs(90), || {
        let images = running_images(&lab, "web");
        (images != ["wheelhouse/demo:1"; 4]).then(|| format!("{images:?}"))
    });

    let stop = Arc::new(AtomicBool::new(false));
    let probe = probe_writes(endpoints, Arc::clone(&stop));
    ctl(&config, &["rollout", "web", "wheelhouse/demo:2"]).ok();
    wait_rollout(&config, "web", "web: progressing", Duration::from_secs(30));

    // The leader dies; at once an operator scales.
    let leader = lab.etcd_leader().expect("a leader");
    let kill = Instant::now();
    lab.kill_etcd_member(leader).expect("kill the leader");
    let scale = ctl(&config, &["scale", "web", "5"]);
    let scale_took = kill.elapsed();
    let refused = match scale.code {
        0 => None,
        1 => {
            // Refused: it says why (etcd's answer) in a line, and wrote nothing; the
            // operator repeats it and it is applied.
            let why = scale.stderr.trim().to_owned();
            assert!(why.contains("etcd"), "{why}");
            assert!(!why.contains("panicked"), "{why}");
            ctl(&config, &["scale", "web", "5"]).ok();
            Some(why)
        }
        code => panic!("scale exited {code}:\n{}\n{}", scale.stdout, scale.stderr),
    };
    let want = 5;

    wait_rollout(&config, "web", "web: succeeded", Duration::from_secs(180));
    wait_until("every instance on demo:2", Duration::from_secs(90), || {
        let images = running_images(&lab, "web");
        (images != vec!["wheelhouse/demo:2"; want]).then(|| format!("{images:?}"))
    });
    let spec = ctl(&config, &["get", "web"]).ok().to_owned();
    assert!(spec.contains("wheelhouse/demo:2"), "{spec}");
    assert!(spec.contains(&format!("instances = {want}")), "{spec}");

    // Writes go on for a while after the kill, so failures that linger show.
    let window = Duration::from_secs(15);
    std::thread::sleep(window.saturating_sub(kill.elapsed()));
    stop.store(true, Ordering::Relaxed);
    let samples = probe.join().expect("probe");
    let (gap, last_failed) = unwritable_for(&samples, kill);
    let failed = samples.iter().filter(|(at, ok)| *at > kill && !ok).count();
    // A dead member leaves the client's balancer: no failures long after the kill.
    assert!(
        gap < Duration::from_secs(5) && last_failed < Duration::from_secs(5),
        "writes failed for {gap:?}, the last {last_failed:?} after the kill"
    );
    // The dead member comes back with its data and rejoins: every member is healthy.
    assert_eq!(
        lab.repair().expect("repair"),
        [format!("etcd-{}", leader + 1)]
    );
    let members = lab.status();
    assert!(
        members[..3]
            .iter()
            .all(|(_, alive, detail)| *alive && detail.ends_with("healthy")),
        "{members:?}"
    );
    let controller_log = std::fs::read_to_string(&log).unwrap_or_default();
    let etcd_lines: Vec<&str> = controller_log
        .lines()
        .filter(|l| l.contains("etcd") || l.contains("leader"))
        .collect();
    eprintln!(
        "etcd leader (member {}) killed: client writes failed for {:.2}s (first success), \
         last failure {:.2}s after the kill, {failed} of {} writes failed; ctl scale {} in {:.2}s \
         ({}); controller log lines about etcd/leadership:\n{}",
        leader + 1,
        gap.as_secs_f64(),
        last_failed.as_secs_f64(),
        samples.iter().filter(|(at, _)| *at > kill).count(),
        if refused.is_some() {
            "refused"
        } else {
            "applied"
        },
        scale_took.as_secs_f64(),
        refused.unwrap_or_default(),
        etcd_lines.join("\n")
    );
}
