//! Stand-in history until `crate::metrics::history::Series` (Gorilla blocks) lands: the
//! same API over a plain ring of the last hour at one point a tick. Swapping it is one
//! `use` line in `agent/mod.rs`.

use std::collections::VecDeque;

/// One point of a series; `value: None` is a gap (no reading that tick).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub unix_ms: i64,
    pub value: Option<f64>,
}

/// A series' tick and the step its values may be rounded to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution {
    pub tick_ms: i64,
    pub quantum: f64,
}

/// How many points a ring keeps: one hour at one second.
const KEEP: usize = 3600;

#[derive(Debug, Clone)]
pub struct Series {
    points: VecDeque<Point>,
}

impl Series {
    pub fn new(_res: Resolution) -> Series {
        Series {
            points: VecDeque::new(),
        }
    }

    pub fn push(&mut self, unix_ms: i64, value: Option<f64>) {
        if self.points.len() == KEEP {
            self.points.pop_front();
        }
        self.points.push_back(Point { unix_ms, value });
    }

    /// Points since `since_unix_ms`, one per `step_ms` (the mean of the readings in each
    /// step; a step whose readings are all gaps is a gap).
    pub fn points(&self, since_unix_ms: i64, step_ms: i64) -> Vec<Point> {
        let step = step_ms.max(1);
        let mut out: Vec<(Point, usize)> = Vec::new();
        for p in self.points.iter().filter(|p| p.unix_ms >= since_unix_ms) {
            let slot = since_unix_ms + (p.unix_ms - since_unix_ms) / step * step;
            match out.last_mut() {
                Some((last, n)) if last.unix_ms == slot => {
                    if let Some(v) = p.value {
                        last.value = Some(last.value.unwrap_or(0.0) + v);
                        *n += 1;
                    }
                }
                _ => out.push((
                    Point {
                        unix_ms: slot,
                        value: p.value,
                    },
                    usize::from(p.value.is_some()),
                )),
            }
        }
        out.into_iter()
            .map(|(p, n)| Point {
                unix_ms: p.unix_ms,
                value: p.value.map(|sum| sum / n.max(1) as f64),
            })
            .collect()
    }

    pub fn bytes(&self) -> usize {
        self.points.capacity() * std::mem::size_of::<Point>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RES: Resolution = Resolution {
        tick_ms: 1000,
        quantum: 0.0,
    };

    #[test]
    fn steps_average_and_gaps_stay_gaps() {
        let mut s = Series::new(RES);
        for (t, v) in [
            (0, Some(1.0)),
            (1000, Some(3.0)),
            (2000, None),
            (3000, None),
        ] {
            s.push(t, v);
        }
        assert_eq!(
            s.points(0, 2000),
            vec![
                Point {
                    unix_ms: 0,
                    value: Some(2.0)
                },
                Point {
                    unix_ms: 2000,
                    value: None
                }
            ]
        );
        assert_eq!(s.points(1000, 1000).len(), 3);
    }

    #[test]
    fn keeps_one_hour() {
        let mut s = Series::new(RES);
        for t in 0..(KEEP as i64 + 10) {
            s.push(t * 1000, Some(t as f64));
        }
        let all = s.points(0, 1000);
        assert_eq!(all.len(), KEEP);
        assert_eq!(all.first().map(|p| p.unix_ms), Some(10_000));
        assert!(s.bytes() >= KEEP * std::mem::size_of::<Point>());
    }
}
