//! Snapshots of the drawn screens (as text) at two terminal sizes, and checks of the cell
//! colours and glyphs the grid draws for each host state.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use wheelhouse::action::Action;
use wheelhouse::model::{
    Container, EtcdState, Health, Host, HostInfo, HostSource, HostSpec, HostState, Model, View,
};
use wheelhouse::tui::keymap::Keymap;
use wheelhouse::tui::layout::{grid_layout, grid_view, screen};
use wheelhouse::tui::theme::{Level, Theme};
use wheelhouse::update::{Msg, update};

const GIB: u64 = 1024 * 1024 * 1024;

fn spec(name: &str, n: usize) -> HostSpec {
    HostSpec {
        name: name.to_owned(),
        engine: format!("unix:///tmp/wh-lab/h{n}/docker.sock"),
        address: Some(format!("127.0.1.{n}")),
        zone: Some(if n.is_multiple_of(2) { "b" } else { "a" }.to_owned()),
        labels: BTreeMap::from([("disk".to_owned(), "ssd".to_owned())]),
        tls: None,
    }
}

fn container(
    name: &str,
    state: &str,
    health: Health,
    cpu: Option<f64>,
    mem: Option<u64>,
) -> Container {
    Container {
        id: format!("{name}-id"),
        name: name.to_owned(),
        image: "wheelhouse/demo:1".to_owned(),
        state: state.to_owned(),
        status: String::new(),
        health,
        labels: BTreeMap::new(),
        cpu_percent: cpu,
        mem_bytes: mem,
    }
}

/// An online host of 2 CPUs and 8 GiB whose load score is `cpu_share` percent.
fn online(name: &str, n: usize, cpu_share: f64, now: Instant) -> Host {
    let mut host = Host::new(spec(name, n), HostSource::Config);
    host.state = HostState::Online;
    host.last_seen = Some(now);
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
fn five_hosts() -> Model {
    let t0 = Instant::now();
    let now = t0 + Duration::from_secs(125);
    let mut delta = Host::new(spec("delta", 4), HostSource::Config);
    delta.state = HostState::Offline {
        error: "connection refused".to_owned(),
        since: t0 + Duration::from_secs(5),
    };
    let echo = Host::new(spec("echo", 5), HostSource::Etcd);
    let mut model = Model::with_hosts(
        now,
        vec![
            online("alpha", 1, 10.0, now),
            online("bravo", 2, 75.0, now),
            online("charlie", 3, 95.0, now),
            delta,
            echo,
        ],
    );
    model.etcd = EtcdState::Connected { revision: 42 };
    model.last_data = Some(now - Duration::from_secs(2));
    model
}

/// `count` online hosts with loads spread over 0..100%, every 10th offline, every 25th unknown.
fn many_hosts(count: usize) -> Model {
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
                online(&name, i, (i * 37 % 100) as f64, now)
            }
        })
        .collect();
    Model::with_hosts(now, hosts)
}

fn draw(model: &Model, width: u16, height: u16) -> Buffer {
    let theme = Theme::default_theme();
    let keymap = Keymap::default_keymap();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| wheelhouse::tui::draw(frame, model, &theme, &keymap))
        .unwrap();
    terminal.backend().buffer().clone()
}

/// The buffer as text, one line per row, trailing blanks cut.
fn text(buf: &Buffer) -> String {
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
fn find_below(buf: &Buffer, needle: &str, top: u16) -> Option<(u16, u16)> {
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

fn with_view(mut model: Model, view: View, row: usize) -> Model {
    model.ui.view = view;
    model.ui.selected_row = row;
    model
}

#[test]
fn grid_80x24() {
    let mut model = five_hosts();
    model.ui.selected = 1;
    insta::assert_snapshot!("grid_80x24", text(&draw(&model, 80, 24)));
}

#[test]
fn grid_200x50() {
    let mut model = five_hosts();
    model.ui.selected = 1;
    model.ui.message = Some("opened bravo".to_owned());
    insta::assert_snapshot!("grid_200x50", text(&draw(&model, 200, 50)));
}

#[test]
fn grid_of_thirty_hosts_80x24_is_compact() {
    let mut model = many_hosts(30);
    model.ui.selected = 12;
    insta::assert_snapshot!("grid_compact_80x24", text(&draw(&model, 80, 24)));
}

#[test]
fn host_80x24() {
    let model = with_view(five_hosts(), View::Host("alpha".to_owned()), 1);
    insta::assert_snapshot!("host_80x24", text(&draw(&model, 80, 24)));
}

#[test]
fn host_200x50() {
    let model = with_view(five_hosts(), View::Host("charlie".to_owned()), 0);
    insta::assert_snapshot!("host_200x50", text(&draw(&model, 200, 50)));
}

#[test]
fn offline_host_80x24() {
    let model = with_view(five_hosts(), View::Host("delta".to_owned()), 0);
    insta::assert_snapshot!("host_offline_80x24", text(&draw(&model, 80, 24)));
}

#[test]
fn help_80x24() {
    let mut model = five_hosts();
    model.ui.help = true;
    insta::assert_snapshot!("help_80x24", text(&draw(&model, 80, 24)));
}

#[test]
fn cells_take_the_theme_colour_of_their_state() {
    let theme = Theme::default_theme();
    let mut model = five_hosts();
    model.ui.selected = 4;
    for (width, height) in [(80, 24), (200, 50)] {
        let buf = draw(&model, width, height);
        for (name, level) in [
            ("alpha", Level::Ok),
            ("bravo", Level::Warn),
            ("charlie", Level::Critical),
            ("delta", Level::Offline),
            ("echo", Level::Unknown),
        ] {
            let (x, y) = find_below(&buf, &format!("{} {name}", theme.glyph(level)), 1)
                .unwrap_or_else(|| panic!("{name} not drawn at {width}x{height}"));
            let cell = &buf[(x, y)];
            assert_eq!(cell.bg, theme.color(level), "{name} at {width}x{height}");
            assert_eq!(cell.fg, theme.palette.cell_text, "{name}");
            let selected = name == "echo";
            assert_eq!(
                cell.modifier.contains(Modifier::REVERSED),
                selected,
                "{name}"
            );
            let marker = buf[(x - 1, y)].symbol();
            assert_eq!(marker == "▶", selected, "{name}: marker {marker:?}");
        }
    }
    // The defaults really differ, so the checks above tell the states apart.
    assert_eq!(theme.color(Level::Critical), Color::Red);
    assert_eq!(theme.color(Level::Warn), Color::Yellow);
    assert_eq!(theme.color(Level::Ok), Color::Green);
}

#[test]
fn a_thousand_hosts_all_show_in_200x50() {
    let theme = Theme::default_theme();
    let model = many_hosts(1000);
    let buf = draw(&model, 200, 50);
    let cells = grid_view(screen(Rect::new(0, 0, 200, 50)).main).cells;
    let layout = grid_layout(1000, cells.width, cells.height);
    let glyphs: Vec<String> = Level::ALL
        .iter()
        .map(|&l| theme.glyph(l).to_string())
        .collect();
    let mut drawn = 0;
    for y in cells.top()..cells.bottom() {
        for x in cells.left()..cells.right() {
            drawn += usize::from(glyphs.iter().any(|g| buf[(x, y)].symbol() == g));
        }
    }
    assert_eq!(drawn, 1000);
    // Each host sits where the layout says, in its state's colour and glyph.
    for (i, host) in model.hosts.iter().enumerate() {
        let r = layout.cell_rect(cells, i);
        let level = theme.level(host.load(), &host.state);
        let cell = &buf[(r.x, r.y)];
        assert_eq!(cell.symbol(), theme.glyph(level).to_string(), "host {i}");
        assert_eq!(cell.bg, theme.color(level), "host {i}");
    }
    // Update moves by the drawn column count.
    let drawn_columns = (cells.left()..cells.right())
        .filter(|&x| {
            let symbol = buf[(x, layout.cell_rect(cells, 0).y)].symbol();
            glyphs.iter().any(|g| g == symbol)
        })
        .count();
    assert_eq!(wheelhouse::tui::grid_columns(1000, 200, 50), drawn_columns);
}

#[test]
fn moving_down_selects_the_cell_drawn_below() {
    for count in [5, 30, 400] {
        let mut model = many_hosts(count);
        model.ui.selected = 2;
        let before = find_below(&draw(&model, 80, 24), "▶", 1);
        update(&mut model, Msg::Action(Action::MoveDown));
        let after = find_below(&draw(&model, 80, 24), "▶", 1);
        let (Some(before), Some(after)) = (before, after) else {
            panic!("{count}: no marker");
        };
        let columns = wheelhouse::tui::grid_columns(count, 80, 24);
        if 2 + columns < count {
            assert_eq!(model.ui.selected, 2 + columns, "{count}");
            assert!(after.1 > before.1, "{count}: {before:?} -> {after:?}");
        } else {
            assert_eq!(model.ui.selected, 2, "{count}");
            assert_eq!(after, before, "{count}");
        }
    }
}

#[test]
fn pages_keep_the_selected_host_visible() {
    let mut model = many_hosts(10_000);
    model.ui.selected = 9_999;
    let buf = draw(&model, 200, 50);
    assert!(text(&buf).contains("page 2/2"), "{}", text(&buf));
    assert!(text(&buf).contains("node-09999"));
    assert!(find_below(&buf, "▶", 1).is_some());
}
