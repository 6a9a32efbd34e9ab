use super::*;
use crate::cluster::{ClusterEvent, DataEvent, HostEvent};
use crate::cluster::{EtcdEvent, EtcdState, HostSource, HostState};
use crate::cluster::{HostChange, HostListing};
use crate::domain::{Container, Health, HostInfo};
use crate::tui::update::hear;
use std::time::Duration;
use support::{act, host_spec as spec, screen};

pub(crate) mod support;

fn container(id: &str) -> Container {
    Container {
        id: id.into(),
        name: format!("c-{id}"),
        image: "wheelhouse/demo:1".into(),
        state: "running".into(),
        status: "Up".into(),
        health: Health::None,
        labels: Default::default(),
        cpu_percent: None,
        mem_bytes: None,
        ports: Vec::new(),
        restarts: None,
        last_check: None,
    }
}

#[test]
fn hosts_stay_sorted_by_name() {
    let m = screen(&["c", "a", "b"]);
    let names: Vec<_> = m.cluster.hosts.iter().map(|h| h.name()).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
fn selection_moves_in_the_grid_and_stops_at_edges() {
    let mut m = screen(&["a", "b", "c"]);
    act(&mut m, Action::MoveRight);
    assert_eq!(m.ui.selected, 1);
    act(&mut m, Action::MoveRight);
    act(&mut m, Action::MoveRight);
    assert_eq!(m.ui.selected, 2);
    act(&mut m, Action::First);
    act(&mut m, Action::MoveLeft);
    assert_eq!(m.ui.selected, 0);
    act(&mut m, Action::Last);
    assert_eq!(m.ui.selected, 2);
}

#[test]
fn up_and_down_move_by_a_grid_row() {
    let names: Vec<String> = (0..300).map(|i| format!("h{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut m = screen(&refs);
    let (columns, _) = m.ui.geometry.grid(300);
    assert!(columns > 1);
    act(&mut m, Action::MoveDown);
    assert_eq!(m.ui.selected, columns);
    act(&mut m, Action::MoveUp);
    assert_eq!(m.ui.selected, 0);
    act(&mut m, Action::MoveUp);
    assert_eq!(m.ui.selected, 0, "up from the first row stays");
}

#[test]
fn step_handles_empty_and_partial_rows() {
    assert_eq!(step(0, 0, 4, 8, &Action::MoveDown), 0);
    // 10 items, 4 wide: from index 7 (row 1) down would be 11 > 9: stay.
    assert_eq!(step(7, 10, 4, 8, &Action::MoveDown), 7);
    assert_eq!(step(5, 10, 4, 8, &Action::MoveDown), 9);
    assert_eq!(step(9, 10, 4, 8, &Action::PageUp), 1);
    assert_eq!(step(1, 10, 4, 8, &Action::PageDown), 9);
    assert_eq!(
        step(50, 10, 4, 8, &Action::MoveLeft),
        8,
        "a stale index is clamped"
    );
}

#[test]
fn open_and_back() {
    let mut m = screen(&["a", "b"]);
    act(&mut m, Action::MoveRight);
    act(&mut m, Action::Open);
    assert_eq!(m.ui.view, View::Host("b".into()));
    act(&mut m, Action::Back);
    assert_eq!(m.ui.view, View::Grid);
    assert_eq!(m.ui.selected, 1, "selection survives a round trip");
}

#[test]
fn open_on_an_empty_grid_does_nothing() {
    let mut m = screen(&[]);
    act(&mut m, Action::Open);
    assert_eq!(m.ui.view, View::Grid);
}

#[test]
fn help_is_modal() {
    let mut m = screen(&["a", "b"]);
    act(&mut m, Action::ToggleHelp);
    assert!(m.ui.help);
    act(&mut m, Action::MoveRight);
    assert!(!m.ui.help, "any key closes help");
    assert_eq!(
        m.ui.selected, 0,
        "the key that closed help did nothing else"
    );
    act(&mut m, Action::ToggleHelp);
    act(&mut m, Action::Quit);
    assert!(!m.ui.help && !m.quit, "q closes help too: any key does");
}

#[test]
fn moving_keys_close_help_unless_it_scrolls() {
    let mut m = screen(&["a", "b"]);
    for key in [
        Action::MoveDown,
        Action::MoveUp,
        Action::PageDown,
        Action::First,
    ] {
        act(&mut m, Action::ToggleHelp);
        act(&mut m, key.clone());
        assert!(!m.ui.help, "{key:?} closes help that fits");
    }
    act(&mut m, Action::ToggleHelp);
    m.ui.geometry.help_scrolls_grid = true;
    act(&mut m, Action::MoveDown);
    act(&mut m, Action::PageDown);
    assert!(m.ui.help, "scrolling help scrolls");
    assert_eq!(m.ui.help_scroll, 11);
    act(&mut m, Action::MoveRight);
    assert!(!m.ui.help, "any other key closes it");
}

#[test]
fn host_up_down_and_back() {
    let mut m = screen(&["a"]);
    assert_eq!(m.cluster.hosts[0].state, HostState::Unknown);
    let info = HostInfo {
        ncpu: 2,
        mem_total: 1 << 30,
        ..Default::default()
    };
    hear(
        &mut m,
        ClusterEvent::Engine(DataEvent::Up {
            host: "a".into(),
            info,
        }),
    );
    assert_eq!(m.cluster.hosts[0].state, HostState::Online);
    assert!(m.cluster.last_data.is_some());
    let t0 = m.now;
    update(&mut m, Msg::Tick(t0 + Duration::from_secs(3)));
    hear(
        &mut m,
        ClusterEvent::Engine(DataEvent::Down {
            host: "a".into(),
            error: "refused".into(),
        }),
    );
    update(&mut m, Msg::Tick(t0 + Duration::from_secs(5)));
    hear(
        &mut m,
        ClusterEvent::Engine(DataEvent::Down {
            host: "a".into(),
            error: "timeout".into(),
        }),
    );
    match &m.cluster.hosts[0].state {
        HostState::Offline { error, since } => {
            assert_eq!(error, "timeout");
            assert_eq!(
                *since,
                t0 + Duration::from_secs(3),
                "first failure time is kept"
            );
        }
        other => panic!("expected offline, got {other:?}"),
    }
    assert_eq!(
        m.cluster.hosts[0].load(),
        None,
        "an offline host has no load"
    );
}

#[test]
fn stats_fill_in_load() {
    let mut m = screen(&["a"]);
    let info = HostInfo {
        ncpu: 2,
        mem_total: 1000,
        ..Default::default()
    };
    hear(
        &mut m,
        ClusterEvent::Engine(DataEvent::Up {
            host: "a".into(),
            info,
        }),
    );
    hear(
        &mut m,
        ClusterEvent::Engine(DataEvent::Containers {
            host: "a".into(),
            containers: vec![container("x"), container("y")],
        }),
    );
    for (id, cpu, mem) in [("x", 150.0, 100), ("y", 10.0, 800)] {
        hear(
            &mut m,
            ClusterEvent::Engine(DataEvent::Stats {
                host: "a".into(),
                id: id.into(),
                cpu_percent: cpu,
                mem_bytes: mem,
            }),
        );
    }
    let load = m.cluster.hosts[0].load().expect("online with info");
    assert!((load.cpu - 80.0).abs() < 1e-9, "{load:?}");
    assert!((load.mem - 90.0).abs() < 1e-9, "{load:?}");
    assert!((load.score() - 90.0).abs() < 1e-9);
    // Stats for an unknown container or host change nothing and do not panic.
    hear(
        &mut m,
        ClusterEvent::Engine(DataEvent::Stats {
            host: "zz".into(),
            id: "x".into(),
            cpu_percent: 1.0,
            mem_bytes: 1,
        }),
    );
    hear(
        &mut m,
        ClusterEvent::Engine(DataEvent::Stats {
            host: "a".into(),
            id: "zz".into(),
            cpu_percent: 1.0,
            mem_bytes: 1,
        }),
    );
    assert_eq!(m.cluster.hosts[0].containers.len(), 2);
}

#[test]
fn container_row_is_clamped_when_containers_go() {
    let mut m = screen(&["a"]);
    let list = (0..5).map(|i| container(&i.to_string())).collect();
    hear(
        &mut m,
        ClusterEvent::Engine(DataEvent::Containers {
            host: "a".into(),
            containers: list,
        }),
    );
    act(&mut m, Action::Open);
    act(&mut m, Action::Last);
    assert_eq!(m.ui.selected_row, 4);
    hear(
        &mut m,
        ClusterEvent::Engine(DataEvent::Containers {
            host: "a".into(),
            containers: vec![container("0")],
        }),
    );
    assert_eq!(m.ui.selected_row, 0);
}

#[test]
fn etcd_records_merge_with_the_config_inventory() {
    let mut m = screen(&["a"]);
    let mut a = spec("a");
    a.zone = Some("z1".into());
    hear(
        &mut m,
        ClusterEvent::Hosts(HostEvent::Snapshot(HostListing {
            records: vec![a.clone(), spec("b")],
            broken: Vec::new(),
            revision: 7,
        })),
    );
    assert_eq!(
        m.cluster.host("a").map(|h| h.source),
        Some(HostSource::Both)
    );
    assert_eq!(
        m.cluster.host("a").and_then(|h| h.spec.zone.clone()),
        Some("z1".into())
    );
    assert_eq!(
        m.cluster.host("b").map(|h| h.source),
        Some(HostSource::Etcd)
    );

    // A new engine URL: the host is unknown until its new supervisor (the feed's) speaks.
    let mut moved = spec("b");
    moved.engine = "tcp://10.0.0.9:2375".into();
    hear(
        &mut m,
        ClusterEvent::Hosts(HostEvent::Change(HostChange::Put {
            record: moved.clone(),
            revision: 8,
        })),
    );
    assert_eq!(m.cluster.host("b").map(|h| &h.spec), Some(&moved));

    // Deleting an etcd-only host drops it; deleting a merged one keeps it.
    hear(
        &mut m,
        ClusterEvent::Hosts(HostEvent::Change(HostChange::Deleted {
            name: "b".into(),
            revision: 9,
        })),
    );
    assert!(m.cluster.host("b").is_none());
    hear(
        &mut m,
        ClusterEvent::Hosts(HostEvent::Change(HostChange::Deleted {
            name: "a".into(),
            revision: 10,
        })),
    );
    assert_eq!(
        m.cluster.host("a").map(|h| h.source),
        Some(HostSource::Config)
    );
}

#[test]
fn a_fresh_snapshot_drops_records_deleted_while_away() {
    let mut m = screen(&[]);
    hear(
        &mut m,
        ClusterEvent::Hosts(HostEvent::Snapshot(HostListing {
            records: vec![spec("x"), spec("y")],
            broken: Vec::new(),
            revision: 3,
        })),
    );
    m.ui.selected = 1;
    hear(
        &mut m,
        ClusterEvent::Hosts(HostEvent::Snapshot(HostListing {
            records: vec![spec("x")],
            broken: Vec::new(),
            revision: 9,
        })),
    );
    assert_eq!(m.cluster.hosts.len(), 1);
    assert_eq!(m.ui.selected, 0, "selection clamped to the remaining hosts");
}

#[test]
fn unreachable_etcd_keeps_its_first_failure_time() {
    let mut m = screen(&["a"]);
    let t0 = m.now;
    hear(
        &mut m,
        ClusterEvent::Etcd(EtcdEvent::Unreachable {
            error: "refused".into(),
        }),
    );
    update(&mut m, Msg::Tick(t0 + Duration::from_secs(4)));
    hear(
        &mut m,
        ClusterEvent::Etcd(EtcdEvent::Unreachable {
            error: "refused again".into(),
        }),
    );
    assert!(matches!(&m.cluster.etcd, EtcdState::Unreachable { since, .. } if *since == t0));
    assert_eq!(m.cluster.hosts.len(), 1, "the engines' data stays");
}

#[test]
fn ticks_mark_dirty_once_a_second() {
    let mut m = screen(&["a"]);
    m.dirty = false;
    let t0 = m.now;
    update(&mut m, Msg::Tick(t0 + Duration::from_millis(300)));
    assert!(!m.dirty);
    update(&mut m, Msg::Tick(t0 + Duration::from_millis(1100)));
    assert!(m.dirty);
}

#[test]
fn ctrl_s_saves_into_the_data_dir_and_export_dir_where_named() {
    let mut m = screen(&["a"]);
    assert_eq!(
        act(&mut m, Action::ExportScreen),
        [Effect::ExportScreen(None)]
    );
    assert_eq!(
        act(&mut m, Action::ExportTo("/tmp/x".into())),
        [Effect::ExportScreen(Some("/tmp/x".into()))]
    );
    let dir = crate::tui::export::default_dir();
    assert!(dir.ends_with("wheelhouse/screens"), "{}", dir.display());
    assert_ne!(std::env::current_dir().ok(), Some(dir));
}

#[test]
fn the_wallboard_turns_its_page_and_shows_the_clock_on_wall_clock_ticks() {
    use crate::tui::screen::wallboard::{Page, Wallboard};
    let mut m = screen(&["a"]);
    let t0 = m.now;
    m.wallboard = Some(Wallboard::new(Duration::from_secs(10), t0));
    m.dirty = false;
    let tick = |s, clock: &str| Msg::WallClock {
        now: t0 + Duration::from_secs(s),
        clock: clock.into(),
    };
    update(&mut m, tick(1, ""));
    assert!(!m.dirty, "nothing shown changed");
    update(&mut m, tick(2, "14:03:07 UTC"));
    assert!(m.dirty, "the clock changed");
    m.dirty = false;
    update(&mut m, tick(10, "14:03:07 UTC"));
    let wallboard = m.wallboard.as_ref().map(|w| (w.page, w.clock.as_str()));
    assert_eq!(wallboard, Some((Page::Apps, "14:03:07 UTC")));
    assert!(m.dirty, "the page turned");
}

#[test]
fn a_theme_in_force_sets_the_thresholds_filters_go_by() {
    let mut m = screen(&["a"]);
    m.dirty = false;
    let thresholds = crate::domain::Thresholds {
        warn: 40.0,
        critical: 60.0,
    };
    let mut theme = m.theme.clone();
    theme.thresholds = thresholds;
    assert_eq!(update(&mut m, Msg::Theme(Box::new(theme))), []);
    assert_eq!(m.theme.thresholds, thresholds);
    assert!(m.dirty, "drawn again in the theme's colours");
}

#[test]
fn paging_goes_by_the_geometry_handed_in() {
    let mut m = screen(&["a"]);
    let mut geometry = crate::tui::geometry(200, 50);
    geometry.help_scrolls_grid = true;
    update(&mut m, Msg::Resize(geometry));
    assert_eq!(m.ui.geometry, geometry);
    act(&mut m, Action::ToggleHelp);
    act(&mut m, Action::PageDown);
    assert!(m.ui.help, "help scrolls where the loop measured it does");
    assert_eq!(m.ui.help_scroll, 10);
}
