//! Reading a theme file over a base theme, key by key, so every mistake is reported at
//! its file:line:col and a file names only what it changes.

use super::{Glyphs, Level, Modifiers, Palette, Theme};
use crate::domain::FileError;
use crate::tui::tomlfile::{Doc, unknown};
use ratatui::style::{Color, Modifier};
use ratatui::text::Span;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;
use toml::de::DeValue;

type PaletteField = fn(&mut Palette) -> &mut Color;
const PALETTE: &[(&str, PaletteField)] = &[
    ("ok", |p| &mut p.ok),
    ("warn", |p| &mut p.warn),
    ("critical", |p| &mut p.critical),
    ("offline", |p| &mut p.offline),
    ("unknown", |p| &mut p.unknown),
    ("cell_text", |p| &mut p.cell_text),
    ("selected", |p| &mut p.selected),
    ("selected_text", |p| &mut p.selected_text),
    ("border", |p| &mut p.border),
    ("text", |p| &mut p.text),
    ("muted", |p| &mut p.muted),
    ("title", |p| &mut p.title),
    ("status_bar", |p| &mut p.status_bar),
    ("status_text", |p| &mut p.status_text),
];

type GlyphField = fn(&mut Glyphs) -> &mut char;
const GLYPHS: &[(&str, GlyphField)] = &[
    ("ok", |g| &mut g.ok),
    ("warn", |g| &mut g.warn),
    ("critical", |g| &mut g.critical),
    ("offline", |g| &mut g.offline),
    ("unknown", |g| &mut g.unknown),
    ("selected", |g| &mut g.selected),
    ("selected_column", |g| &mut g.selected_column),
];

type ModifierField = fn(&mut Modifiers) -> &mut Modifier;
const MODIFIERS: &[(&str, ModifierField)] = &[
    ("ok", |m| &mut m.ok),
    ("warn", |m| &mut m.warn),
    ("critical", |m| &mut m.critical),
    ("offline", |m| &mut m.offline),
    ("unknown", |m| &mut m.unknown),
    ("selected", |m| &mut m.selected),
    ("selected_row", |m| &mut m.selected_row),
    ("status_bar", |m| &mut m.status_bar),
];

/// Text attributes a theme may use. Blinking and hidden text are left out on purpose.
const MODIFIER_NAMES: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("reversed", Modifier::REVERSED),
    ("crossed_out", Modifier::CROSSED_OUT),
];

const THRESHOLDS: &[&str] = &["warn", "critical"];
const SECTIONS: &[&str] = &["palette", "thresholds", "glyphs", "modifiers"];

/// Reads `source` over `theme`. `complete` demands every key (for the built-in files).
pub(super) fn apply(
    mut theme: Theme,
    path: &Path,
    source: &str,
    complete: bool,
) -> Result<Theme, FileError> {
    let doc = Doc::parse(path, source)?;
    let mut seen: Vec<String> = Vec::new();
    // Where the file set a threshold: a warn/critical mismatch is reported there.
    let mut threshold_span: Option<Range<usize>> = None;
    // Where the file set each glyph: a clash between states is reported there.
    let mut glyph_spans: Vec<(&str, Range<usize>)> = Vec::new();
    for (key, value) in doc.root.iter() {
        let section = key.get_ref().as_ref();
        if !SECTIONS.contains(&section) {
            return Err(doc.error(key.span(), unknown("section", section, SECTIONS)));
        }
        let table = doc.table(section, value)?;
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            let bad_key = || {
                let what = format!("key in [{section}]");
                doc.error(key.span(), unknown(&what, name, keys(section)))
            };
            match section {
                "palette" => {
                    let field = find(PALETTE, name).ok_or_else(bad_key)?;
                    *field(&mut theme.palette) = color(&doc, name, value)?;
                }
                "glyphs" => {
                    let field = find(GLYPHS, name).ok_or_else(bad_key)?;
                    *field(&mut theme.glyphs) = glyph(&doc, name, value)?;
                    glyph_spans.push((name, value.span()));
                }
                "modifiers" => {
                    let field = find(MODIFIERS, name).ok_or_else(bad_key)?;
                    *field(&mut theme.modifiers) = modifiers(&doc, name, value)?;
                }
                _ => {
                    let slot = match name {
                        "warn" => &mut theme.thresholds.warn,
                        "critical" => &mut theme.thresholds.critical,
                        _ => return Err(bad_key()),
                    };
                    let n = doc.number(name, value)?;
                    if !(0.0..=100.0).contains(&n) {
                        let msg = format!("`{name}` must be a percentage in 0..=100, not {n}");
                        return Err(doc.error(value.span(), msg));
                    }
                    *slot = n;
                    // Keys come sorted by name, not by position: keep the first in the file.
                    let span = value.span();
                    if threshold_span.as_ref().is_none_or(|s| span.start < s.start) {
                        threshold_span = Some(span);
                    }
                }
            }
            seen.push(format!("{section}.{name}"));
        }
    }
    let t = theme.thresholds;
    if t.warn >= t.critical {
        let msg = format!(
            "thresholds.warn ({}) must be below thresholds.critical ({})",
            t.warn, t.critical
        );
        return Err(doc.error(threshold_span.unwrap_or(0..0), msg));
    }
    check_glyphs_differ(&doc, &theme, &glyph_spans)?;
    if complete {
        for section in SECTIONS {
            for name in keys(section) {
                if !seen.contains(&format!("{section}.{name}")) {
                    return Err(doc.error(0..0, format!("missing key `{name}` in [{section}]")));
                }
            }
        }
    }
    Ok(theme)
}

fn find<F: Copy>(table: &[(&str, F)], name: &str) -> Option<F> {
    table.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// The valid key names of a section.
fn keys(section: &str) -> Vec<&'static str> {
    match section {
        "palette" => PALETTE.iter().map(|(n, _)| *n).collect(),
        "glyphs" => GLYPHS.iter().map(|(n, _)| *n).collect(),
        "modifiers" => MODIFIERS.iter().map(|(n, _)| *n).collect(),
        _ => THRESHOLDS.to_vec(),
    }
}

/// The five state glyphs must differ: at one character per host, and with no colour,
/// the glyph is all that tells the states apart.
fn check_glyphs_differ(
    doc: &Doc<'_>,
    theme: &Theme,
    spans: &[(&str, Range<usize>)],
) -> Result<(), FileError> {
    for (i, &a) in Level::ALL.iter().enumerate() {
        for &b in &Level::ALL[i + 1..] {
            if theme.glyph(a) != theme.glyph(b) {
                continue;
            }
            // Point at whichever of the two this file set last.
            let span = spans
                .iter()
                .filter(|(n, _)| *n == a.key() || *n == b.key())
                .map(|(_, s)| s.clone())
                .max_by_key(|s| s.start)
                .unwrap_or(0..0);
            let msg = format!(
                "glyphs `{}` and `{}` are both {:?}: each state needs its own glyph",
                a.key(),
                b.key(),
                theme.glyph(a)
            );
            return Err(doc.error(span, msg));
        }
    }
    Ok(())
}

fn color(doc: &Doc<'_>, name: &str, value: &Spanned<DeValue<'_>>) -> Result<Color, FileError> {
    let text = doc.string(name, value)?;
    text.parse::<Color>().map_err(|_| {
        doc.error(
            value.span(),
            format!("`{text}` is not a colour: use a name like \"green\" or \"dark_gray\", \"#rrggbb\", or 0..255"),
        )
    })
}

fn glyph(doc: &Doc<'_>, name: &str, value: &Spanned<DeValue<'_>>) -> Result<char, FileError> {
    let text = doc.string(name, value)?;
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if !c.is_control() && Span::raw(text).width() == 1 => Ok(c),
        _ => Err(doc.error(
            value.span(),
            format!("glyph `{name}` must be one character one column wide, not {text:?}"),
        )),
    }
}

/// One modifier name, or a list of them (`[]` for none).
fn modifiers(
    doc: &Doc<'_>,
    name: &str,
    value: &Spanned<DeValue<'_>>,
) -> Result<Modifier, FileError> {
    let one = |item: &Spanned<DeValue<'_>>| {
        let text = doc.string(name, item)?;
        find(MODIFIER_NAMES, text).ok_or_else(|| {
            let names = MODIFIER_NAMES.iter().map(|(n, _)| *n);
            doc.error(item.span(), unknown("modifier", text, names))
        })
    };
    match value.get_ref() {
        DeValue::Array(items) => items
            .iter()
            .try_fold(Modifier::empty(), |all, item| Ok(all | one(item)?)),
        DeValue::String(_) => one(value),
        other => Err(doc.error(
            value.span(),
            format!(
                "`{name}` must be a modifier or a list of them, like [\"bold\", \"underlined\"], not {}",
                other.type_str()
            ),
        )),
    }
}
