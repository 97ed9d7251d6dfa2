//! One DTLS connection: its datagrams in capture order in, a
//! [`FlowRecord`] with the handshake out.
//!
//! A connection starts at a datagram whose first clear handshake record
//! holds a ClientHello, ServerHello or HelloVerifyRequest fragment; the
//! ClientHello's sender is the client, whichever side spoke first (in WebRTC
//! the DTLS client is often the side that answered the STUN checks). Each
//! sender's fragments are put back into messages ([`Reassembly`]);
//! retransmitted flights add nothing. At the end, the whole messages are
//! rewritten with TLS's 4-byte header (the ClientHello without its cookie,
//! RFC 6347 §4.2.1) and read by the TLS stage like QUIC's CRYPTO streams.
//!
//! HelloVerifyRequest (RFC 6347 §4.2.1): the ClientHello that counts is the
//! one sent after it, with the cookie; the first is dropped. DTLS 1.3's
//! HelloRetryRequest (RFC 9147 §5.1) is a TLS HelloRetryRequest, kept as
//! such (first ClientHello, then the second). Records of epoch > 0 and
//! unified-header records are encrypted: only their size is counted.

use super::reassembly::{Outcome, Reassembly};
use super::record::{self, Record, CT_ALERT, CT_CCS, CT_HANDSHAKE};
use crate::error::Anomaly;
use crate::flow::{Activity, Datagram, DatagramConn, FlowRecord, Step, Traffic};
use crate::limits::MAX_DTLS_CONNS_PER_SHARD;
use crate::tls::{self, Alert, Handshake, Side, Visibility};

/// HandshakeType values (RFC 6347 §4.3.2, RFC 9147 §5).
const HT_CLIENT_HELLO: u8 = 1;
const HT_SERVER_HELLO: u8 = 2;
const HT_HELLO_VERIFY_REQUEST: u8 = 3;
const HT_CERTIFICATE: u8 = 11;

/// connection_id extension (RFC 9146 §3), and the code its drafts and
/// early mbed TLS releases used.
const EXT_CONNECTION_ID: u16 = 54;
const EXT_CONNECTION_ID_DRAFT: u16 = 53;

/// Most alerts kept per connection.
const MAX_ALERTS: usize = 16;

/// An alert record as seen, before the client's side is settled.
struct SeenAlert {
    sender: usize,
    level: Option<u8>,
    description: Option<u8>,
    encrypted: bool,
    after_server_certificate: bool,
    ts_us: i64,
}

/// One DTLS connection of a shard.
pub struct Conn {
    /// Direction 0 is the first sender's.
    traffic: Traffic,
    /// Index of the ClientHello's sender, once known.
    client: Option<usize>,
    reasm: [Reassembly; 2],
    /// Bytes of encrypted (or unsplittable) records per sender.
    encrypted: [u64; 2],
    /// Sent a ChangeCipherSpec (DTLS ≤ 1.2).
    ccs: [bool; 2],
    /// Connection id length in the records each side sends, once the
    /// hellos negotiated one.
    cid_len: [Option<usize>; 2],
    /// Messages ranked so far (both senders).
    order: u32,
    /// Rank of the first HelloVerifyRequest.
    hvr_order: Option<u32>,
    alerts: Vec<SeenAlert>,
}

/// The first clear handshake fragment of a datagram, if its first record
/// is one.
fn first_fragment(payload: &[u8]) -> Option<record::Fragment<'_>> {
    let (recs, _) = record::split(payload, None);
    let Some(Record::Full {
        ty: CT_HANDSHAKE,
        epoch: 0,
        fragment,
        ..
    }) = recs.first().copied()
    else {
        return None;
    };
    record::fragments(fragment).0.first().copied()
}

impl Activity for Conn {
    fn last_seen(&self) -> i64 {
        self.traffic.last_seen()
    }
}

impl DatagramConn for Conn {
    type Context = ();
    type Output = Handshake;
    const MAX_PER_SHARD: usize = MAX_DTLS_CONNS_PER_SHARD;

    /// A connection for `d` when it opens with a hello (or a
    /// HelloVerifyRequest) in a clear handshake record.
    fn start(d: &Datagram<'_>) -> Option<Conn> {
        let f = first_fragment(d.payload)?;
        if !matches!(
            f.msg_type,
            HT_CLIENT_HELLO | HT_SERVER_HELLO | HT_HELLO_VERIFY_REQUEST
        ) {
            return None;
        }
        Some(Conn {
            traffic: Traffic::new(d),
            client: None,
            reasm: [Reassembly::default(), Reassembly::default()],
            encrypted: [0; 2],
            ccs: [false; 2],
            cid_len: [None; 2],
            order: 0,
            hvr_order: None,
            alerts: Vec::new(),
        })
    }

    /// Takes one datagram of this connection's 4-tuple.
    fn push(&mut self, d: &Datagram<'_>) -> Step {
        let side = self.traffic.side(d);
        // A new ClientHello after a ServerHello: the client started over.
        if self.is_new_client_hello(side, d) {
            return Step::Restart;
        }
        self.traffic.count(side, d);
        let cid = self.cid_len.get(side).copied().flatten();
        let (recs, damaged) = record::split(d.payload, cid);
        if damaged {
            self.traffic.note(Anomaly::DtlsMalformedRecord);
        }
        for r in recs {
            match r {
                Record::Full {
                    ty,
                    epoch: 0,
                    fragment,
                    ..
                } => match ty {
                    CT_HANDSHAKE => self.handshake_record(side, fragment),
                    CT_CCS => {
                        if let Some(c) = self.ccs.get_mut(side) {
                            *c = true;
                        }
                    }
                    CT_ALERT => {
                        let level = fragment.first().copied();
                        let desc = fragment.get(1).copied();
                        self.alert(side, level, desc, false, d.ts_us);
                    }
                    _ => self.add_encrypted(side, fragment.len()),
                },
                Record::Full { ty, fragment, .. } => {
                    if ty == CT_ALERT {
                        self.alert(side, None, None, true, d.ts_us);
                    }
                    self.add_encrypted(side, fragment.len());
                }
                Record::Unified(n) | Record::Opaque(n) => self.add_encrypted(side, n),
            }
        }
        Step::Continue
    }

    /// Ends the connection.
    fn finish(mut self, _: &()) -> FlowRecord<Handshake> {
        let c = self.client.unwrap_or(0);
        let s = 1 - c;
        let client_stream = self.tls_stream(c, true);
        let server_stream = self.tls_stream(s, false);
        let mut handshake = tls::handshake_from_dtls_messages(
            &client_stream,
            &server_stream,
            self.traffic.first_seen(),
        );
        if let Some(h) = handshake.as_mut() {
            h.app_bytes_client = self.encrypted.get(c).copied().unwrap_or(0);
            h.app_bytes_server = self.encrypted.get(s).copied().unwrap_or(0);
            h.first_ts_us = Some(self.traffic.first_seen());
            h.last_ts_us = Some(self.traffic.last_seen());
            // An abbreviated handshake: ServerHello then ChangeCipherSpec,
            // no Certificate, the session id echoed or a ticket offered
            // (RFC 5246 §7.3, RFC 5077 §3.1).
            let resumed = match (&h.client_hello, &h.server_hello) {
                (Some(ch), Some(sh)) => {
                    ch.has_session_ticket
                        || (!sh.session_id.is_empty() && ch.session_id == sh.session_id)
                }
                _ => false,
            };
            if h.visibility == Visibility::Absent
                && self.ccs.get(s).copied().unwrap_or(false)
                && !self.has_complete(s, HT_CERTIFICATE)
                && resumed
            {
                h.visibility = Visibility::Resumed;
            }
            for a in &self.alerts {
                if h.alerts.len() >= tls::MAX_ALERTS {
                    break;
                }
                h.alerts.push(Alert {
                    side: if a.sender == c { Side::A } else { Side::B },
                    level: a.level,
                    description: a.description,
                    encrypted: a.encrypted,
                    after_server_certificate: a.after_server_certificate,
                    ts_us: a.ts_us,
                });
            }
        }
        FlowRecord {
            handshake,
            ..self.traffic.record(c, "dtls")
        }
    }
}

impl Conn {
    fn has_complete(&self, side: usize, ty: u8) -> bool {
        self.reasm
            .get(side)
            .is_some_and(|r| r.messages.iter().any(|m| m.ty == ty && m.complete()))
    }

    /// A ClientHello at message_seq 0 from the client, other than the one
    /// kept, after the server's ServerHello: the client started over.
    fn is_new_client_hello(&self, side: usize, d: &Datagram<'_>) -> bool {
        if self.client != Some(side) || !self.has_complete(1 - side, HT_SERVER_HELLO) {
            return false;
        }
        let Some(f) = first_fragment(d.payload) else {
            return false;
        };
        if f.msg_type != HT_CLIENT_HELLO || f.message_seq != 0 {
            return false;
        }
        let Some(old) = self.reasm.get(side).and_then(|r| {
            r.messages
                .iter()
                .find(|m| m.ty == HT_CLIENT_HELLO && m.seq == 0)
        }) else {
            return false;
        };
        let off = usize::try_from(f.offset).unwrap_or(usize::MAX);
        let same = usize::try_from(f.length).is_ok_and(|l| l == old.body.len())
            && old
                .body
                .get(off..off.saturating_add(f.data.len()))
                .is_some_and(|b| b == f.data);
        !same
    }

    fn add_encrypted(&mut self, side: usize, n: usize) {
        if let Some(e) = self.encrypted.get_mut(side) {
            *e = e.saturating_add(n as u64);
        }
    }

    fn alert(
        &mut self,
        side: usize,
        level: Option<u8>,
        desc: Option<u8>,
        encrypted: bool,
        ts: i64,
    ) {
        if self.alerts.len() < MAX_ALERTS {
            let server = 1 - self.client.unwrap_or(0);
            let after_cert = self.has_complete(server, HT_CERTIFICATE);
            self.alerts.push(SeenAlert {
                sender: side,
                level,
                description: desc,
                encrypted,
                after_server_certificate: after_cert,
                ts_us: ts,
            });
        }
    }

    fn handshake_record(&mut self, side: usize, fragment: &[u8]) {
        let (frags, damaged) = record::fragments(fragment);
        if damaged {
            self.traffic.note(Anomaly::DtlsMalformedFragment);
        }
        for f in frags {
            let order = self.order;
            let Some(r) = self.reasm.get_mut(side) else {
                return;
            };
            let before = r.messages.len();
            let outcome = r.insert(f.message_seq, f.msg_type, f.length, f.offset, f.data, order);
            let added = r.messages.len() > before;
            if added {
                self.order = self.order.saturating_add(1);
            }
            match outcome {
                Outcome::Conflict => self.traffic.note(Anomaly::DtlsFragmentConflict),
                Outcome::Capped => self.traffic.note(Anomaly::DtlsHandshakeCap),
                Outcome::Added | Outcome::Duplicate => {}
            }
            match f.msg_type {
                HT_CLIENT_HELLO if self.client.is_none() => self.client = Some(side),
                HT_SERVER_HELLO | HT_HELLO_VERIFY_REQUEST if self.client.is_none() => {
                    self.client = Some(1 - side);
                }
                _ => {}
            }
            if f.msg_type == HT_HELLO_VERIFY_REQUEST && added && self.hvr_order.is_none() {
                self.hvr_order = Some(order);
            }
        }
        self.learn_cids();
    }

    /// Connection id lengths from the hellos' connection_id extensions: the
    /// client's names what the server puts in its records, and the reverse.
    fn learn_cids(&mut self) {
        let Some(c) = self.client else {
            return;
        };
        let s = 1 - c;
        for (from, to, ty) in [(c, s, HT_CLIENT_HELLO), (s, c, HT_SERVER_HELLO)] {
            if self.cid_len.get(to).copied().flatten().is_some() {
                continue;
            }
            let len = self.reasm.get(from).and_then(|r| {
                r.messages
                    .iter()
                    .rev()
                    .find(|m| m.ty == ty && m.complete())
                    .and_then(|m| connection_id_len(m.ty, &m.body))
            });
            if let (Some(slot), Some(len)) = (self.cid_len.get_mut(to), len) {
                *slot = Some(len);
            }
        }
    }

    /// One sender's whole messages in arrival order, TLS-framed; the
    /// ClientHellos a HelloVerifyRequest answered are left out.
    fn tls_stream(&mut self, side: usize, is_client: bool) -> Vec<u8> {
        let hvr = self.hvr_order;
        let mut out = Vec::new();
        let mut incomplete = false;
        let mut malformed = false;
        let Some(r) = self.reasm.get(side) else {
            return out;
        };
        let mut msgs: Vec<&super::reassembly::Message> = r.messages.iter().collect();
        msgs.sort_by_key(|m| m.order);
        let later_hello = |o: u32| {
            msgs.iter()
                .any(|m| m.ty == HT_CLIENT_HELLO && m.complete() && m.order > o)
        };
        for m in &msgs {
            if !m.complete() {
                incomplete = true;
                continue;
            }
            if !is_client && m.ty == HT_HELLO_VERIFY_REQUEST {
                continue;
            }
            if is_client && m.ty == HT_CLIENT_HELLO {
                if let Some(h) = hvr {
                    if m.order < h && later_hello(h) {
                        continue;
                    }
                }
            }
            let body = if m.ty == HT_CLIENT_HELLO {
                match without_cookie(&m.body) {
                    Some(b) => b,
                    None => {
                        malformed = true;
                        continue;
                    }
                }
            } else {
                m.body.clone()
            };
            let len = u32::try_from(body.len()).unwrap_or(u32::MAX).to_be_bytes();
            out.push(m.ty);
            out.extend_from_slice(len.get(1..).unwrap_or(&[0, 0, 0]));
            out.extend_from_slice(&body);
        }
        if incomplete {
            self.traffic.note(Anomaly::DtlsHandshakeIncomplete);
        }
        if malformed {
            self.traffic.note(Anomaly::DtlsMalformedHello);
        }
        out
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at.checked_add(1)?)?,
    ]))
}

/// A DTLS ClientHello body (RFC 6347 §4.2.1: legacy_version, random,
/// session id, cookie, ...) without its cookie, i.e. a TLS ClientHello body.
pub(super) fn without_cookie(body: &[u8]) -> Option<Vec<u8>> {
    let sid_len = usize::from(*body.get(34)?);
    let cookie_at = 35usize.checked_add(sid_len)?;
    let cookie_len = usize::from(*body.get(cookie_at)?);
    let rest_at = cookie_at.checked_add(1)?.checked_add(cookie_len)?;
    let mut out = body.get(..cookie_at)?.to_vec();
    out.extend_from_slice(body.get(rest_at..)?);
    Some(out)
}

/// The extension block of a DTLS ClientHello or ServerHello body.
fn hello_extensions(ty: u8, body: &[u8]) -> Option<&[u8]> {
    let sid_len = usize::from(*body.get(34)?);
    let mut at = 35usize.checked_add(sid_len)?;
    if ty == HT_CLIENT_HELLO {
        let cookie_len = usize::from(*body.get(at)?);
        at = at.checked_add(1)?.checked_add(cookie_len)?;
        let ciphers = usize::from(be16(body, at)?);
        at = at.checked_add(2)?.checked_add(ciphers)?;
        let comp = usize::from(*body.get(at)?);
        at = at.checked_add(1)?.checked_add(comp)?;
    } else {
        at = at.checked_add(3)?;
    }
    let len = usize::from(be16(body, at)?);
    let start = at.checked_add(2)?;
    body.get(start..start.checked_add(len)?)
}

/// Length of the connection id a hello's connection_id extension asks for.
fn connection_id_len(ty: u8, body: &[u8]) -> Option<usize> {
    let mut b = hello_extensions(ty, body)?;
    let mut draft = None;
    // Each step consumes at least four bytes.
    while let (Some(t), Some(l)) = (be16(b, 0), be16(b, 2)) {
        let end = 4usize.checked_add(usize::from(l))?;
        let data = b.get(4..end)?;
        match t {
            EXT_CONNECTION_ID => return data.first().map(|n| usize::from(*n)),
            EXT_CONNECTION_ID_DRAFT => draft = data.first().map(|n| usize::from(*n)),
            _ => {}
        }
        b = b.get(end..)?;
    }
    draft
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A DTLS ClientHello body: session id of 1 byte, cookie of 3, one
    /// suite, null compression, a connection_id extension asking for 5.
    fn client_hello_body() -> Vec<u8> {
        let mut b = vec![0xfe, 0xfd];
        b.extend_from_slice(&[7; 32]);
        b.extend_from_slice(&[1, 0xaa]);
        b.extend_from_slice(&[3, 0xc1, 0xc2, 0xc3]);
        b.extend_from_slice(&[0, 2, 0xc0, 0x2b, 1, 0]);
        b.extend_from_slice(&[0, 10, 0, 54, 0, 6, 5, 1, 2, 3, 4, 5]);
        b
    }

    #[test]
    fn cookie_is_cut_and_connection_id_found() {
        let b = client_hello_body();
        let t = without_cookie(&b).unwrap();
        assert_eq!(t.len(), b.len() - 4);
        assert_eq!(&t[35..37], &[0xaa, 0]);
        assert_eq!(connection_id_len(HT_CLIENT_HELLO, &b), Some(5));
        for n in 0..b.len() {
            let _ = without_cookie(&b[..n]);
            let _ = connection_id_len(HT_CLIENT_HELLO, &b[..n]);
            let _ = connection_id_len(HT_SERVER_HELLO, &b[..n]);
        }
    }
}
