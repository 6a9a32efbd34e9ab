use super::*;
use std::time::Instant;

fn user(source: &str) -> Result<Theme, FileError> {
    Theme::parse(Path::new("theme.toml"), source)
}

fn error_at(source: &str, line: usize, col: usize, needle: &str) {
    let e = match user(source) {
        Ok(_) => panic!("accepted:\n{source}"),
        Err(e) => e,
    };
    assert_eq!((e.line, e.col), (line, col), "{e}");
    assert!(e.message.contains(needle), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("theme.toml:{line}:{col}: ")),
        "{e}"
    );
}

fn load(cpu: f64, mem: f64) -> Option<Load> {
    Some(Load { cpu, mem })
}

#[test]
fn builtin_theme_parses_and_names_every_key() {
    let theme = Theme::builtin().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(theme.palette.ok, Color::Green);
    assert_eq!(theme.palette.critical, Color::Red);
    assert_eq!(
        theme.thresholds,
        Thresholds {
            warn: 70.0,
            critical: 90.0
        }
    );
    assert_eq!(theme.glyphs.ok, '✓');
    assert_eq!(Theme::load("default"), Ok(theme.clone()));
    assert_eq!(Theme::default_theme(), theme);
    // The five states are told apart by glyph as well as by colour.
    let glyphs: std::collections::HashSet<char> =
        Level::ALL.iter().map(|&l| theme.glyph(l)).collect();
    assert_eq!(glyphs.len(), Level::ALL.len());
    let colors: std::collections::HashSet<String> = Level::ALL
        .iter()
        .map(|&l| theme.color(l).to_string())
        .collect();
    assert_eq!(colors.len(), Level::ALL.len());
}

#[test]
fn levels_follow_thresholds_and_state() {
    let t = Theme::default_theme();
    let online = HostState::Online;
    assert_eq!(t.level(load(10.0, 5.0), &online), Level::Ok);
    assert_eq!(t.level(load(69.9, 0.0), &online), Level::Ok);
    assert_eq!(t.level(load(20.0, 70.0), &online), Level::Warn);
    assert_eq!(t.level(load(75.0, 1.0), &online), Level::Warn);
    assert_eq!(t.level(load(90.0, 1.0), &online), Level::Critical);
    assert_eq!(t.level(load(1.0, 95.0), &online), Level::Critical);
    assert_eq!(t.level(None, &online), Level::Unknown);
    assert_eq!(t.level(None, &HostState::Unknown), Level::Unknown);
    let offline = HostState::Offline {
        error: "refused".to_owned(),
        since: Instant::now(),
    };
    assert_eq!(t.level(load(95.0, 0.0), &offline), Level::Offline);
    let (style, glyph) = t.style_for_load(load(95.0, 0.0), &online);
    assert_eq!(style.bg, Some(Color::Red));
    assert_eq!(glyph, t.glyphs.critical);
}

#[test]
fn user_file_overrides_only_what_it_names() {
    let t = user("[palette]\nok = \"#00ff7f\"\nwarn = \"light_yellow\"\n[thresholds]\nwarn = 60\n")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.palette.ok, Color::Rgb(0, 255, 127));
    assert_eq!(t.palette.warn, Color::LightYellow);
    assert_eq!(t.palette.critical, Color::Red);
    assert_eq!(
        t.thresholds,
        Thresholds {
            warn: 60.0,
            critical: 90.0
        }
    );
    assert_eq!(t.level(load(65.0, 0.0), &HostState::Online), Level::Warn);
    let t = user("[thresholds]\ncritical = 95.5\n[glyphs]\nok = \"o\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.thresholds.critical, 95.5);
    assert_eq!(t.glyphs.ok, 'o');
}

#[test]
fn broken_files_are_errors_with_positions() {
    error_at("[palette]\nok = \"chartreuse\"\n", 2, 6, "not a colour");
    error_at("[palette]\nok = 3\n", 2, 6, "must be a string");
    error_at(
        "[palette]\n\nsparkle = \"red\"\n",
        3,
        1,
        "unknown key in [palette] `sparkle`",
    );
    error_at("[colors]\nok = \"red\"\n", 1, 2, "unknown section `colors`");
    error_at(
        "[thresholds]\nwarn = 95\n",
        2,
        8,
        "must be below thresholds.critical",
    );
    error_at(
        "[thresholds]\nwarn = 50\ncritical = 40\n",
        2,
        8,
        "must be below",
    );
    error_at("[thresholds]\ncritical = 101\n", 2, 12, "0..=100");
    error_at("[thresholds]\nwarn = -1\n", 2, 8, "0..=100");
    error_at("[thresholds]\nwarn = \"high\"\n", 2, 8, "must be a number");
    error_at(
        "[thresholds]\nlow = 3\n",
        2,
        1,
        "unknown key in [thresholds] `low`",
    );
    error_at("[glyphs]\nok = \"ok\"\n", 2, 6, "one character");
    error_at("[glyphs]\nok = \"界\"\n", 2, 6, "one column wide");
    error_at("palette = 1\n", 1, 11, "must be a table");
}

#[test]
fn bad_toml_is_an_error_with_its_line() {
    let e = user("[palette]\nok = \"green\n")
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn load_reads_a_path() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, "[palette]\ncritical = \"magenta\"\n").unwrap_or_else(|e| panic!("{e}"));
    let t = Theme::load(&path.to_string_lossy()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.palette.critical, Color::Magenta);
    let missing = dir.path().join("absent.toml");
    let e = Theme::load(&missing.to_string_lossy())
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert_eq!(e.path, missing);
}
