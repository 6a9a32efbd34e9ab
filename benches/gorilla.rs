//! The metric history codec on real lab series (benches/data/, recorded by
//! scripts/record-series: CPU % and memory of a busy and an idle container, one sample a
//! second for 10 minutes). Prints the bytes per sample each series takes in a `Series`
//! (the encoded blocks; and the memory the series holds, buffers included), then measures
//! encoding and decoding in samples per second. Goal (issue 11): at most 1.3 B/sample;
//! anchors: the Gorilla paper 1.37, Prometheus 1-2.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;
use wheelhouse::metrics::gorilla::{Encoder, decode};
use wheelhouse::metrics::{Resolution, Series};

/// CPU in hundredths of a percentage point; memory in pages.
const CPU: Resolution = Resolution {
    tick_ms: 1000,
    quantum: 0.01,
};
const MEM: Resolution = Resolution {
    tick_ms: 1000,
    quantum: 4096.0,
};
const SERIES: [(&str, Resolution); 4] = [
    ("busy-cpu", CPU),
    ("idle-cpu", CPU),
    ("busy-mem", MEM),
    ("idle-mem", MEM),
];

fn read(name: &str) -> Vec<(i64, f64)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("benches/data/{name}.csv"));
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let samples: Vec<_> = text
        .lines()
        .filter_map(|line| {
            let (t, v) = line.split_once(',')?;
            Some((t.parse().ok()?, v.parse().ok()?))
        })
        .collect();
    assert!(!samples.is_empty(), "no samples in {}", path.display());
    samples
}

fn encode(samples: &[(i64, f64)], res: Resolution) -> Encoder {
    let mut enc = Encoder::new(res);
    for &(t, v) in samples {
        enc.push(t, Some(v));
    }
    enc
}

fn bench(c: &mut Criterion) {
    let all: Vec<_> = SERIES
        .iter()
        .map(|&(name, res)| (name, res, read(name)))
        .collect();
    let (mut samples, mut encoded, mut held) = (0, 0, 0);
    println!(
        "{:<10} {:>8} {:>13} {:>13}",
        "series", "samples", "encoded B/s.", "held B/s."
    );
    for (name, res, data) in &all {
        let mut series = Series::new(*res);
        for &(t, v) in data {
            series.push(t, Some(v));
        }
        let n = data.len();
        let per = |bytes: usize| bytes as f64 / n as f64;
        println!(
            "{name:<10} {n:>8} {:>13.3} {:>13.3}",
            per(series.encoded_bytes()),
            per(series.bytes())
        );
        samples += n;
        encoded += series.encoded_bytes();
        held += series.bytes();
    }
    let per = |bytes: usize| bytes as f64 / samples as f64;
    println!(
        "{:<10} {samples:>8} {:>13.3} {:>13.3}",
        "all",
        per(encoded),
        per(held)
    );
    // The busy CPU figure is noise of a few points a second; a coarser quantum is the lever.
    for quantum in [0.05, 0.1] {
        let mut series = Series::new(Resolution { quantum, ..CPU });
        for &(t, v) in &all[0].2 {
            series.push(t, Some(v));
        }
        let n = all[0].2.len() as f64;
        println!(
            "busy-cpu at {quantum} pp: {:.3} encoded B/sample",
            series.encoded_bytes() as f64 / n
        );
    }

    let mut group = c.benchmark_group("gorilla");
    group.throughput(Throughput::Elements(samples as u64));
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("encode the four series", |b| {
        b.iter(|| {
            all.iter()
                .map(|(_, res, data)| encode(black_box(data), *res).len())
                .sum::<usize>()
        })
    });
    let blocks: Vec<_> = all
        .iter()
        .map(|(_, res, data)| (*res, encode(data, *res).to_bytes()))
        .collect();
    group.bench_function("decode the four series", |b| {
        b.iter(|| {
            blocks
                .iter()
                .map(|(res, bytes)| decode(black_box(bytes), res).map_or(0, |p| p.len()))
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
