//! TLS inside an OpenVPN control channel over TCP (OpenVPN's "Protocol"
//! notes in its source tree, `ssl_pkt.h` and `reliable.h`; Wireshark's
//! packet-openvpn.c reads the same layout).
//!
//! In: the reassembled bytes of each direction of a TCP connection that
//! opened with an OpenVPN hard reset. Out: the TLS bytes the control
//! channel carries, in message order, for the TLS session; data-channel
//! packets only as a byte count.
//!
//! Over TCP every packet has a 2-byte length prefix, then the opcode and
//! key id byte, an 8-byte session id, with `--tls-auth` an HMAC (16, 20, 32
//! or 64 bytes) and a replay packet id and time, an array of acknowledged
//! packet ids (with the peer's session id when not empty), the message
//! packet id, and the TLS payload fragment. The HMAC size is not on the
//! wire: it is the one under which a direction's first P_CONTROL_V1 packet
//! carries the start of a TLS handshake record. Leaves out: `--tls-crypt`
//! and `--tls-crypt-v2` (the control channel is encrypted), OpenVPN over
//! UDP.

use std::collections::BTreeMap;

/// Opcodes (high five bits of the first byte).
const P_CONTROL_HARD_RESET_CLIENT_V1: u8 = 1;
const P_CONTROL_HARD_RESET_SERVER_V1: u8 = 2;
const P_CONTROL_V1: u8 = 4;
const P_DATA_V1: u8 = 6;
const P_CONTROL_HARD_RESET_CLIENT_V2: u8 = 7;
const P_CONTROL_HARD_RESET_SERVER_V2: u8 = 8;
const P_DATA_V2: u8 = 9;
const P_CONTROL_HARD_RESET_CLIENT_V3: u8 = 10;

/// HMAC sizes `--tls-auth` can use (none, MD5, SHA-1, SHA-256, SHA-512).
const HMAC_SIZES: [usize; 5] = [0, 16, 20, 32, 64];
/// Most acknowledged ids in one packet (OpenVPN's RELIABLE_ACK_SIZE).
const MAX_ACKS: usize = 8;
/// Largest packet accepted (the length prefix allows 64 KiB; real control
/// packets fit a datagram).
const MAX_PACKET: usize = 4096;
/// Most out-of-order control messages held per direction.
const MAX_PENDING: usize = 16;

/// Whether a TCP direction opens with an OpenVPN hard reset: a plausible
/// length prefix, a reset opcode with key id 0, and room for the session id.
pub(super) fn looks_like_reset(b: &[u8]) -> bool {
    let (Some(&hi), Some(&lo), Some(&op)) = (b.first(), b.get(1), b.get(2)) else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    let opcode = op >> 3;
    (14..=MAX_PACKET).contains(&len)
        && op & 7 == 0
        && matches!(
            opcode,
            P_CONTROL_HARD_RESET_CLIENT_V1
                | P_CONTROL_HARD_RESET_SERVER_V1
                | P_CONTROL_HARD_RESET_CLIENT_V2
                | P_CONTROL_HARD_RESET_SERVER_V2
                | P_CONTROL_HARD_RESET_CLIENT_V3
        )
}

/// What one direction's bytes gave.
#[derive(Debug, Default)]
pub(super) struct Out {
    /// TLS payload, in message order.
    pub tls: Vec<u8>,
    /// Data-channel bytes.
    pub data_bytes: u64,
    /// The direction could not be read as OpenVPN (damage, tls-crypt).
    pub broken: bool,
}

/// One direction of the control channel.
#[derive(Debug, Default)]
pub(super) struct Channel {
    buf: Vec<u8>,
    hmac: Option<usize>,
    next_id: Option<u32>,
    pending: BTreeMap<u32, Vec<u8>>,
    broken: bool,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Message packet id and TLS payload of a P_CONTROL_V1 packet (without its
/// length prefix) read with an HMAC of `hmac` bytes.
fn control(p: &[u8], hmac: usize) -> Option<(u32, &[u8])> {
    let mut at = 9usize;
    if hmac > 0 {
        at = at.checked_add(hmac)?.checked_add(8)?;
    }
    let acks = usize::from(*p.get(at)?);
    if acks > MAX_ACKS {
        return None;
    }
    at = at.checked_add(1)?.checked_add(acks.checked_mul(4)?)?;
    if acks > 0 {
        at = at.checked_add(8)?;
    }
    let id = be32(p, at)?;
    Some((id, p.get(at.checked_add(4)?..)?))
}

impl Channel {
    /// Bytes were lost (a capture gap): packet boundaries are gone.
    pub(super) fn lose(&mut self) {
        self.broken = true;
        self.buf.clear();
    }

    /// Takes the next bytes of this direction.
    pub(super) fn push(&mut self, data: &[u8]) -> Out {
        let mut out = Out::default();
        if self.broken {
            out.broken = true;
            return out;
        }
        self.buf.extend_from_slice(data);
        let mut at = 0usize;
        // Each packet consumes at least its 2-byte prefix.
        while let (Some(&hi), Some(&lo)) = (self.buf.get(at), self.buf.get(at + 1)) {
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            if len == 0 || len > MAX_PACKET {
                self.broken = true;
                break;
            }
            let start = at + 2;
            let Some(p) = self.buf.get(start..start + len) else {
                break;
            };
            let p = p.to_vec();
            at = start + len;
            self.packet(&p, &mut out);
            if self.broken {
                break;
            }
        }
        self.buf.drain(..at.min(self.buf.len()));
        if self.buf.len() > MAX_PACKET + 2 {
            self.broken = true;
        }
        out.broken = self.broken;
        out
    }

    fn packet(&mut self, p: &[u8], out: &mut Out) {
        let Some(&op) = p.first() else {
            return;
        };
        match op >> 3 {
            P_DATA_V1 | P_DATA_V2 => {
                out.data_bytes = out.data_bytes.saturating_add(p.len() as u64);
            }
            P_CONTROL_V1 => {
                let hmac = match self.hmac {
                    Some(h) => h,
                    None => {
                        let found = HMAC_SIZES.iter().copied().find(|&h| {
                            control(p, h).is_some_and(|(_, t)| matches!(t, [22, 3, 0..=4, ..]))
                        });
                        match found {
                            Some(h) => {
                                self.hmac = Some(h);
                                h
                            }
                            None => {
                                self.broken = true;
                                return;
                            }
                        }
                    }
                };
                let Some((id, tls)) = control(p, hmac) else {
                    self.broken = true;
                    return;
                };
                let next = *self.next_id.get_or_insert(id);
                if id < next {
                    return; // a retransmission
                }
                if id > next {
                    if self.pending.len() < MAX_PENDING {
                        self.pending.entry(id).or_insert_with(|| tls.to_vec());
                    } else {
                        self.broken = true;
                    }
                    return;
                }
                out.tls.extend_from_slice(tls);
                let mut n = next.wrapping_add(1);
                while let Some(t) = self.pending.remove(&n) {
                    out.tls.extend_from_slice(&t);
                    n = n.wrapping_add(1);
                }
                self.next_id = Some(n);
            }
            // Resets, acknowledgements (P_ACK_V1), soft resets: no TLS bytes.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn packet(op: u8, hmac: usize, acks: &[u32], id: u32, tls: &[u8]) -> Vec<u8> {
        let mut p = vec![op << 3];
        p.extend_from_slice(b"SESSION1");
        if hmac > 0 {
            p.extend(std::iter::repeat_n(0xa5, hmac));
            p.extend_from_slice(&[0, 0, 0, 1, 0x60, 0, 0, 0]);
        }
        p.push(acks.len() as u8);
        for a in acks {
            p.extend_from_slice(&a.to_be_bytes());
        }
        if !acks.is_empty() {
            p.extend_from_slice(b"REMOTEID");
        }
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(tls);
        let mut out = (p.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(&p);
        out
    }

    #[test]
    fn control_payloads_in_order_under_any_hmac_size() {
        for hmac in HMAC_SIZES {
            let reset = packet(P_CONTROL_HARD_RESET_CLIENT_V2, hmac, &[], 0, &[]);
            assert!(looks_like_reset(&reset), "{hmac}");
            let a = packet(P_CONTROL_V1, hmac, &[0], 1, &[22, 3, 1, 0, 4]);
            let b = packet(P_CONTROL_V1, hmac, &[], 2, &[1, 2, 3]);
            let c = packet(P_CONTROL_V1, hmac, &[1], 3, &[4]);
            let data = packet(P_DATA_V2, 0, &[], 9, &[0; 10]);
            // Reset, then c before b, a retransmitted, then data.
            let stream = [reset, a.clone(), c, a, b, data].concat();
            let mut ch = Channel::default();
            let mut tls = Vec::new();
            let mut data_bytes = 0;
            // Fed in uneven pieces, as TCP segments would be.
            for piece in stream.chunks(7) {
                let o = ch.push(piece);
                assert!(!o.broken, "{hmac}");
                tls.extend(o.tls);
                data_bytes += o.data_bytes;
            }
            assert_eq!(tls, vec![22, 3, 1, 0, 4, 1, 2, 3, 4], "{hmac}");
            assert!(data_bytes > 0);
        }
    }

    #[test]
    fn tls_records_and_other_protocols_are_not_resets() {
        assert!(!looks_like_reset(&[22, 3, 1, 0, 200, 1]));
        assert!(!looks_like_reset(b"220 mail ESMTP"));
        assert!(!looks_like_reset(b"GET / HTTP/1.1"));
        assert!(!looks_like_reset(&[0, 0x0e]));
    }

    #[test]
    fn hostile_streams_end_broken_not_stuck() {
        let mut ch = Channel::default();
        let o = ch.push(&[0x00, 0x20, P_CONTROL_V1 << 3, 1, 2, 3]);
        assert!(!o.broken);
        let o = ch.push(&[0; 40]);
        assert!(o.broken);
        let a = packet(P_CONTROL_V1, 20, &[], 1, &[22, 3, 3, 0, 1]);
        for n in 0..a.len() {
            let mut ch = Channel::default();
            let _ = ch.push(&a[..n]);
        }
    }
}
