//! QUIC: datagrams of one UDP 4-tuple into a `quic::Shard`. Random bytes
//! would never pass the Initial packet's AEAD, so most records are frames
//! sealed with the real Initial keys of a fixed connection id: the fuzzer
//! reaches frame parsing, CRYPTO reassembly (offsets, overlaps, gaps) and
//! the TLS messages behind them. Other records go in raw, as an attacker's
//! datagrams would; raw ones that look like DTLS also go to a
//! `dtls::Shard` (records, fragments, message reassembly, hellos).
#![no_main]

use std::net::SocketAddr;

use certsift::quic::crypto::{seal_long, Keys, Version};
use certsift::quic::{Datagram, Shard};
use certsift::tls::KeyLog;
use libfuzzer_sys::fuzz_target;

const DCID: &[u8] = &[0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
const SCID: &[u8] = &[0xf0, 0x67, 0xa5, 0x50, 0x2a, 0x42, 0x62, 0xb5];

fuzz_target!(|data: &[u8]| {
    let (Some((c1, s1)), Some((c2, s2))) = (
        Keys::initial(Version::V1, DCID),
        Keys::initial(Version::V2, DCID),
    ) else {
        return;
    };
    let client: SocketAddr = ([10, 0, 0, 1], 50_000).into();
    let server: SocketAddr = ([10, 0, 0, 2], 443).into();
    let keys = KeyLog::new();
    let mut shard = Shard::default();
    let mut dtls = certsift::dtls::Shard::default();
    let mut rest = data;
    let mut ts = 1_700_000_000_000_000i64;
    // Records: ctl (bit 0 direction, bit 1 raw, bit 2 version 2, bits 3-4
    // packet type, bit 5 idle gap), packet number byte, length u16 LE, bytes.
    for frame in 0u64..4096 {
        if rest.len() < 4 {
            break;
        }
        let ctl = rest[0];
        let pn = u32::from(rest[1]);
        let len = usize::from(u16::from_le_bytes([rest[2], rest[3]])).min(rest.len() - 4);
        let body = &rest[4..4 + len];
        rest = &rest[4 + len..];
        let from_client = ctl & 1 == 0;
        let (version, ck, sk) = if ctl & 4 == 0 {
            (0x0000_0001, &c1, &s1)
        } else {
            (0x6b33_43cf, &c2, &s2)
        };
        let payload = if ctl & 2 != 0 {
            body.to_vec()
        } else {
            let k = if from_client { ck } else { sk };
            let (d, s) = if from_client {
                (DCID, SCID)
            } else {
                (SCID, DCID)
            };
            let kind = (ctl >> 3) & 3;
            let token: Option<&[u8]> = (kind == 0).then_some(&[]);
            seal_long(version, kind, d, s, token, pn, body, k)
        };
        ts += if ctl & 0x20 != 0 { 700_000_000 } else { 1_000 };
        let (src, dst) = if from_client {
            (client, server)
        } else {
            (server, client)
        };
        let d = Datagram {
            src,
            dst,
            ttl: 64,
            payload: &payload,
            ts_us: ts,
            file: 0,
            frame,
        };
        if ctl & 2 != 0 && certsift::dtls::is_candidate(&payload) {
            dtls.push(&d);
        }
        shard.push(&d, &keys);
    }
    shard.expire(ts, &keys);
    shard.finish_all(&keys);
    dtls.finish_all();
    std::hint::black_box(shard.finished.len() + dtls.finished.len());
});
