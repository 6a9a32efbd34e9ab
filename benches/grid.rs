//! One full cockpit frame (grid view and status bar) drawn onto a 200x50 TestBackend, for
//! 100, 1,000 and 10,000 hosts with realistic, varied loads. Target: under 2 ms for 1,000.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;
use wheelhouse::cluster::EtcdState;
use wheelhouse::cluster::{Host, HostSource, HostState};
use wheelhouse::domain::{Container, Health, HostInfo, HostSpec};
use wheelhouse::tui::screen::Screen;

const GIB: u64 = 1024 * 1024 * 1024;

/// A cheap deterministic spread of figures (no rand dependency).
fn spread(i: usize, salt: usize) -> f64 {
    ((i.wrapping_mul(2_654_435_761).wrapping_add(salt * 97)) % 1000) as f64 / 10.0
}

fn host(i: usize, now: Instant) -> Host {
    let spec = HostSpec {
        name: format!("node-{i:05}"),
        engine: format!("tcp://10.{}.{}.{}:2376", i / 65536, i / 256 % 256, i % 256),
        address: None,
        zone: Some(format!("z{}", i % 4)),
        labels: BTreeMap::new(),
        tls: None,
    };
    let mut host = Host::new(spec, HostSource::Config);
    match i % 50 {
        0 => return host,
        1 | 2 => {
            host.state = HostState::Offline {
                error: "connection refused".to_owned(),
                since: now,
            };
            return host;
        }
        _ => {}
    }
    host.state = HostState::Online;
    host.info = Some(HostInfo {
        hostname: host.spec.name.clone(),
        version: "20.10.24".to_owned(),
        ncpu: 8,
        mem_total: 32 * GIB,
        containers_running: 6,
    });
    // Six containers each: the load score spreads over 0..100% with a tail above 90%.
    host.containers = (0..6)
        .map(|c| Container {
            id: format!("{i}-{c}"),
            name: format!("app-{c}"),
            image: "wheelhouse/demo:1".to_owned(),
            state: "running".into(),
            status: "Up 3 minutes".to_owned(),
            health: Health::Healthy,
            labels: BTreeMap::new(),
            cpu_percent: Some(spread(i, c) * 8.0 / 6.0),
            mem_bytes: Some((spread(i, c + 6) / 100.0 * (32 * GIB) as f64 / 6.0) as u64),
            ports: Vec::new(),
            restarts: None,
            last_check: None,
        })
        .collect();
    host
}

fn model(count: usize) -> Screen {
    let now = Instant::now();
    let mut model = Screen::with_hosts(now, (0..count).map(|i| host(i, now)).collect());
    model.cluster_mut().etcd = EtcdState::Connected { revision: 1 };
    model.cluster_mut().last_data = Some(now);
    model.ui.selected = count / 2;
    model.ui.geometry = wheelhouse::tui::geometry(200, 50);
    model
}

fn frame(c: &mut Criterion) {
    let mut group = c.benchmark_group("grid_frame_200x50");
    for count in [100, 1_000, 10_000] {
        let model = model(count);
        // TestBackend's error type is Infallible, so this pattern cannot fail.
        let Ok(mut terminal) = Terminal::new(TestBackend::new(200, 50));
        group.bench_with_input(BenchmarkId::from_parameter(count), &model, |b, model| {
            b.iter(|| {
                let drawn = terminal.draw(|f| wheelhouse::tui::draw(f, black_box(model)));
                black_box(drawn.is_ok())
            });
        });
    }
    group.finish();
}

criterion_group!(benches, frame);
criterion_main!(benches);
