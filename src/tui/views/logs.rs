//! The logs view: a title row (whose lines, following or not, paused, since, wrap), a
//! row of stream news (an instance left, the container gone, an engine unreachable),
//! then the lines. Stderr lines carry a `!` mark, an app's lines their instance's tag
//! in its own colour; search matches are shown in reverse video. Only the lines in view
//! are laid out, so a long buffer or a long line costs one screenful per frame.

use crate::domain::logs::{LogLine, Stream, format_timestamp};
use crate::tui::layout::split_top;
use crate::tui::screen::{LogsNav, LogsPane, Screen, match_ranges, since_text};
use crate::tui::theme::{Level, Theme};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use std::hash::{Hash, Hasher};

/// Rows above the lines: the title and the stream's news.
const HEADER: u16 = 2;

/// Instances' colours, told apart by their tag's hash (mapped to the terminal's depth;
/// mono keeps the tag's text).
const INSTANCE_COLORS: [Color; 6] = [
    Color::Cyan,
    Color::Magenta,
    Color::Yellow,
    Color::Blue,
    Color::Green,
    Color::LightRed,
];

/// How many lines fit under the header in `main` (unwrapped): a page.
pub fn rows(main: Rect) -> usize {
    usize::from(main.height.saturating_sub(HEADER)).max(1)
}

pub fn render(screen: &Screen, nav: &LogsNav, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let (top, body) = split_top(area, HEADER);
    let Some(pane) = screen.logs.as_deref() else {
        return;
    };
    let app = screen.cluster.apps.contains_key(&nav.target);
    let [title_row, news_row] = [0, 1].map(|i| Rect {
        y: top.y + i,
        height: 1,
        ..top
    });
    header(pane, nav, theme).render(title_row, buf);
    news(pane, theme).render(news_row, buf);
    let width = usize::from(body.width).max(1);
    let height = usize::from(body.height);
    let shown: Vec<Line> = match pane.top {
        // From the newest line shown upwards, until the view is full.
        None => {
            let mut rows: Vec<Line> = Vec::new();
            let mut n = pane.shown_end();
            while rows.len() < height && n > pane.first() {
                n -= 1;
                let Some(line) = pane.line(n) else { break };
                let mut these = layout(pane, line, app, theme, width);
                these.append(&mut rows);
                rows = these;
            }
            let extra = rows.len().saturating_sub(height);
            rows.split_off(extra)
        }
        Some(from) => {
            let mut rows = Vec::new();
            let mut n = from;
            while rows.len() < height && n < pane.shown_end() {
                let Some(line) = pane.line(n) else { break };
                rows.extend(layout(pane, line, app, theme, width));
                n += 1;
            }
            rows.truncate(height);
            rows
        }
    };
    for (i, line) in shown.into_iter().enumerate() {
        let y = body.y + u16::try_from(i).unwrap_or(u16::MAX);
        line.render(
            Rect {
                y,
                height: 1,
                ..body
            },
            buf,
        );
    }
}

fn header<'a>(pane: &LogsPane, nav: &'a LogsNav, theme: &Theme) -> Line<'a> {
    let mut spans = vec![
        Span::styled(" logs ", theme.muted()),
        Span::styled(nav.title.as_str(), theme.title()),
    ];
    let mut say = |text: String, style: Style| {
        spans.push(Span::styled("  ", theme.muted()));
        spans.push(Span::styled(text, style));
    };
    match pane.top {
        None => say("following".to_owned(), theme.level_text(Level::Ok)),
        Some(_) => say(
            "not following (G: end)".to_owned(),
            theme.level_text(Level::Warn),
        ),
    }
    if pane.paused_at.is_some() {
        let text = format!("paused, {} new", pane.unseen());
        say(text, theme.level_text(Level::Warn));
    }
    say(format!("since {}", since_text(pane.since)), theme.muted());
    if pane.wrap {
        say("wrap".to_owned(), theme.muted());
    }
    if !pane.search.is_empty() {
        say(format!("/{}", pane.search), theme.text());
    }
    Line::from(spans)
}

fn news(pane: &LogsPane, theme: &Theme) -> Line<'static> {
    let kept = format!(" {} lines kept", pane.buffer.len());
    let dropped = match pane.buffer.dropped() {
        0 => String::new(),
        n => format!(" ({n} older dropped)"),
    };
    let mut spans = vec![Span::styled(kept + &dropped, theme.muted())];
    let (text, level) = match (&pane.ended, &pane.note) {
        (Some(why), _) => (why.clone(), Level::Critical),
        (None, Some(note)) => (note.clone(), Level::Warn),
        (None, None) if pane.buffer.is_empty() => ("waiting for lines…".to_owned(), Level::Ok),
        (None, None) => return Line::from(spans),
    };
    spans.push(Span::styled("  ", theme.muted()));
    spans.push(Span::styled(text, theme.level_text(level)));
    Line::from(spans)
}

/// One log line as rows of the view: cut at the view's width when wrapping, else one row
/// (the terminal's edge cuts it).
fn layout(
    pane: &LogsPane,
    line: &LogLine,
    app: bool,
    theme: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    if pane.timestamps {
        // The time of day to the millisecond: the date is the same screenful after screenful.
        let stamp = format_timestamp(line.unix_nanos);
        let time = stamp.get(11..23).unwrap_or(&stamp).to_owned();
        spans.push(Span::styled(time + " ", theme.muted()));
    }
    if app {
        let style = instance_style(theme, &line.source.tag);
        spans.push(Span::styled(format!("{} ", line.source.tag), style));
    }
    spans.push(match line.stream {
        Stream::Stderr => Span::styled("! ", theme.level_text(Level::Critical)),
        Stream::Stdout => Span::raw("  "),
    });
    let text_style = match line.stream {
        Stream::Stderr => theme.level_text(Level::Critical),
        Stream::Stdout => theme.text(),
    };
    let found = Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD);
    let mut at = 0;
    for range in match_ranges(&line.text, &pane.search) {
        spans.push(Span::styled(
            line.text[at..range.start].to_owned(),
            text_style,
        ));
        spans.push(Span::styled(line.text[range.clone()].to_owned(), found));
        at = range.end;
    }
    spans.push(Span::styled(line.text[at..].to_owned(), text_style));
    if pane.wrap {
        wrap(spans, width)
    } else {
        vec![Line::from(spans)]
    }
}

/// An instance's own colour, picked by its tag; none in a theme without colour (mono,
/// NO_COLOR), where the tag's text tells instances apart.
fn instance_style(theme: &Theme, tag: &str) -> Style {
    if Level::ALL.iter().all(|&l| theme.color(l) == Color::Reset) {
        return Style::new();
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    tag.hash(&mut hasher);
    let index = usize::try_from(hasher.finish() % INSTANCE_COLORS.len() as u64).unwrap_or(0);
    Style::new().fg(theme.depth().map(INSTANCE_COLORS[index]))
}

/// Cuts styled text into rows `width` columns wide (by character, not by word: log lines
/// are not prose, and a row count that follows from the length keeps scrolling simple).
fn wrap(spans: Vec<Span<'static>>, width: usize) -> Vec<Line<'static>> {
    let mut rows = Vec::new();
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for span in spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            let mut one = [0; 4];
            let w = Span::raw(&*c.encode_utf8(&mut one)).width();
            if used + w > width && used > 0 {
                row.push(Span::styled(std::mem::take(&mut piece), span.style));
                rows.push(Line::from(std::mem::take(&mut row)));
                used = 0;
            }
            piece.push(c);
            used += w;
        }
        if !piece.is_empty() {
            row.push(Span::styled(piece, span.style));
        }
    }
    if !row.is_empty() || rows.is_empty() {
        rows.push(Line::from(row));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(rows: &[Line]) -> Vec<String> {
        rows.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn wrapping_cuts_at_the_width_across_styles_and_keeps_every_character() {
        let spans = vec![Span::raw("ab"), Span::styled("cdefg", Style::new().bold())];
        assert_eq!(text(&wrap(spans, 3)), ["abc", "def", "g"]);
        assert_eq!(text(&wrap(vec![Span::raw("")], 3)), [""]);
        // A wide character never splits: it starts the next row.
        assert_eq!(text(&wrap(vec![Span::raw("a漢字")], 2)), ["a", "漢", "字"]);
    }

    #[test]
    fn a_90000_character_line_wraps_into_full_rows() {
        let rows = wrap(vec![Span::raw("x".repeat(90_000))], 80);
        assert_eq!(rows.len(), 1125);
        assert!(rows.iter().all(|r| r.width() == 80));
    }
}
