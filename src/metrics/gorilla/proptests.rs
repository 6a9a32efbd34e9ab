//! Any samples round-trip: timestamps on their ticks, values within the quantum, gaps as
//! gaps; any bytes decode to samples or an error, never a panic.

use super::*;
use proptest::prelude::*;

fn value() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(f64::NAN)),
        1 => Just(Some(f64::INFINITY)),
        1 => Just(Some(f64::NEG_INFINITY)),
        6 => (0.0f64..100.0).prop_map(Some),
        3 => any::<f64>().prop_map(Some),
    ]
}

/// Steady ticks with jitter, and now and then a jump of any size (back too).
fn times() -> impl Strategy<Value = Vec<i64>> {
    let step = prop_oneof![8 => 990i64..1010, 1 => any::<i64>(), 1 => -100_000i64..100_000];
    (any::<i64>(), prop::collection::vec(step, 0..300)).prop_map(|(t0, steps)| {
        steps
            .iter()
            .scan(t0, |t, s| {
                *t = t.wrapping_add(*s);
                Some(*t)
            })
            .collect()
    })
}

fn resolution() -> impl Strategy<Value = Resolution> {
    let tick = prop_oneof![Just(1000i64), Just(1), 1i64..100_000, any::<i64>()];
    let quantum = prop_oneof![
        Just(0.01),
        Just(4096.0),
        Just(0.0),
        1e-9f64..1e9,
        any::<f64>()
    ];
    (tick, quantum).prop_map(|(tick_ms, quantum)| Resolution { tick_ms, quantum })
}

proptest! {
    #[test]
    fn samples_round_trip(times in times(), values in prop::collection::vec(value(), 300), res in resolution()) {
        let mut enc = Encoder::new(res);
        for (t, v) in times.iter().zip(&values) {
            enc.push(*t, *v);
        }
        let back = decode(&enc.to_bytes(), &res).unwrap();
        prop_assert_eq!(back.len(), times.len());
        let norm = res.normalised();
        for ((p, t), v) in back.iter().zip(&times).zip(&values) {
            prop_assert_eq!(p.unix_ms, snap(*t, norm.tick_ms) * norm.tick_ms);
            prop_assert_eq!(p.unix_ms % norm.tick_ms, 0);
            if (i128::from(*t) - i128::from(p.unix_ms)).abs() > i128::from(norm.tick_ms / 2) {
                // Only a timestamp beyond the last whole tick is moved further.
                prop_assert!(p.unix_ms == i64::MAX / norm.tick_ms * norm.tick_ms
                    || p.unix_ms == i64::MIN / norm.tick_ms * norm.tick_ms);
            }
            match (v, p.value) {
                (None, None) => {}
                (Some(v), Some(got)) if v.is_nan() => prop_assert!(got.is_nan()),
                (Some(v), Some(got)) if v.is_infinite() => prop_assert_eq!(got, *v),
                (Some(v), Some(got)) => prop_assert!(
                    (got - v).abs() <= norm.quantum,
                    "{} came back as {} (quantum {})", v, got, norm.quantum
                ),
                (v, got) => prop_assert!(false, "{:?} came back as {:?}", v, got),
            }
        }
    }

    #[test]
    fn any_bytes_decode_or_fail(bytes in prop::collection::vec(any::<u8>(), 0..400), res in resolution()) {
        let _ = decode(&bytes, &res);
    }

    #[test]
    fn cut_or_flipped_blocks_never_panic(values in prop::collection::vec(value(), 1..100), cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>()) {
        let mut enc = Encoder::new(Resolution { tick_ms: 1000, quantum: 0.01 });
        for (i, v) in values.iter().enumerate() {
            enc.push(i as i64 * 1000, *v);
        }
        let mut bytes = enc.to_bytes();
        let at = flip.index(bytes.len());
        bytes[at] ^= 0x5a;
        let _ = decode(&bytes, &Resolution { tick_ms: 1000, quantum: 0.01 });
        let _ = decode(&bytes[..cut.index(bytes.len())], &Resolution { tick_ms: 1000, quantum: 0.01 });
    }
}
