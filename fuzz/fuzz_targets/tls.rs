//! TLS extraction: a `Session` fed arbitrary bytes on both sides, split at
//! arbitrary points, with gaps and skips, then finished.
#![no_main]

use certsift::tls::{Session, Side};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut s = Session::new();
    let mut rest = data;
    let mut ts = 1_700_000_000_000_000i64;
    // Records: ctl byte (bit 0 side, bits 1-2 op), length u16 LE, bytes.
    while rest.len() >= 3 {
        let ctl = rest[0];
        let len = usize::from(u16::from_le_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let chunk = &rest[3..3 + len];
        rest = &rest[3 + len..];
        let side = if ctl & 1 == 0 { Side::A } else { Side::B };
        ts += 1;
        match (ctl >> 1) & 0x0f {
            0 => s.gap(side, u64::from(ctl)),
            1 => s.skip(side, len as u64),
            2 => s.keep_encrypted_flight(ctl & 0x80 != 0),
            _ => {
                if s.wants_bytes(side) {
                    s.feed(side, chunk, ts);
                } else {
                    s.skip(side, chunk.len() as u64);
                }
            }
        }
    }
    // Whatever is left goes to side A in one piece.
    s.feed(Side::A, rest, ts);
    std::hint::black_box(s.is_tls());
    std::hint::black_box(s.finish());
});
