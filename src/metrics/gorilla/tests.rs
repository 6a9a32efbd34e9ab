//! Worked examples of the codec; gorilla/proptests.rs covers arbitrary input.

use super::*;

const CPU: Resolution = Resolution {
    tick_ms: 1000,
    quantum: 0.01,
};

fn encode(samples: &[(i64, Option<f64>)], res: Resolution) -> Vec<u8> {
    let mut enc = Encoder::new(res);
    for &(t, v) in samples {
        enc.push(t, v);
    }
    enc.to_bytes()
}

#[test]
fn a_steady_series_costs_about_two_bits_a_sample() {
    // Readings up to 40 ms late or early land on their tick; the value repeats.
    let samples: Vec<_> = (0..600)
        .map(|i| {
            (
                1_700_000_000_000 + i * 1000 + (i * 37) % 80 - 40,
                Some(12.5),
            )
        })
        .collect();
    let bytes = encode(&samples, CPU);
    // 64-bit first tick, a 9-bit first delta, the first value; then 1 + 1 bits each.
    assert!(
        bytes.len() <= 2 + 8 + 2 + 5 + 600 / 4,
        "{} bytes",
        bytes.len()
    );
    let back = decode(&bytes, &CPU).unwrap();
    assert_eq!(back.len(), 600);
    for (i, p) in back.iter().enumerate() {
        assert_eq!(p.unix_ms, 1_700_000_000_000 + i as i64 * 1000);
        assert_eq!(p.value, Some(12.5));
    }
}

#[test]
fn gaps_come_back_as_gaps_and_values_within_the_quantum() {
    let samples = [
        (5_000, Some(99.996)),
        (6_000, None),
        (7_000, Some(0.0)),
        (9_000, None),
        (3_000_000, Some(-2.71234)),
        (3_001_000, Some(f64::INFINITY)),
        (3_002_000, Some(f64::NAN)),
        (3_003_000, Some(1e300)),
        (3_004_000, Some(f64::NEG_INFINITY)),
    ];
    let back = decode(&encode(&samples, CPU), &CPU).unwrap();
    let times: Vec<i64> = back.iter().map(|p| p.unix_ms).collect();
    assert_eq!(times, samples.map(|s| s.0));
    assert_eq!(back[1].value, None);
    assert_eq!(back[3].value, None);
    assert!((back[0].value.unwrap() - 100.0).abs() < 1e-9, "{back:?}");
    assert_eq!(back[2].value, Some(0.0));
    assert!((back[4].value.unwrap() + 2.71).abs() < 1e-9);
    assert_eq!(back[5].value, Some(f64::INFINITY));
    assert!(back[6].value.unwrap().is_nan());
    assert_eq!(back[7].value, Some(1e300));
    assert_eq!(back[8].value, Some(f64::NEG_INFINITY));
}

#[test]
fn memory_in_pages_and_an_exact_series() {
    let mem = Resolution {
        tick_ms: 1000,
        quantum: 4096.0,
    };
    let back = decode(&encode(&[(0, Some(561_152.0 + 100.0))], mem), &mem).unwrap();
    assert_eq!(back[0].value, Some(561_152.0));
    let exact = Resolution {
        tick_ms: 1,
        quantum: 0.0,
    };
    let v = 0.1 + 0.2;
    let back = decode(
        &encode(&[(-7, Some(v)), (i64::MAX, Some(-v))], exact),
        &exact,
    )
    .unwrap();
    assert_eq!(
        back,
        [
            Point {
                unix_ms: -7,
                value: Some(v)
            },
            Point {
                unix_ms: i64::MAX,
                value: Some(-v)
            }
        ]
    );
}

#[test]
fn snapping_rounds_to_the_nearest_tick_and_stays_in_range() {
    assert_eq!(snap(1_499, 1000), 1);
    assert_eq!(snap(1_500, 1000), 2);
    assert_eq!(snap(-1_501, 1000), -2);
    assert_eq!(snap(i64::MAX, 1000), i64::MAX / 1000);
    assert_eq!(snap(i64::MIN, 1000), i64::MIN / 1000);
    assert_eq!(snap(42, 0), 42);
}

#[test]
fn truncated_and_hostile_blocks_are_errors() {
    let bytes = encode(&[(0, Some(1.0)), (1000, Some(2.0)), (2000, None)], CPU);
    for cut in 0..bytes.len() {
        assert!(decode(&bytes[..cut], &CPU).is_err(), "cut at {cut}");
    }
    assert_eq!(decode(&[], &CPU), Err(DecodeError::BadCount(0)));
    assert_eq!(decode(&[0xff; 5], &CPU), Err(DecodeError::BadCount(5)));
    // One sample: tick 0, then `10` (reuse a window) before any window was set.
    let no_window = one_sample(&[(0, 64), (0b10, 2)]);
    assert_eq!(decode(&no_window, &CPU), Err(DecodeError::NoWindow(0)));
    // A window of 40 leading zeros and 64 bits.
    let wide = one_sample(&[(0, 64), (0b110, 3), (40, 6), (63, 6), (0, 64)]);
    assert_eq!(decode(&wide, &CPU), Err(DecodeError::BadWindow(0)));
    // A tick whose timestamp overflows.
    let late = one_sample(&[(i64::MAX as u64, 64), (0, 1)]);
    assert_eq!(decode(&late, &CPU), Err(DecodeError::BadTime(0)));
}

/// A block of one sample made of these bit fields.
fn one_sample(fields: &[(u64, u32)]) -> Vec<u8> {
    let mut w = BitWriter::default();
    for &(v, n) in fields {
        w.write(v, n);
    }
    let mut block = vec![1];
    block.extend_from_slice(w.bytes());
    block
}

#[test]
fn an_empty_block_is_one_byte() {
    let enc = Encoder::new(CPU);
    assert!(enc.is_empty());
    assert_eq!(enc.to_bytes(), [0]);
    assert_eq!(decode(&[0], &CPU), Ok(Vec::new()));
}
