//! What a simulated fleet does, decided before it runs: each host's load pattern, and
//! actions at set times (engines that vanish and return, slow answers, crashes, unhealthy
//! containers, failing pulls). Read from a TOML file; the same actions also arrive at run
//! time (`lab sim act`). Everything random comes from the seed, so a run can be repeated.

use crate::domain::FileError;
use crate::domain::duration::Bounds;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// The longest duration a scenario names: a day.
const LONGEST: Bounds = Bounds::new(Duration::ZERO, Duration::from_secs(86_400));

/// A scenario file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    seed: Option<u64>,
    #[serde(default)]
    load: Vec<toml::Spanned<LoadEntry>>,
    #[serde(default)]
    at: Vec<toml::Spanned<Action>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadEntry {
    hosts: String,
    pattern: Pattern,
    low: f64,
    #[serde(default)]
    high: Option<f64>,
    #[serde(default)]
    period: Option<String>,
}

/// How a host's load moves over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pattern {
    /// `low` throughout.
    Steady,
    /// From `low` to `high` over `period`, then `high`.
    Ramp,
    /// `high` for the first tenth of every `period`, `low` otherwise.
    Spike,
    /// Around the middle of `low` and `high`, a new seeded draw every second.
    Noise,
}

/// One host's load: percent of the host's CPUs its containers use together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    pub pattern: Pattern,
    pub low: f64,
    pub high: f64,
    pub period: Duration,
}

impl Load {
    /// Percent of the host's CPUs at `t` since the start; `draw` is a seeded number in
    /// [0, 1) for this host and second.
    pub fn percent(&self, t: Duration, draw: f64) -> f64 {
        let period = self.period.as_secs_f64().max(1.0);
        let at = t.as_secs_f64();
        let value = match self.pattern {
            Pattern::Steady => self.low,
            Pattern::Ramp => self.low + (self.high - self.low) * (at / period).min(1.0),
            Pattern::Spike if at % period < period / 10.0 => self.high,
            Pattern::Spike => self.low,
            Pattern::Noise => self.low + (self.high - self.low) * draw,
        };
        value.clamp(0.0, 100.0)
    }
}

/// A change to some hosts, now (`lab sim act`) or at a set time (a scenario's `[[at]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// In a scenario's `[[at]]`: when, after the start. None from `lab sim act` (now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Host numbers, 1-based: "all", "7", "1-100", "1-10,50".
    pub hosts: String,
    #[serde(rename = "do")]
    pub what: What,
    /// For `slow`: how long each answer waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<String>,
    /// For `crash` and `unhealthy`: how many running containers per host (default all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// For `pull-fail` and `pull-ok`: the image (default every image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum What {
    /// The engine stops answering: its socket goes, open connections drop.
    Vanish,
    /// A vanished engine answers again, with its containers.
    Return,
    /// Every answer waits `delay` first.
    Slow,
    /// Answers come at once again.
    Fast,
    /// Running containers exit with code 137 (restart policies apply).
    Crash,
    /// Running containers with a health check turn unhealthy.
    Unhealthy,
    /// Unhealthy containers turn healthy.
    Healthy,
    /// Pulls of `image` (or all) fail.
    PullFail,
    /// Pulls work again.
    PullOk,
}

/// An action with its hosts read and its delay checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub hosts: Vec<usize>,
    pub what: What,
    pub delay: Duration,
    pub count: Option<usize>,
    pub image: Option<String>,
}

impl Action {
    /// The hosts (0-based indexes) of a fleet of `engines`, and the delay read.
    pub fn check(&self, engines: usize) -> Result<Checked, String> {
        let delay = match (&self.delay, self.what) {
            (Some(text), What::Slow) => LONGEST.parse("delay", text)?,
            (None, What::Slow) => return Err("slow needs a delay, e.g. delay = \"5s\"".into()),
            (Some(_), _) => return Err("only slow takes a delay".into()),
            (None, _) => Duration::ZERO,
        };
        Ok(Checked {
            hosts: host_set(&self.hosts, engines)?,
            what: self.what,
            delay,
            count: self.count,
            image: self.image.clone(),
        })
    }
}

/// "all", "7", "1-100", "1-10,50" over hosts numbered 1..=engines, as 0-based indexes in
/// order, each once.
pub fn host_set(text: &str, engines: usize) -> Result<Vec<usize>, String> {
    if text.trim() == "all" {
        return Ok((0..engines).collect());
    }
    let mut picked = vec![false; engines];
    for part in text.split(',').map(str::trim) {
        let number = |s: &str| {
            s.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=engines).contains(n))
                .ok_or_else(|| format!("hosts {text:?}: {s:?} is not a host number 1 to {engines}"))
        };
        let (from, to) = match part.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(part)?, number(part)?),
        };
        if from > to {
            return Err(format!("hosts {text:?}: the range {part:?} runs backwards"));
        }
        picked[from - 1..to].iter_mut().for_each(|p| *p = true);
    }
    Ok((0..engines).filter(|&i| picked[i]).collect())
}

/// A scenario read and checked against a fleet's size.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scenario {
    pub seed: Option<u64>,
    /// Per host (0-based), the load it follows; None: the default seeded noise.
    pub loads: Vec<Option<Load>>,
    /// Actions by time since the start, in order.
    pub timeline: Vec<(Duration, Checked)>,
}

impl Scenario {
    /// Reads `source` (the text of `path`) for a fleet of `engines`; errors name
    /// file:line:col.
    pub fn parse(path: &Path, source: &str, engines: usize) -> Result<Scenario, FileError> {
        let file: File =
            toml::from_str(source).map_err(|e| FileError::from_toml(path, source, &e))?;
        let at = |span: std::ops::Range<usize>, why: String| FileError::at(path, source, span, why);
        let mut loads = vec![None; engines];
        for entry in &file.load {
            let span = entry.span();
            let e = entry.get_ref();
            let high = e.high.unwrap_or(e.low);
            if !(0.0..=100.0).contains(&e.low) || !(0.0..=100.0).contains(&high) {
                return Err(at(span, "low and high are percents, 0 to 100".into()));
            }
            let period = match &e.period {
                Some(text) => LONGEST
                    .parse("period", text)
                    .map_err(|w| at(span.clone(), w))?,
                None if matches!(e.pattern, Pattern::Ramp | Pattern::Spike) => {
                    return Err(at(
                        span,
                        "ramp and spike need a period, e.g. period = \"5m\"".into(),
                    ));
                }
                None => Duration::from_secs(60),
            };
            let load = Load {
                pattern: e.pattern,
                low: e.low,
                high,
                period,
            };
            for i in host_set(&e.hosts, engines).map_err(|w| at(span.clone(), w))? {
                loads[i] = Some(load);
            }
        }
        let mut timeline = Vec::new();
        for entry in &file.at {
            let span = entry.span();
            let e = entry.get_ref();
            let Some(time) = &e.time else {
                return Err(at(
                    span,
                    "an [[at]] needs a time, e.g. time = \"30s\"".into(),
                ));
            };
            let time = LONGEST
                .parse("time", time)
                .map_err(|w| at(span.clone(), w))?;
            let checked = e.check(engines).map_err(|w| at(span, w))?;
            timeline.push((time, checked));
        }
        timeline.sort_by_key(|(t, _)| *t);
        Ok(Scenario {
            seed: file.seed,
            loads,
            timeline,
        })
    }
}

/// SplitMix64 of the seed and some coordinates: the same numbers on every run.
pub fn draw(seed: u64, a: u64, b: u64) -> u64 {
    let mut z = seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.rotate_left(32);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `draw` as a number in [0, 1).
pub fn unit(seed: u64, a: u64, b: u64) -> f64 {
    (draw(seed, a, b) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn host_sets_read_ranges_lists_and_all() {
        assert_eq!(host_set("all", 3).unwrap(), vec![0, 1, 2]);
        assert_eq!(host_set("2", 3).unwrap(), vec![1]);
        assert_eq!(host_set("1-2, 5", 6).unwrap(), vec![0, 1, 4]);
        assert_eq!(host_set("3-3,1-3", 4).unwrap(), vec![0, 1, 2]);
        for bad in ["0", "4", "2-1", "x", "", "1-", "-3"] {
            assert!(host_set(bad, 3).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_scenario_reads_loads_and_a_sorted_timeline() {
        let text = r#"
seed = 9
[[load]]
hosts = "1-2"
pattern = "ramp"
low = 10
high = 90
period = "10s"

[[at]]
time = "20s"
hosts = "2"
do = "return"

[[at]]
time = "5s"
hosts = "2"
do = "slow"
delay = "5s"
"#;
        let s = Scenario::parse(Path::new("s.toml"), text, 3).unwrap();
        assert_eq!(s.seed, Some(9));
        let ramp = s.loads[0].unwrap();
        assert_eq!(s.loads[1], Some(ramp));
        assert_eq!(s.loads[2], None);
        assert_eq!(ramp.percent(Duration::from_secs(5), 0.0), 50.0);
        assert_eq!(ramp.percent(Duration::from_secs(60), 0.0), 90.0);
        let whats: Vec<_> = s
            .timeline
            .iter()
            .map(|(t, c)| (t.as_secs(), c.what))
            .collect();
        assert_eq!(whats, vec![(5, What::Slow), (20, What::Return)]);
        assert_eq!(s.timeline[0].1.delay, Duration::from_secs(5));
    }

    #[test]
    fn mistakes_name_file_line_and_column() {
        let cases = [
            (
                "[[at]]\ntime = \"5s\"\nhosts = \"1\"\ndo = \"slow\"\n",
                1,
                "delay",
            ),
            (
                "[[at]]\ntime = \"5s\"\nhosts = \"9\"\ndo = \"vanish\"\n",
                1,
                "host number",
            ),
            (
                "[[load]]\nhosts = \"1\"\npattern = \"ramp\"\nlow = 5\n",
                1,
                "period",
            ),
            (
                "[[load]]\nhosts = \"1\"\npattern = \"steady\"\nlow = 500\n",
                1,
                "percents",
            ),
            (
                "seed = 1\n[[at]]\ntime = \"5s\"\nhosts = \"1\"\ndo = \"explode\"\n",
                5,
                "explode",
            ),
            ("seed = 1\nbogus = 2\n", 2, "bogus"),
        ];
        for (text, line, needle) in cases {
            let err = Scenario::parse(Path::new("s.toml"), text, 3).unwrap_err();
            assert_eq!(err.line, line, "{err}");
            assert!(err.to_string().starts_with("s.toml:"), "{err}");
            assert!(err.message.contains(needle), "{err}");
        }
    }

    #[test]
    fn spikes_are_high_for_a_tenth_of_each_period() {
        let spike = Load {
            pattern: Pattern::Spike,
            low: 5.0,
            high: 95.0,
            period: Duration::from_secs(100),
        };
        let high = (0..1000)
            .filter(|s| spike.percent(Duration::from_secs(*s), 0.5) == 95.0)
            .count();
        assert_eq!(high, 100);
    }

    proptest! {
        #[test]
        fn any_load_stays_a_percent(low in -50.0..150.0f64, high in -50.0..150.0f64,
                                    t in 0u64..100_000, d in 0.0..1.0f64, p in 0usize..4) {
            let pattern = [Pattern::Steady, Pattern::Ramp, Pattern::Spike, Pattern::Noise][p];
            let load = Load { pattern, low, high, period: Duration::from_secs(t % 700) };
            let v = load.percent(Duration::from_millis(t * 37), d);
            prop_assert!((0.0..=100.0).contains(&v));
        }

        #[test]
        fn draws_repeat_and_units_stay_below_one(seed: u64, a: u64, b: u64) {
            prop_assert_eq!(draw(seed, a, b), draw(seed, a, b));
            let u = unit(seed, a, b);
            prop_assert!((0.0..1.0).contains(&u));
        }

        #[test]
        fn no_text_panics_the_reader(text in "\\PC{0,200}") {
            let _ = Scenario::parse(Path::new("s.toml"), &text, 5);
            let _ = host_set(&text, 5);
        }
    }
}
