//! The store's promises: an hour at full resolution, a day of means, gaps as gaps, bounded
//! memory, and time going back never breaking anything.

use super::*;

const T0: i64 = 1_800_000_000_000;
const CPU: Resolution = Resolution {
    tick_ms: 1000,
    quantum: 0.01,
};

/// A noisy CPU figure for second `i`.
fn cpu(i: i64) -> f64 {
    50.0 + ((i * 7919) % 1000) as f64 / 100.0
}

fn filled(seconds: i64) -> Series {
    let mut s = Series::new(CPU);
    for i in 0..seconds {
        s.push(T0 + i * 1000 + 3, Some(cpu(i)));
    }
    s
}

#[test]
fn the_last_hour_comes_back_at_full_resolution() {
    let s = filled(2 * 3600);
    let newest = T0 + (2 * 3600 - 1) * 1000;
    assert_eq!(
        s.last(),
        Some(Point {
            unix_ms: newest,
            value: Some(cpu(2 * 3600 - 1))
        })
    );
    let since = newest - 3600 * 1000;
    let points = s.points(since, 1000);
    assert_eq!(points.len(), 3601);
    for (k, p) in points.iter().enumerate() {
        let i = 3600 + k as i64 - 1;
        assert_eq!(p.unix_ms, T0 + i * 1000);
        let v = p.value.unwrap();
        assert!((v - cpu(i)).abs() < 1e-9, "second {i}: {v}");
    }
}

#[test]
fn older_data_is_kept_as_ten_second_means() {
    let s = filled(3 * 3600);
    let points = s.points(T0, 10_000);
    // The first 1 h 10 min or so has aged into 10 s means; all of it is still there.
    assert_eq!(points.first().map(|p| p.unix_ms), Some(T0));
    assert_eq!(points.len(), 3 * 360);
    for (k, p) in points.iter().enumerate() {
        let mean = (0..10).map(|j| cpu(k as i64 * 10 + j)).sum::<f64>() / 10.0;
        let v = p.value.unwrap();
        assert!((v - mean).abs() < 0.011, "bucket {k}: {v} vs {mean}");
    }
    // Asked per second, an aged 10 s mean fills each of its seconds.
    let per_second = s.points(T0, 1000);
    assert_eq!(per_second.len(), 3 * 3600);
    assert_eq!(per_second[3].value, points[0].value);
}

#[test]
fn memory_is_bounded_and_a_day_is_kept() {
    let mut s = Series::new(CPU);
    let mut most = 0;
    let mut at_26h = 0;
    for i in 0..30 * 3600 {
        s.push(T0 + i * 1000, Some(cpu(i)));
        most = most.max(s.bytes());
        if i == 26 * 3600 {
            at_26h = most;
        }
    }
    assert_eq!(most, at_26h, "grew after 26 h");
    assert!(most < 256 * 1024, "{most} bytes");
    let newest = T0 + (30 * 3600 - 1) * 1000;
    let oldest = s.points(T0, 10_000)[0].unix_ms;
    assert!(
        newest - oldest >= 24 * 3600 * 1000,
        "kept only {} s",
        (newest - oldest) / 1000
    );
    assert!(
        newest - oldest <= 26 * 3600 * 1000,
        "kept {} s",
        (newest - oldest) / 1000
    );
}

#[test]
fn gaps_and_missing_ticks_are_gaps_not_zeros() {
    let mut s = Series::new(CPU);
    s.push(T0, Some(1.0));
    s.push(T0 + 1000, None);
    s.push(T0 + 4000, Some(4.0));
    let values: Vec<_> = s.points(T0, 1000).iter().map(|p| p.value).collect();
    assert_eq!(values, [Some(1.0), None, None, None, Some(4.0)]);
    let halves: Vec<_> = s.points(T0, 2000).iter().map(|p| p.value).collect();
    assert_eq!(halves, [Some(1.0), None, Some(4.0)]);
    assert_eq!(
        s.last(),
        Some(Point {
            unix_ms: T0 + 4000,
            value: Some(4.0)
        })
    );
    s.push(T0 + 5000, None);
    assert_eq!(
        s.last(),
        Some(Point {
            unix_ms: T0 + 5000,
            value: None
        })
    );
}

#[test]
fn time_going_back_or_a_second_reading_in_a_tick_is_dropped() {
    let mut s = Series::new(CPU);
    s.push(T0, Some(1.0));
    s.push(T0 + 1000, Some(2.0));
    s.push(T0 + 1400, Some(3.0));
    s.push(T0 - 60_000, Some(4.0));
    s.push(i64::MIN, Some(5.0));
    let values: Vec<_> = s.points(i64::MIN, 1).iter().map(|p| p.value).collect();
    assert_eq!(values, [Some(1.0), Some(2.0)]);
}

#[test]
fn huge_jumps_and_odd_arguments_stay_bounded() {
    let mut s = Series::new(Resolution {
        tick_ms: 0,
        quantum: f64::NAN,
    });
    assert_eq!(s.points(0, 1000), []);
    assert_eq!(s.last(), None);
    for t in [i64::MIN, -5, 0, 1 << 40, i64::MAX - 1, i64::MAX] {
        s.push(t, Some(t as f64));
        assert!(s.points(i64::MIN, 0).len() <= 100_000);
        assert!(s.points(i64::MIN, i64::MAX).len() <= 2);
    }
    assert_eq!(s.last().map(|p| p.unix_ms), Some(i64::MAX));
    assert!(s.bytes() < 64 * 1024);
}

#[test]
fn encoded_bytes_of_a_steady_series() {
    let mut s = Series::new(CPU);
    for i in 0..3600 {
        s.push(T0 + i * 1000, Some(25.0));
    }
    // Two bits a sample, plus a block header every 10 minutes.
    assert!(
        s.encoded_bytes() <= 3600 / 4 + 6 * 20,
        "{}",
        s.encoded_bytes()
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn step() -> impl Strategy<Value = i64> {
        prop_oneof![8 => 900i64..1100, 1 => -5_000_000i64..5_000_000, 1 => any::<i64>()]
    }

    proptest! {
        #[test]
        fn any_pushes_stay_ordered_and_bounded(
            steps in prop::collection::vec(step(), 0..2000),
            values in prop::collection::vec(prop::option::weighted(0.9, any::<f64>()), 2000),
            since in any::<i64>(),
            step_ms in any::<i64>(),
        ) {
            let mut s = Series::new(CPU);
            let mut t = T0;
            let mut newest: Option<i64> = None;
            for (d, v) in steps.iter().zip(&values) {
                t = t.wrapping_add(*d);
                s.push(t, *v);
                let tick = snap(t, 1000).saturating_mul(1000);
                newest = Some(newest.map_or(tick, |n| n.max(tick)));
                prop_assert_eq!(s.last().map(|p| p.unix_ms), newest);
            }
            prop_assert!(s.bytes() < 512 * 1024, "{} bytes", s.bytes());
            let points = s.points(since, step_ms);
            // At most ~25 h of 1 s buckets.
            prop_assert!(points.len() <= 26 * 3600, "{} points", points.len());
            prop_assert!(points.windows(2).all(|w| w[0].unix_ms < w[1].unix_ms));
        }
    }
}
