//! Packet decoding: the first two bytes pick a link type, the rest is a frame;
//! fragments go through a `Defragmenter` and rebuilt datagrams are decoded.
#![no_main]

use certsift::decode::{decode, decode_ip, Decoded, Defragmenter};
use libfuzzer_sys::fuzz_target;

/// Link types certsift decodes, plus one it does not.
const LINKTYPES: [u32; 16] = [
    1, 0, 9, 12, 14, 50, 101, 104, 108, 113, 228, 229, 239, 258, 276, 147,
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let linktype = LINKTYPES[usize::from(sel) % LINKTYPES.len()];
    std::hint::black_box(decode_ip(rest));
    // The rest is also a sequence of frames, each prefixed by a u8 length,
    // so fragments of one datagram can meet in the defragmenter.
    let mut defrag = Defragmenter::new();
    let mut frames = rest;
    let mut ts = 0i64;
    while let Some((&len, tail)) = frames.split_first() {
        let len = usize::from(len).min(tail.len());
        let (frame, next) = tail.split_at(len);
        frames = next;
        ts += 1000;
        if let Decoded::Fragment(f) = decode(linktype, frame) {
            if let Some(whole) = defrag.push(&f, ts) {
                std::hint::black_box(decode_ip(&whole));
            }
        }
    }
    std::hint::black_box((defrag.conflicts(), defrag.dropped(), defrag.in_flight()));
    if let Decoded::Fragment(f) = decode(linktype, rest) {
        let _ = defrag.push(&f, ts);
    }
});
