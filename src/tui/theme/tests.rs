use super::*;
use std::time::Instant;

fn user(source: &str) -> Result<Theme, FileError> {
    Theme::parse(Path::new("theme.toml"), source)
}

fn error_at(source: &str, line: usize, col: usize, needle: &str) {
    match user(source) {
        Ok(_) => panic!("accepted:\n{source}"),
        Err(e) => e.assert_at("theme.toml", line, col, needle),
    }
}

fn load(cpu: f64, mem: f64) -> Option<Load> {
    Some(Load { cpu, mem })
}

#[test]
fn builtin_theme_parses_and_names_every_key() {
    let theme = Theme::load("default").unwrap_or_else(|e| panic!("{e}"));
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
    assert_eq!(theme.source_path(), None);
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
    error_at(
        "[glyphs]\nok = \"x\"\nwarn = \"x\"\n",
        3,
        8,
        "glyphs `ok` and `warn` are both 'x'",
    );
    error_at(
        "[glyphs]\nunknown = \"✓\"\n",
        2,
        11,
        "each state needs its own glyph",
    );
    error_at(
        "[modifiers]\nwarn = \"blinking\"\n",
        2,
        8,
        "unknown modifier `blinking`",
    );
    error_at(
        "[modifiers]\nwarn = [\"bold\",\n  \"loud\"]\n",
        3,
        3,
        "expected one of: bold, dim",
    );
    error_at("[modifiers]\nwarn = 1\n", 2, 8, "a modifier or a list");
    error_at(
        "[modifiers]\nglow = []\n",
        2,
        1,
        "unknown key in [modifiers]",
    );
}

#[test]
fn modifiers_are_one_name_or_a_list() {
    let t = user(
        "[modifiers]\nwarn = \"italic\"\ncritical = [\"bold\", \"crossed_out\"]\nselected = []\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.modifiers.warn, Modifier::ITALIC);
    assert_eq!(
        t.modifier(Level::Critical),
        Modifier::BOLD | Modifier::CROSSED_OUT
    );
    assert_eq!(t.cell(Level::Warn).0.add_modifier, Modifier::ITALIC);
    assert_eq!(t.level_text(Level::Warn).add_modifier, Modifier::ITALIC);
    assert_eq!(t.selected_cell(Level::Ok).add_modifier, Modifier::empty());
    // What the file does not name comes from the default theme.
    assert_eq!(t.modifiers.selected_row, Modifier::BOLD);
}

#[test]
fn every_builtin_theme_loads_complete_and_distinct() {
    let names = Theme::builtin_names();
    assert_eq!(
        names,
        ["default", "light", "high-contrast", "solarized", "mono"]
    );
    let mut seen: Vec<Theme> = Vec::new();
    for name in names {
        let theme = Theme::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(theme.source_path().is_none(), "{name}");
        assert_eq!(theme.depth(), ColorDepth::TrueColor);
        assert!(
            theme
                .selected_cell(Level::Ok)
                .add_modifier
                .contains(Modifier::REVERSED),
            "{name}: the selected cell must be reversed"
        );
        assert!(!seen.contains(&theme), "{name} repeats another theme");
        seen.push(theme);
    }
    // A built-in file missing a key is refused, not filled in from elsewhere.
    let e = Theme::builtin("test", "[palette]\nok = \"red\"\n")
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert!(e.message.contains("missing key"), "{e}");
    assert!(
        e.to_string()
            .starts_with("themes/test.toml (built-in):1:1: "),
        "{e}"
    );
}

#[test]
fn an_unknown_name_lists_the_builtin_themes() {
    let e = Theme::load("solarised")
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert_eq!(e.path, Path::new("solarised"));
    for name in Theme::builtin_names() {
        assert!(e.message.contains(name), "{e}");
    }
}

#[test]
fn without_colour_reverse_video_marks_what_a_background_did() {
    let t = Theme::default_theme().for_depth(ColorDepth::None);
    assert_eq!(t.depth(), ColorDepth::None);
    assert_eq!(t.palette.ok, Color::Reset);
    assert_eq!(t.palette.selected, Color::Reset);
    assert!(
        t.selected_row()
            .add_modifier
            .contains(Modifier::REVERSED | Modifier::BOLD)
    );
    assert!(t.status_bar().add_modifier.contains(Modifier::REVERSED));
    assert!(
        t.selected_cell(Level::Warn)
            .add_modifier
            .contains(Modifier::REVERSED)
    );
    assert_eq!(t.cell(Level::Critical).0.add_modifier, Modifier::BOLD);
    // Mapping down is one way: asking for more colour later changes nothing.
    assert_eq!(t.clone().for_depth(ColorDepth::TrueColor), t);
    let t16 = Theme::load("solarized")
        .unwrap_or_else(|e| panic!("{e}"))
        .for_depth(ColorDepth::Ansi16);
    assert_eq!(t16.palette.ok, Color::Green);
    assert_eq!(t16.clone().for_depth(ColorDepth::Ansi256), t16);
}

#[test]
fn a_theme_file_reloads_and_a_broken_one_is_an_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, "[palette]\nok = \"#00ff00\"\n").unwrap_or_else(|e| panic!("{e}"));
    let t = Theme::load(&path.to_string_lossy())
        .unwrap_or_else(|e| panic!("{e}"))
        .for_depth(ColorDepth::Ansi256);
    assert_eq!(t.source_path(), Some(path.as_path()));
    assert_eq!(t.palette.ok, Color::Indexed(46));
    std::fs::write(&path, "[palette]\nok = \"#ff0000\"\n").unwrap_or_else(|e| panic!("{e}"));
    let again = match t.reload() {
        Some(Ok(theme)) => theme,
        other => panic!("{other:?}"),
    };
    // Read afresh and mapped to the same depth.
    assert_eq!(again.palette.ok, Color::Indexed(196));
    assert_eq!(again.source_path(), Some(path.as_path()));
    std::fs::write(&path, "[palette]\n\nok = \"redish\"\n").unwrap_or_else(|e| panic!("{e}"));
    let e = match again.reload() {
        Some(Err(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!((e.path.as_path(), e.line), (path.as_path(), 3), "{e}");
    assert!(Theme::default_theme().reload().is_none());
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

/// Issue 9 item 7: an unknown key is echoed in a line, not whole.
#[test]
fn a_megabyte_unknown_key_is_echoed_short() {
    let key = "k".repeat(1 << 20);
    let err = user(&format!("[palette]\n{key} = \"red\"\n")).expect_err("unknown key");
    err.assert_at("theme.toml", 2, 1, &format!("`{}…`", &key[..60]));
    assert!(err.message.len() < 1000, "{} bytes", err.message.len());
}
