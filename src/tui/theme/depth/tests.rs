use super::*;

fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |key| {
        vars.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[test]
fn detection_follows_no_color_colorterm_and_term() {
    let cases: &[(&[(&str, &str)], ColorDepth)] = &[
        (
            &[("NO_COLOR", "1"), ("COLORTERM", "truecolor")],
            ColorDepth::None,
        ),
        // no-color.org: an empty NO_COLOR does not count.
        (
            &[("NO_COLOR", ""), ("TERM", "xterm-256color")],
            ColorDepth::Ansi256,
        ),
        (
            &[("TERM", "dumb"), ("COLORTERM", "truecolor")],
            ColorDepth::None,
        ),
        (
            &[("TERM", "xterm"), ("COLORTERM", "truecolor")],
            ColorDepth::TrueColor,
        ),
        (
            &[("TERM", "xterm-256color"), ("COLORTERM", "24bit")],
            ColorDepth::TrueColor,
        ),
        (
            &[("TERM", "tmux-256color"), ("COLORTERM", "TrueColor")],
            ColorDepth::TrueColor,
        ),
        (&[("TERM", "xterm-direct")], ColorDepth::TrueColor),
        (&[("TERM", "xterm-256color")], ColorDepth::Ansi256),
        (&[("TERM", "screen-256color")], ColorDepth::Ansi256),
        (
            &[("TERM", "tmux-256color"), ("COLORTERM", "")],
            ColorDepth::Ansi256,
        ),
        (&[("TERM", "screen")], ColorDepth::Ansi16),
        (&[("TERM", "tmux")], ColorDepth::Ansi16),
        (&[("TERM", "xterm")], ColorDepth::Ansi16),
        (&[("TERM", "linux")], ColorDepth::Ansi16),
        (
            &[("TERM", "xterm"), ("COLORTERM", "yes")],
            ColorDepth::Ansi16,
        ),
        (&[], ColorDepth::Ansi16),
    ];
    for (vars, want) in cases {
        assert_eq!(ColorDepth::detect(env(vars)), *want, "{vars:?}");
    }
}

#[test]
fn pure_colours_land_on_their_cube_corners_and_ansi_names() {
    let cases = [
        ((0, 0, 0), 16, Color::Black),
        ((255, 255, 255), 231, Color::White),
        ((255, 0, 0), 196, Color::LightRed),
        ((0, 255, 0), 46, Color::LightGreen),
        ((0, 0, 255), 21, Color::Blue),
        ((255, 255, 0), 226, Color::LightYellow),
        ((255, 0, 255), 201, Color::LightMagenta),
        ((0, 255, 255), 51, Color::LightCyan),
        ((205, 0, 0), 160, Color::Red),
        ((0, 175, 0), 34, Color::Green),
    ];
    for ((r, g, b), index, ansi) in cases {
        assert_eq!(rgb_to_256(r, g, b), index, "({r}, {g}, {b})");
        assert_eq!(
            ColorDepth::Ansi256.map(Color::Rgb(r, g, b)),
            Color::Indexed(index)
        );
        assert_eq!(
            ColorDepth::Ansi16.map(Color::Rgb(r, g, b)),
            ansi,
            "({r}, {g}, {b})"
        );
    }
}

#[test]
fn greys_take_the_grey_ramp_when_it_is_closer() {
    // 128 is on the ramp (232 + 12); the cube's nearest grey is 135.
    assert_eq!(rgb_to_256(128, 128, 128), 244);
    assert_eq!(rgb_to_256(8, 8, 8), 232);
    assert_eq!(rgb_to_256(238, 238, 238), 255);
    assert_eq!(rgb_to_256(30, 30, 30), 234);
    // Exactly a cube grey: the cube wins the tie-free comparison.
    assert_eq!(rgb_to_256(95, 95, 95), 59);
    // Near-black and near-white still go to the cube's corners.
    assert_eq!(rgb_to_256(2, 2, 2), 16);
    assert_eq!(rgb_to_256(252, 252, 252), 231);
    // A slightly tinted grey is still a grey.
    assert_eq!(rgb_to_256(100, 104, 98), 241);
    let ansi = |v: u8| ColorDepth::Ansi16.map(Color::Rgb(v, v, v));
    assert_eq!(ansi(20), Color::Black);
    assert_eq!(ansi(128), Color::DarkGray);
    assert_eq!(ansi(200), Color::Gray);
    assert_eq!(ansi(250), Color::White);
}

#[test]
fn every_index_round_trips_through_its_rgb() {
    // Cube and ramp colours map to themselves: the mapping never drifts.
    for index in 16..=255u8 {
        let [r, g, b] = xterm256(index);
        assert_eq!(rgb_to_256(r, g, b), index, "{index} = ({r}, {g}, {b})");
    }
    // The 16 system indices are the ANSI colours themselves.
    assert_eq!(ansi16(1), Color::Red);
    assert_eq!(ansi16(8), Color::DarkGray);
    assert_eq!(ansi16(15), Color::White);
    assert_eq!(ColorDepth::Ansi16.map(Color::Indexed(196)), Color::LightRed);
    assert_eq!(ColorDepth::Ansi16.map(Color::Indexed(236)), Color::Black);
}

#[test]
fn named_colours_pass_through_and_none_strips_everything() {
    for depth in [
        ColorDepth::TrueColor,
        ColorDepth::Ansi256,
        ColorDepth::Ansi16,
    ] {
        assert_eq!(depth.map(Color::Yellow), Color::Yellow);
        assert_eq!(depth.map(Color::Reset), Color::Reset);
    }
    assert_eq!(
        ColorDepth::TrueColor.map(Color::Rgb(1, 2, 3)),
        Color::Rgb(1, 2, 3)
    );
    assert_eq!(
        ColorDepth::Ansi256.map(Color::Indexed(99)),
        Color::Indexed(99)
    );
    for color in [
        Color::Yellow,
        Color::Rgb(9, 9, 9),
        Color::Indexed(42),
        Color::Reset,
    ] {
        assert_eq!(ColorDepth::None.map(color), Color::Reset);
    }
}
