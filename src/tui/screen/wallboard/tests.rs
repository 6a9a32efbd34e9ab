use super::*;
use crate::cluster::AppRecord;
use crate::cluster::Host;
use crate::cluster::Rollout;
use crate::domain::Health;
use crate::domain::app::{AppSpec, UpdatePolicy};
use crate::plan::labels;
use crate::plan::rollout::RolloutState;
use crate::tui::update::tests::support::web_container;

fn host(name: &str, state: HostState) -> Host {
    let mut h = crate::tui::update::tests::support::host(name);
    h.state = state;
    h
}

fn offline(now: Instant) -> HostState {
    HostState::Offline {
        error: "gone".into(),
        since: now,
    }
}

/// lab-1 online with 3 web instances (one unhealthy), lab-2 and lab-3 offline; web wants 6.
fn cluster() -> Screen {
    let now = Instant::now();
    let mut h1 = host("lab-1", HostState::Online);
    h1.containers = vec![
        web_container("a", Health::Healthy),
        web_container("b", Health::None),
        web_container("c", Health::Unhealthy),
    ];
    let mut m = Screen::with_hosts(
        now,
        vec![h1, host("lab-2", offline(now)), host("lab-3", offline(now))],
    );
    let mut spec = AppSpec::new("web", "wheelhouse/demo:1");
    spec.instances = 6;
    m.cluster_mut()
        .apps
        .insert("web".into(), AppRecord { spec, revision: 3 });
    m
}

#[test]
fn pages_cycle_on_the_interval_and_wrap() {
    let start = Instant::now();
    let mut w = Wallboard::new(Duration::from_secs(10), start);
    assert_eq!(w.page, Page::Grid);
    assert!(!w.advance(start + Duration::from_secs(9)));
    assert_eq!(w.page, Page::Grid);
    assert!(w.advance(start + Duration::from_secs(10)));
    assert_eq!(w.page, Page::Apps);
    // The interval counts from when the page came up, not from the start.
    assert!(!w.advance(start + Duration::from_secs(19)));
    assert!(w.advance(start + Duration::from_secs(20)));
    assert_eq!(w.page, Page::Alerts);
    assert!(w.advance(start + Duration::from_secs(30)));
    assert_eq!(w.page, Page::Grid);
}

#[test]
fn a_zero_interval_stays_on_the_grid() {
    let start = Instant::now();
    let mut w = Wallboard::new(Duration::ZERO, start);
    assert!(!w.advance(start + Duration::from_secs(3600)));
    assert_eq!(w.page, Page::Grid);
}

#[test]
fn clock_shows_the_zone_time_and_changes_mark_a_redraw() {
    let at = UNIX_EPOCH + Duration::from_secs(86_400 * 3 + 14 * 3600 + 3 * 60 + 7);
    let utc = Zone::utc();
    assert_eq!(clock_text(at, &utc), "14:03:07 UTC");
    let east = Zone {
        offset: 11 * 3600,
        name: "AEDT".into(),
    };
    assert_eq!(clock_text(at, &east), "01:03:07 AEDT", "past midnight");
    let west = Zone {
        offset: -(15 * 3600 + 30 * 60),
        name: "-1530".into(),
    };
    assert_eq!(clock_text(at, &west), "22:33:07 -1530", "the day before");
    let mut w = Wallboard::new(Duration::from_secs(1), Instant::now());
    assert!(w.set_clock(clock_text(at, &utc)));
    assert!(!w.set_clock(clock_text(at, &utc)));
    assert!(w.set_clock(clock_text(at + Duration::from_secs(1), &utc)));
}

#[test]
fn alerts_name_offline_hosts_and_apps_below_their_count() {
    let m = cluster();
    let found = alerts(&m);
    assert_eq!(
        found,
        [
            Alert::HostOffline {
                host: "lab-2".into()
            },
            Alert::HostOffline {
                host: "lab-3".into()
            },
            Alert::BelowDesired {
                app: "web".into(),
                healthy: 2,
                desired: 6
            },
            Alert::Unhealthy {
                container: "web.c".into(),
                host: "lab-1".into()
            },
        ]
    );
    assert_eq!(
        banner_text(&found).as_deref(),
        Some("2 hosts offline · 1 unhealthy · web 2/6")
    );
    assert_eq!(found[2].text(), "app web: 2/6 healthy");
}

#[test]
fn a_healthy_cluster_has_no_alerts_and_no_banner() {
    let mut m = cluster();
    m.cluster_mut()
        .hosts
        .retain(|h| h.state == HostState::Online);
    for host in m
        .cluster_mut()
        .hosts
        .iter_mut()
        .map(std::sync::Arc::make_mut)
    {
        host.containers.retain(|c| c.health != Health::Unhealthy);
    }
    if let Some(r) = m.cluster_mut().apps.get_mut("web") {
        r.spec.instances = 2;
    }
    assert_eq!(alerts(&m), []);
    assert_eq!(banner_text(&[]), None);
}

#[test]
fn an_unhealthy_instance_alerts_though_the_app_has_its_count() {
    let mut m = cluster();
    m.cluster_mut()
        .hosts
        .retain(|h| h.state == HostState::Online);
    if let Some(r) = m.cluster_mut().apps.get_mut("web") {
        r.spec.instances = 2;
    }
    let found = alerts(&m);
    assert_eq!(
        found,
        [Alert::Unhealthy {
            container: "web.c".into(),
            host: "lab-1".into()
        }]
    );
    assert_eq!(found[0].text(), "container web.c on lab-1 unhealthy");
    assert_eq!(banner_text(&found).as_deref(), Some("1 unhealthy"));
}

#[test]
fn paused_failed_and_rolled_back_rollouts_alert_but_progressing_ones_do_not() {
    let mut m = cluster();
    m.cluster_mut()
        .hosts
        .retain(|h| h.state == HostState::Online);
    std::sync::Arc::make_mut(&mut m.cluster_mut().hosts[0])
        .containers
        .clear();
    m.cluster_mut().apps.clear();
    let spec = AppSpec::new("web", "wheelhouse/demo:2");
    let rollout = |phase: Phase| {
        let mut state = RolloutState::new(
            "web",
            1,
            labels::revision(&spec),
            2,
            UpdatePolicy::default(),
            &Default::default(),
            0,
        );
        state.phase = phase;
        Rollout {
            state,
            from_spec: None,
            to_spec: spec.clone(),
        }
    };
    m.cluster_mut()
        .rollouts
        .insert("web".into(), rollout(Phase::Progressing));
    assert_eq!(alerts(&m), []);
    m.cluster_mut().rollouts.insert(
        "web".into(),
        rollout(Phase::Paused {
            reason: "operator".into(),
        }),
    );
    let found = alerts(&m);
    assert_eq!(
        found,
        [Alert::Rollout {
            app: "web".into(),
            phase: "paused"
        }]
    );
    assert_eq!(banner_text(&found).as_deref(), Some("rollout web paused"));
    m.cluster_mut().rollouts.insert(
        "web".into(),
        rollout(Phase::Failed {
            reason: "unhealthy".into(),
        }),
    );
    crate::tui::screen::note_finished(&mut m);
    assert_eq!(alerts(&m).len(), 1);
    // A rollout that just rolled back alerts, for a while.
    m.cluster_mut().rollouts.insert(
        "web".into(),
        rollout(Phase::RolledBack {
            reason: "unhealthy".into(),
        }),
    );
    crate::tui::screen::note_finished(&mut m);
    assert_eq!(
        alerts(&m),
        [Alert::Rollout {
            app: "web".into(),
            phase: "rolled back"
        }]
    );
    m.now += crate::tui::screen::LINGER;
    assert_eq!(alerts(&m), [], "gone once it has been shown for a while");
}
