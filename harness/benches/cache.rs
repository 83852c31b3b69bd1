//! Cache engine benches.
//!
//! * `count_min_sketch/reset` ↔ Go `BenchmarkCountMinSketchReset` (`pkg/cache/internal`,
//!   docs/compatibility.md#go-benchmarks-mirrored): a sketch of width 32767 (`1<<15 − 1`, i.e. 8192 words); each op
//!   is `add(0xCAFECAFECAFECAFE)` then `reset()`.
//! * `bounded_cache/get_hit/<policy>/1000`: a hit in a full cache of capacity 1000 (`u64` keys cycling over all 1000).
//! * `bounded_cache/set_evict/<policy>/1000`: a `set` of a never-seen key into a full cache, i.e. one eviction per op.
//!
//! The bounded-cache benches have no Go counterpart; they run the engine in synchronous mode with no callback (see
//! `appencryption::bench_support::BenchCache`), so they time the map, the slab and the policy, nothing else.

use std::hint::black_box;

use appencryption::EvictionPolicy;
use appencryption::bench_support::{BenchCache, CountMinSketch};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const CAPACITY: usize = 1000;

const POLICIES: [EvictionPolicy; 4] = [
    EvictionPolicy::Lru,
    EvictionPolicy::Slru,
    EvictionPolicy::Lfu,
    EvictionPolicy::TinyLfu,
];

fn count_min_sketch(c: &mut Criterion) {
    const H: u64 = 0xCAFE_CAFE_CAFE_CAFE;
    let mut cm = CountMinSketch::new((1 << 15) - 1);
    // The op must really touch the counters: one add is visible, the reset halves it away.
    cm.add(H);
    assert_eq!(cm.estimate(H), 1);
    cm.reset();
    assert_eq!(cm.estimate(H), 0);

    let mut group = c.benchmark_group("count_min_sketch");
    group.bench_function("reset", |b| {
        b.iter(|| {
            cm.add(black_box(H));
            cm.reset();
        });
    });
    group.finish();
}

/// A full cache holding keys `0..CAPACITY`.
fn full_cache(policy: EvictionPolicy) -> BenchCache {
    let cache = BenchCache::new(policy, CAPACITY).expect("valid capacity and policy");
    for k in 0..CAPACITY as u64 {
        cache.set(k, k);
    }
    assert_eq!(
        cache.len(),
        CAPACITY,
        "{policy}: cache must be full before timing"
    );
    cache
}

fn get_hit(c: &mut Criterion) {
    let mut group = c.benchmark_group("bounded_cache/get_hit");
    for policy in POLICIES {
        let cache = full_cache(policy);
        for k in 0..CAPACITY as u64 {
            assert_eq!(cache.get(k), Some(k), "{policy}: warm cache must hit");
        }
        let mut k = 0u64;
        group.bench_function(BenchmarkId::new(policy.as_str(), CAPACITY), |b| {
            b.iter(|| {
                k = (k + 1) % CAPACITY as u64;
                black_box(cache.get(black_box(k)))
            });
        });
        assert_eq!(cache.len(), CAPACITY, "{policy}: hits must not evict");
    }
    group.finish();
}

fn set_evict(c: &mut Criterion) {
    let mut group = c.benchmark_group("bounded_cache/set_evict");
    for policy in POLICIES {
        let cache = full_cache(policy);
        let mut k = CAPACITY as u64;
        group.bench_function(BenchmarkId::new(policy.as_str(), CAPACITY), |b| {
            b.iter(|| {
                k += 1;
                black_box(cache.set(black_box(k), k))
            });
        });
        // Only when the bench ran (a criterion filter may skip it, leaving `k` unset).
        if k > CAPACITY as u64 {
            assert_eq!(
                cache.len(),
                CAPACITY,
                "{policy}: every new key must evict exactly one"
            );
            assert_eq!(
                cache.get(k),
                Some(k),
                "{policy}: the last key set must be cached"
            );
        }
    }
    group.finish();
}

criterion_group!(benches, count_min_sketch, get_hit, set_evict);
criterion_main!(benches);
