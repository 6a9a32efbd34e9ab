//! Placing 10,000 instances on 1,000 hosts with a few constraints (zone GROUP_BY, disk
//! LIKE, rack MAX_PER, a conflict). Target: under 50 ms.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use wheelhouse::domain::app::{AppSpec, Constraint};
use wheelhouse::sched::{Candidate, place};

const GIB: u64 = 1 << 30;

fn hosts() -> Vec<Candidate> {
    let db = AppSpec::new("db-main", "db:1");
    (0..1000)
        .map(|i| {
            let mut h = Candidate::new(format!("host-{i:04}"), 32, 128 * GIB)
                .with_zone(["a", "b", "c", "d"][i % 4])
                .with_label("rack", format!("r{:02}", i / 50))
                .with_label("disk", ["ssd", "nvme", "hdd"][i % 3]);
            // Varied existing load, some database hosts to stay away from, a few down.
            h.reserved_cpu_millis = (i as u64 * 7919) % 16_000;
            h.reserved_memory = (i as u64 * 104_729) % 64 * GIB;
            if i % 10 == 0 {
                h.add_instances(&db, 1);
            }
            h.online = i % 97 != 0;
            h
        })
        .collect()
}

fn spec() -> AppSpec {
    let mut spec = AppSpec::new("web", "wh-demo:1");
    spec.cpus = 0.1;
    spec.memory = 256 << 20;
    spec.conflicts = vec!["db*".into()];
    spec.constraints = [
        &["zone", "GROUP_BY"][..],
        &["disk", "LIKE", "ssd|nvme"],
        &["rack", "MAX_PER", "600"],
    ]
    .iter()
    .filter_map(|c| Constraint::parse(c).ok())
    .collect();
    spec
}

fn bench(c: &mut Criterion) {
    let hosts = hosts();
    let spec = spec();
    let check = place(&hosts, &spec, 10_000);
    assert!(
        check.is_complete(),
        "bench setup cannot place: {:?}",
        check.unplaced
    );
    c.bench_function("place 10000 on 1000 hosts", |b| {
        b.iter(|| place(black_box(&hosts), black_box(&spec), 10_000))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(benches);
