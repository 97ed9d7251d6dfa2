//! TCP reassembly throughput: in-order segments (the common case) and the same
//! segments shuffled in windows of eight (a lossy, reordering path).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use certsift::flow::{Chunk, Reassembler};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;

fn segments(total: usize, mss: usize) -> (Vec<u8>, Vec<(u32, std::ops::Range<usize>)>) {
    let data: Vec<u8> = (0..total).map(|i| (i * 31 % 251) as u8).collect();
    let segs = (0..total)
        .step_by(mss)
        .map(|s| (1000u32.wrapping_add(s as u32), s..(s + mss).min(total)))
        .collect();
    (data, segs)
}

fn bench(c: &mut Criterion) {
    let (data, segs) = segments(4 << 20, 1448);
    let mut shuffled = segs.clone();
    for w in shuffled.chunks_mut(8) {
        w.reverse();
    }
    let mut g = c.benchmark_group("reassembly");
    g.throughput(Throughput::Bytes(data.len() as u64));
    for (name, order) in [("in_order", &segs), ("reordered_by_8", &shuffled)] {
        g.bench_function(name, |b| {
            b.iter_batched(
                Reassembler::new,
                |mut r| {
                    r.syn(999);
                    let mut n = 0usize;
                    for (seq, range) in order.iter() {
                        r.push(*seq, &data[range.clone()], &mut |c| {
                            if let Chunk::Data(d) = c {
                                n += d.len();
                            }
                        });
                    }
                    black_box(n)
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
