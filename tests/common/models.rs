//! Models and drawing helpers for the rendering tests: fixed hosts in every state, a
//! frame drawn to a test backend, and the drawn text.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use wheelhouse::cluster::EtcdState;
use wheelhouse::cluster::{Host, HostSource, HostState, Metrics};
use wheelhouse::domain::{AgentFigures, Container, Health, HostInfo, HostSpec, IoRates};
use wheelhouse::metrics::Point;
use wheelhouse::tui::screen::Screen;
use wheelhouse::tui::screen::charts::{self, Window};
use wheelhouse::tui::theme::Theme;

pub const GIB: u64 = 1024 * 1024 * 1024;

pub fn spec(name: &str, n: usize) -> HostSpec {
    HostSpec {
        name: name.to_owned(),
        engine: format!("unix:///tmp/wh-lab/h{n}/docker.sock"),
        address: Some(format!("127.0.1.{n}")),
        zone: Some(if n.is_multiple_of(2) { "b" } else { "a" }.to_owned()),
        labels: BTreeMap::from([("disk".to_owned(), "ssd".to_owned())]),
        tls: None,
    }
}

pub fn container(
    name: &str,
    state: &str,
    health: Health,
    cpu: Option<f64>,
    mem: Option<u64>,
) -> Container {
    let running = state == "running";
    Container {
        // A full engine id: the host view shows its first 12 characters.
        id: format!("{name}-0123456789abcdef"),
        name: name.to_owned(),
        image: "wheelhouse/demo:1".to_owned(),
        state: state.into(),
        status: if running {
            "Up 3 minutes".to_owned()
        } else {
            "Exited (0) 2 minutes ago".to_owned()
        },
        health,
        labels: BTreeMap::new(),
        cpu_percent: cpu,
        mem_bytes: mem,
        ports: if running {
            vec!["8080→80".to_owned()]
        } else {
            Vec::new()
        },
        restarts: Some(if running { 2 } else { 0 }),
        last_check: None,
    }
}

/// An online host of 2 CPUs and 8 GiB whose load score is `cpu_share` percent.
pub fn online(name: &str, n: usize, cpu_share: f64) -> Host {
    let mut host = Host::new(spec(name, n), HostSource::Config);
    host.state = HostState::Online;
    host.info = Some(HostInfo {
        hostname: format!("{name}.lab"),
        version: "20.10.24".to_owned(),
        ncpu: 2,
        mem_total: 8 * GIB,
        containers_running: 2,
    });
    // CPU is summed over containers and divided by the 2 cores.
    host.containers = vec![
        container(
            "web-1",
            "running",
            Health::Healthy,
            Some(cpu_share),
            Some(300 * 1024 * 1024),
        ),
        container(
            "web-2",
            "running",
            Health::Unhealthy,
            Some(cpu_share),
            Some(GIB / 2),
        ),
        container("batch", "exited", Health::None, None, None),
    ];
    host
}

/// alpha 10% (ok), bravo 75% (warn), charlie 95% (critical), delta offline, echo unknown.
pub fn five_hosts() -> Screen {
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(125);
    let mut delta = Host::new(spec("delta", 4), HostSource::Config);
    delta.state = HostState::Offline {
        error: "connection refused".to_owned(),
        since: t0 + Duration::from_secs(5),
    };
    let echo = Host::new(spec("echo", 5), HostSource::Etcd);
    let mut model = Screen::with_hosts(
        now,
        vec![
            online("alpha", 1, 10.0),
            online("bravo", 2, 75.0),
            online("charlie", 3, 95.0),
            delta,
            echo,
        ],
    );
    model.cluster_mut().etcd = EtcdState::Connected { revision: 42 };
    model.cluster_mut().last_data = Some(now - Duration::from_secs(2));
    model
}

/// five_hosts with apps wired: storefront -> checkout -> payments, checkout -> ledger
/// (declared, not an app). checkout runs on alpha (registered) and bravo (not); payments
/// runs twice on charlie, neither registered. The trace of checkout is open, on its first
/// instance.
#[allow(dead_code)] // Not every test crate that shares these models draws a trace.
pub fn traced() -> Screen {
    use wheelhouse::cluster::AppRecord;
    use wheelhouse::domain::app::AppSpec;
    use wheelhouse::domain::check::LastCheck;
    use wheelhouse::plan::{Endpoint, labels};
    use wheelhouse::tui::screen::View;
    let mut model = five_hosts();
    let apps = [
        ("storefront", vec!["checkout"]),
        ("checkout", vec!["payments", "ledger"]),
        ("payments", vec![]),
    ];
    let mut specs = Vec::new();
    for (name, deps) in apps {
        let mut spec = AppSpec::new(name, "wheelhouse/demo:1");
        spec.depends_on = deps.into_iter().map(str::to_owned).collect();
        specs.push(spec);
    }
    let instance = |spec: &AppSpec, n: u32| {
        let rev = labels::revision(spec);
        let mut c = container(
            &labels::container_name(&spec.name, n, rev),
            "running",
            Health::Healthy,
            Some(2.0),
            Some(GIB / 16),
        );
        c.labels = labels::labels(spec, n, rev, &[("http".to_owned(), 20000 + n as u16)]);
        c
    };
    let placed = [
        ("alpha", &specs[1], 1),
        ("bravo", &specs[1], 2),
        ("charlie", &specs[2], 1),
        ("charlie", &specs[2], 2),
    ];
    // checkout's checks: alpha's passed 12 s ago, bravo's failed 3 s ago.
    let check = |ago: u64, exit_code: i64, output: &str| LastCheck {
        started: Some(1_764_651_600_000_000_000),
        ended: Some(1_764_651_600_500_000_000),
        ended_at: model.now.checked_sub(Duration::from_secs(ago)),
        exit_code,
        output: output.to_owned(),
    };
    let checks = [check(12, 0, "ok"), check(3, 1, "connection refused")];
    let cluster = model.cluster_mut();
    for (host, spec, n) in placed {
        let mut c = instance(spec, n);
        if spec.name == "checkout" {
            c.last_check = checks.get(n as usize - 1).cloned();
        }
        if (host, n) == ("alpha", 1) {
            let endpoint = Endpoint {
                host: host.to_owned(),
                address: "127.0.1.1".to_owned(),
                port: Some(20001),
                container: c.id.clone(),
                revision: labels::revision(spec),
            };
            let registered = cluster.services.entry(spec.name.clone()).or_default();
            registered.insert(n.to_string(), endpoint);
        }
        if let Some(h) = cluster.host_mut(host) {
            h.containers.push(c);
        }
    }
    for spec in specs {
        cluster
            .apps
            .insert(spec.name.clone(), AppRecord { spec, revision: 7 });
    }
    model.ui.show_trace("checkout");
    if let View::Trace(nav) = &mut model.ui.view {
        // Past its one caller, storefront.
        nav.row = 1;
    }
    model
}

/// The traced picture with checkout's logs open (both instances merged): stdout and
/// stderr lines, one far longer than the screen, matches of the search `order`, paused
/// with lines waiting, timestamps on.
pub fn logged() -> Screen {
    use std::sync::Arc;
    use wheelhouse::domain::logs::{LogLine, LogSource, Stream};
    use wheelhouse::tui::screen::{LogsNav, LogsPane, View};
    let mut model = traced();
    model.ui.view = View::Logs(Box::new(LogsNav::new("checkout", "checkout", View::Grid)));
    let mut pane = LogsPane::new(100, 1);
    let source = |n: u32| LogSource {
        tag: Arc::from(format!("checkout.{n}").as_str()),
        container: Arc::from(format!("checkout-{n}").as_str()),
        host: Arc::from(if n == 1 { "alpha" } else { "bravo" }),
    };
    let base = 1_714_564_800_000_000_000_i64;
    for i in 0..60_u32 {
        let (stream, text) = match i % 7 {
            3 => (Stream::Stderr, format!("order {i} failed: card declined")),
            5 => (
                Stream::Stdout,
                format!("GET /health 200 {}", "x".repeat(150)),
            ),
            _ => (Stream::Stdout, format!("order {i} placed in {} ms", 10 + i)),
        };
        pane.buffer.push(LogLine {
            unix_nanos: base + i64::from(i) * 250_000_000,
            stream,
            source: source(1 + i % 2),
            text,
        });
    }
    pane.paused_at = Some(55);
    pane.timestamps = true;
    pane.search = "order".to_owned();
    pane.note = Some("checkout.2 joined (checkout-2 on bravo)".to_owned());
    model.logs = Some(Box::new(pane));
    model
}

/// `count` online hosts with loads spread over 0..100%, every 10th offline, every 25th unknown.
pub fn many_hosts(count: usize) -> Screen {
    let now = Instant::now();
    let hosts = (0..count)
        .map(|i| {
            let name = format!("node-{i:05}");
            if i % 25 == 7 {
                Host::new(spec(&name, i), HostSource::Config)
            } else if i % 10 == 3 {
                let mut h = Host::new(spec(&name, i), HostSource::Config);
                h.state = HostState::Offline {
                    error: "timeout".to_owned(),
                    since: now,
                };
                h
            } else {
                online(&name, i, (i * 37 % 100) as f64)
            }
        })
        .collect();
    Screen::with_hosts(now, hosts)
}

/// One frame of `model` in `theme` on a `width` x `height` terminal.
pub fn draw_themed(model: &Screen, theme: &Theme, width: u16, height: u16) -> Buffer {
    let mut themed = model.clone();
    themed.theme = theme.clone();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| wheelhouse::tui::draw(frame, &themed))
        .unwrap();
    terminal.backend().buffer().clone()
}

/// The buffer as text, one line per row, trailing blanks cut.
pub fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let row: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_owned())
            .collect();
        out.push_str(row.trim_end());
        out.push('\n');
    }
    out
}

/// Position of the first occurrence of `needle` in the drawn text from row `top` down
/// (row 0 is the grid's title line, which names the selected host too).
pub fn find_below(buf: &Buffer, needle: &str, top: u16) -> Option<(u16, u16)> {
    let first = needle.chars().next()?;
    for y in top..buf.area.height {
        for x in 0..buf.area.width {
            let matches = needle.chars().enumerate().all(|(i, c)| {
                let x = x as usize + i;
                x < buf.area.width as usize && buf[(x as u16, y)].symbol().starts_with(c)
            });
            if matches && buf[(x, y)].symbol().starts_with(first) {
                return Some((x, y));
            }
        }
    }
    None
}

/// A host read through its agent: the source in the header, network and disk per second,
/// a CPU sparkline per container and the selected container's charts (gaps left empty).
pub fn on_its_agent() -> Screen {
    let mut model = five_hosts();
    model.ui.show_host("charlie");
    let charlie = model.cluster_mut().host_mut("charlie").unwrap();
    charlie.metrics = Metrics::Agent {
        source: "cgroup-v1".to_owned(),
    };
    let web = charlie.containers[0].id.clone();
    let io = IoRates {
        net_rx_bps: Some(1536.0),
        net_tx_bps: Some(512.0),
        blk_read_bps: Some(0.0),
        blk_write_bps: Some(4096.0 * 1024.0),
    };
    let figures = AgentFigures {
        id: web.clone(),
        cpu_percent: None,
        mem_bytes: 0,
        io,
    };
    charlie.agent.insert(web.clone(), figures);
    let ids: Vec<String> = charlie.containers.iter().map(|c| c.id.clone()).collect();
    let running: Vec<&str> = ids[..2].iter().map(String::as_str).collect();
    let queries = charts::queries("charlie", &running, &[&web], Window::TenMinutes);
    let charts = model.ui.charts.as_mut().unwrap();
    charts.window = Window::TenMinutes;
    charts.take("charlie", queries.iter().map(ramp).collect());
    model
}

/// An agent's answer to `q`: a ramp with a gap (the agent was down) in the middle.
fn ramp(q: &charts::Query) -> (charts::Query, Result<Vec<Point>, String>) {
    let n = (q.span_ms / q.step_ms) as usize;
    let points = (0..n)
        .map(|i| Point {
            unix_ms: i as i64 * q.step_ms,
            value: (!(n / 3..n / 2).contains(&i)).then_some(if q.metric == "cpu_percent" {
                (i * 100 / n) as f64
            } else {
                (200 + i) as f64 * 1024.0 * 1024.0
            }),
        })
        .collect();
    (q.clone(), Ok(points))
}

/// The traced picture with checkout's instances side by side: alpha's read through its
/// agent (its charts with a gap), bravo's engine without an agent.
pub fn instances() -> Screen {
    let mut model = traced();
    model.ui.show_instances("checkout");
    let alpha = model.cluster_mut().host_mut("alpha").unwrap();
    alpha.metrics = Metrics::Agent {
        source: "cgroup-v1".to_owned(),
    };
    let ids: Vec<String> = (alpha.containers.iter())
        .filter(|c| c.name.starts_with("checkout"))
        .map(|c| c.id.clone())
        .collect();
    let targets: Vec<&str> = ids.iter().map(String::as_str).collect();
    let queries = charts::queries("alpha", &[], &targets, Window::OneMinute);
    let charts = model.ui.charts.as_mut().unwrap();
    charts.take("alpha", queries.iter().map(ramp).collect());
    model
}
