//! Reassembly: arbitrary segments into one `Reassembler` direction and into a
//! `Shard` (several connections, both directions, flags, time).
#![no_main]

use std::net::{Ipv4Addr, SocketAddr};

use certsift::flow::{Chunk, Reassembler, Segment, Shard};
use certsift::tls::KeyLog;
use libfuzzer_sys::fuzz_target;

/// Cuts `data` into records: ctl byte, seq delta (u16), payload length (u8),
/// payload.
fn records(mut data: &[u8]) -> Vec<(u8, u32, &[u8])> {
    let mut out = Vec::new();
    let mut seq: u32 = 0xffff_ff00; // close to the 2^32 wrap
    while data.len() >= 4 {
        let ctl = data[0];
        let delta = u16::from_le_bytes([data[1], data[2]]);
        let len = usize::from(data[3]).min(data.len() - 4);
        let payload = &data[4..4 + len];
        data = &data[4 + len..];
        // Mostly small forward/backward steps; sometimes a far jump.
        seq = if ctl & 0x80 != 0 {
            seq.wrapping_sub(u32::from(delta))
        } else if ctl & 0x40 != 0 {
            seq.wrapping_add(u32::from(delta) << 12)
        } else {
            seq.wrapping_add(u32::from(delta))
        };
        out.push((ctl, seq, payload));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let recs = records(data);

    let mut r = Reassembler::new();
    let mut delivered: u64 = 0;
    let mut sink = |c: Chunk<'_>| match c {
        Chunk::Data(d) => delivered += d.len() as u64,
        Chunk::Gap(n) => delivered = delivered.saturating_add(n),
    };
    for (i, (ctl, seq, payload)) in recs.iter().enumerate() {
        if i == 0 && ctl & 1 != 0 {
            r.syn(seq.wrapping_sub(1));
        }
        if ctl & 0x3f == 0x3f {
            r.set_passthrough();
        }
        r.push(*seq, payload, &mut sink);
    }
    r.flush(&mut sink);
    std::hint::black_box((r.counters(), r.stream_offset(), r.started_midstream()));

    let keys = KeyLog::new();
    let mut shard = Shard::new();
    let hosts = [
        SocketAddr::from((Ipv4Addr::new(10, 0, 0, 1), 40000)),
        SocketAddr::from((Ipv4Addr::new(10, 0, 0, 2), 443)),
        SocketAddr::from((Ipv4Addr::new(10, 0, 0, 3), 443)),
    ];
    let mut ts: i64 = 1_700_000_000_000_000;
    for (i, (ctl, seq, payload)) in recs.iter().enumerate() {
        let (src, dst) = match ctl & 3 {
            0 => (hosts[0], hosts[1]),
            1 => (hosts[1], hosts[0]),
            2 => (hosts[0], hosts[2]),
            _ => (hosts[2], hosts[0]),
        };
        // bits 2..5: FIN SYN RST ACK; a rare huge time step triggers timeouts.
        let f = (ctl >> 2) & 0x0f;
        let flags = (f & 0x07) | if f & 0x08 != 0 { 0x10 } else { 0 };
        ts += if *ctl == 0xff { 700_000_000 } else { 1000 };
        shard.push(
            &Segment {
                src,
                dst,
                seq: *seq,
                ack: seq.wrapping_add(1),
                flags,
                ttl: 64,
                payload,
                ts_us: ts,
                file: 0,
                frame: i as u64,
            },
            &keys,
        );
    }
    shard.expire(ts, &keys);
    shard.finish_all(&keys);
    std::hint::black_box((shard.live(), shard.finished.len(), shard.stats));
});
