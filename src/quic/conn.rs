//! One QUIC connection: its datagrams in capture order in, a
//! [`FlowRecord`] with the TLS handshake out.
//!
//! A connection starts at a client Initial that opens under the keys its
//! own Destination Connection ID gives (RFC 9001 §5.2): that proves both
//! the version and the client. Initial packets of both sides are opened at
//! once and their CRYPTO data reassembled; Handshake packets are kept,
//! bounded, and opened when the connection ends, if the key log (files or
//! pcapng secrets) holds the handshake traffic secrets for the ClientHello
//! random (RFC 9001 §5.1). 0-RTT and 1-RTT packets are only counted.
//!
//! Retry (RFC 9000 §17.2.5) and Version Negotiation (§6) make the client
//! start over: an Initial that does not open under the current keys but
//! opens under its own DCID continues the connection when a Retry named
//! that DCID or a Version Negotiation came first, and starts a new
//! connection otherwise. A server that switches to a compatible version
//! (v1 to v2, RFC 9368) keeps the keys' DCID; keys are derived per version.

use std::net::SocketAddr;

use super::crypto::{quic_suite, Keys, Suite, Version};
use super::frames::{self, CryptoStream};
use super::packet::{self, Kind, Long, Packet};
use crate::error::Anomaly;
use crate::flow::{Activity, FlowRecord};
use crate::limits::{MAX_QUIC_CRYPTO_BYTES, MAX_QUIC_HANDSHAKE_PACKET_BYTES};
use crate::tls::{self, Alert, Decryption, Handshake, KeyLog, SecretLabel, Side, Visibility};

/// One UDP datagram as the QUIC stage needs it; borrows the payload.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// IP TTL or hop limit.
    pub ttl: u8,
    /// UDP payload.
    pub payload: &'a [u8],
    /// Capture time, µs since the Unix epoch.
    pub ts_us: i64,
    /// Index of the capture file in the run.
    pub file: u32,
    /// Index of the frame in its file.
    pub frame: u64,
}

/// What a datagram did to its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Taken.
    Continue,
    /// A client Initial for another connection on the same 4-tuple: end
    /// this one and start a new one with this datagram.
    Restart,
}

/// Most Retry connection ids remembered (a second Retry is ignored by
/// clients, RFC 9000 §17.2.5.2, but is still evidence).
const MAX_RETRIES: usize = 4;
/// Most QUIC versions a connection derives Initial keys for.
const MAX_VERSIONS: usize = 3;
/// Most CONNECTION_CLOSE codes kept.
const MAX_CLOSES: usize = 8;

/// Client (0) and server (1) indices.
const CLIENT: usize = 0;
const SERVER: usize = 1;

/// How an Initial packet fared.
enum Opened {
    Yes,
    /// It opens only under keys from its own DCID: a fresh client start.
    Fresh(Version, Box<(Keys, Keys)>),
    No,
}

pub(super) struct Conn {
    client: SocketAddr,
    server: SocketAddr,
    /// The DCID the Initial keys derive from.
    basis: Vec<u8>,
    /// Initial keys (client, server) per version seen.
    keys: Vec<(Version, Keys, Keys)>,
    retry_cids: Vec<Vec<u8>>,
    version_negotiated: bool,
    initial: [CryptoStream; 2],
    largest_initial: [Option<u64>; 2],
    handshake: [Vec<Vec<u8>>; 2],
    handshake_bytes: [usize; 2],
    app_bytes: [u64; 2],
    packets: [u64; 2],
    bytes: [u64; 2],
    ttl: [Option<u8>; 2],
    closes: Vec<(usize, u64, i64)>,
    anomalies: Vec<Anomaly>,
    file: u32,
    first_frame: u64,
    ts_start: i64,
    ts_last: i64,
}

impl Activity for Conn {
    fn last_seen(&self) -> i64 {
        self.ts_last
    }
}

impl Conn {
    /// A connection for `d` when its first packet is a client Initial that
    /// opens under keys from its own DCID.
    pub(super) fn start(d: &Datagram<'_>) -> Option<Conn> {
        let (packets, _) = packet::split(d.payload);
        let Some(Packet::Long(l)) = packets.first() else {
            return None;
        };
        if l.kind != Kind::Initial {
            return None;
        }
        let (c, s) = Keys::initial(l.version, l.dcid)?;
        packet::open(l, &c, None)?;
        Some(Conn {
            client: d.src,
            server: d.dst,
            basis: l.dcid.to_vec(),
            keys: vec![(l.version, c, s)],
            retry_cids: Vec::new(),
            version_negotiated: false,
            initial: [
                CryptoStream::new(MAX_QUIC_CRYPTO_BYTES),
                CryptoStream::new(MAX_QUIC_CRYPTO_BYTES),
            ],
            largest_initial: [None; 2],
            handshake: [Vec::new(), Vec::new()],
            handshake_bytes: [0; 2],
            app_bytes: [0; 2],
            packets: [0; 2],
            bytes: [0; 2],
            ttl: [None; 2],
            closes: Vec::new(),
            anomalies: Vec::new(),
            file: d.file,
            first_frame: d.frame,
            ts_start: d.ts_us,
            ts_last: d.ts_us,
        })
    }

    fn note(&mut self, code: Anomaly) {
        if !self.anomalies.contains(&code) {
            self.anomalies.push(code);
        }
    }

    /// Takes one datagram of this connection's 4-tuple.
    pub(super) fn push(&mut self, d: &Datagram<'_>) -> Step {
        let side = if d.src == self.client { CLIENT } else { SERVER };
        self.ts_last = self.ts_last.max(d.ts_us);
        if let (Some(p), Some(b), Some(t)) = (
            self.packets.get_mut(side),
            self.bytes.get_mut(side),
            self.ttl.get_mut(side),
        ) {
            *p += 1;
            *b = b.saturating_add(d.payload.len() as u64);
            t.get_or_insert(d.ttl);
        }
        let (packets, malformed) = packet::split(d.payload);
        if malformed {
            self.note(Anomaly::QuicMalformedPacket);
        }
        for (i, p) in packets.iter().enumerate() {
            match p {
                Packet::Short(b) => self.add_app(side, b.len()),
                Packet::VersionNegotiation { .. } => {
                    if side == SERVER {
                        self.version_negotiated = true;
                        self.note(Anomaly::QuicVersionNegotiation);
                    }
                }
                Packet::OtherVersion(..) => self.note(Anomaly::QuicUnsupportedVersion),
                Packet::Long(l) => match l.kind {
                    Kind::ZeroRtt => {
                        self.add_app(side, l.bytes.len());
                        self.note(Anomaly::Quic0rtt);
                    }
                    Kind::Retry => {
                        if side == SERVER {
                            self.note(Anomaly::QuicRetry);
                            if self.retry_cids.len() < MAX_RETRIES {
                                self.retry_cids.push(l.scid.to_vec());
                            }
                        }
                    }
                    Kind::Handshake => self.keep_handshake(side, l),
                    Kind::Initial => {
                        if let Opened::Fresh(v, keys) = self.initial_packet(side, l, d.ts_us) {
                            let (c, s) = *keys;
                            let restart = self.retry_cids.iter().any(|r| r == l.dcid)
                                || self.version_negotiated;
                            if restart {
                                self.restart_initial(l, v, c, s, d.ts_us);
                            } else if i == 0 {
                                return Step::Restart;
                            } else {
                                self.note(Anomaly::QuicInitialUndecryptable);
                            }
                        }
                    }
                },
            }
        }
        Step::Continue
    }

    fn add_app(&mut self, side: usize, n: usize) {
        if let Some(a) = self.app_bytes.get_mut(side) {
            *a = a.saturating_add(n as u64);
        }
    }

    fn keep_handshake(&mut self, side: usize, l: &Long<'_>) {
        let (Some(kept), Some(bytes)) = (
            self.handshake.get_mut(side),
            self.handshake_bytes.get_mut(side),
        ) else {
            return;
        };
        let total = bytes.saturating_add(l.bytes.len());
        if total > MAX_QUIC_HANDSHAKE_PACKET_BYTES {
            self.note(Anomaly::QuicHandshakeCap);
            return;
        }
        *bytes = total;
        kept.push(l.bytes.to_vec());
    }

    /// Index of the Initial keys for `v`, derived on first use.
    fn keys_for(&mut self, v: Version) -> Option<usize> {
        if let Some(i) = self.keys.iter().position(|(kv, _, _)| *kv == v) {
            return Some(i);
        }
        if self.keys.len() >= MAX_VERSIONS {
            return None;
        }
        let (c, s) = Keys::initial(v, &self.basis)?;
        self.keys.push((v, c, s));
        Some(self.keys.len() - 1)
    }

    fn initial_packet(&mut self, side: usize, l: &Long<'_>, ts: i64) -> Opened {
        let largest = self.largest_initial.get(side).copied().flatten();
        let opened = self.keys_for(l.version).and_then(|i| {
            let (_, c, s) = self.keys.get(i)?;
            packet::open(l, if side == CLIENT { c } else { s }, largest)
        });
        if let Some((pn, payload)) = opened {
            self.take_initial(side, l.version, pn, &payload, ts);
            return Opened::Yes;
        }
        if side == CLIENT {
            if let Some((c, s)) = Keys::initial(l.version, l.dcid) {
                if packet::open(l, &c, None).is_some() {
                    return Opened::Fresh(l.version, Box::new((c, s)));
                }
            }
        }
        self.note(Anomaly::QuicInitialUndecryptable);
        Opened::No
    }

    fn take_initial(&mut self, side: usize, v: Version, pn: u64, payload: &[u8], ts: i64) {
        if let Some(l) = self.largest_initial.get_mut(side) {
            *l = Some(l.map_or(pn, |x| x.max(pn)));
        }
        let f = frames::parse_for(v, payload);
        if f.malformed {
            self.note(Anomaly::QuicMalformedFrame);
        }
        if let Some(code) = f.close {
            self.close(side, code, ts);
        }
        if let Some(stream) = self.initial.get_mut(side) {
            for (off, data) in f.crypto {
                stream.insert(off, data);
            }
        }
    }

    fn close(&mut self, side: usize, code: u64, ts: i64) {
        if self.closes.len() < MAX_CLOSES {
            self.closes.push((side, code, ts));
        }
    }

    /// The client started over under a new DCID (after Retry or Version
    /// Negotiation): new keys, and the Initial exchange begins again.
    fn restart_initial(&mut self, l: &Long<'_>, v: Version, c: Keys, s: Keys, ts: i64) {
        self.basis = l.dcid.to_vec();
        self.keys = vec![(v, c, s)];
        self.version_negotiated = false;
        for st in &mut self.initial {
            st.clear();
        }
        self.largest_initial = [None; 2];
        if let Some((pn, payload)) = self
            .keys
            .first()
            .and_then(|(_, c, _)| packet::open(l, c, None))
        {
            self.take_initial(CLIENT, v, pn, &payload, ts);
        }
    }

    /// Ends the connection: hellos from the Initial streams, certificates
    /// from the Handshake packets when `keys` has their secrets.
    pub(super) fn finish(mut self, keys: &KeyLog) -> FlowRecord<Handshake> {
        for i in [CLIENT, SERVER] {
            let Some(st) = self.initial.get(i) else {
                continue;
            };
            let (capped, conflict, gap) = (st.capped, st.conflict, st.has_gap());
            if capped {
                self.note(Anomaly::QuicCryptoCap);
            }
            if conflict {
                self.note(Anomaly::QuicCryptoConflict);
            }
            if gap {
                self.note(Anomaly::QuicCryptoGap);
            }
        }
        let client_stream = self.initial.first().map_or(&[][..], |s| s.contiguous());
        let server_stream = self.initial.get(SERVER).map_or(&[][..], |s| s.contiguous());
        let mut handshake =
            tls::handshake_from_messages(client_stream, server_stream, self.ts_start, true);
        let decryption = handshake.as_mut().and_then(|h| {
            h.app_bytes_client = self.app_bytes.first().copied().unwrap_or(0);
            h.app_bytes_server = self.app_bytes.get(SERVER).copied().unwrap_or(0);
            h.server_flight_bytes = self.handshake_bytes.get(SERVER).copied().unwrap_or(0) as u64;
            h.last_ts_us = Some(self.ts_last);
            let outcome = self.decrypt(h, keys);
            self.add_alerts(h);
            (outcome != Decryption::NotApplicable).then_some(outcome.as_str())
        });
        FlowRecord {
            client: self.client,
            server: self.server,
            file: self.file,
            first_frame: self.first_frame,
            ts_start: self.ts_start,
            ts_end: self.ts_last,
            packets: self.packets.iter().sum(),
            client_bytes: self.bytes.first().copied().unwrap_or(0),
            server_bytes: self.bytes.get(SERVER).copied().unwrap_or(0),
            client_ttl: self.ttl.first().copied().flatten(),
            server_ttl: self.ttl.get(SERVER).copied().flatten(),
            syn_seen: false,
            handshake,
            decryption,
            anomalies: self.anomalies,
            transport: "quic",
        }
    }

    /// CONNECTION_CLOSE with a CRYPTO_ERROR (0x0100 + TLS alert, RFC 9001
    /// §4.8) becomes a fatal alert of its sender; other codes an anomaly.
    fn add_alerts(&mut self, h: &mut Handshake) {
        for &(side, code, ts_us) in &self.closes {
            if (0x0100..=0x01ff).contains(&code) {
                if h.alerts.len() < tls::MAX_ALERTS {
                    h.alerts.push(Alert {
                        side: if side == CLIENT { Side::A } else { Side::B },
                        level: Some(2),
                        description: u8::try_from(code & 0xff).ok(),
                        encrypted: false,
                        after_server_certificate: !h.server_chain.is_empty(),
                        ts_us,
                    });
                }
            } else {
                h.add_anomaly(Anomaly::QuicConnectionClose);
            }
        }
    }

    /// Opens the kept Handshake packets of one side with `secret`; returns
    /// the reassembled CRYPTO stream, or `None` when the first packet does
    /// not open (wrong key).
    fn open_handshake(
        &mut self,
        side: usize,
        suite: Suite,
        secret: &[u8],
    ) -> Option<(CryptoStream, bool)> {
        let mut stream = CryptoStream::new(MAX_QUIC_CRYPTO_BYTES);
        let mut keys: Vec<(Version, Keys)> = Vec::new();
        let mut largest: Option<u64> = None;
        let mut opened_any = false;
        let mut failed = false;
        let mut closes = Vec::new();
        for raw in self.handshake.get(side).map_or(&[][..], Vec::as_slice) {
            let (pkts, _) = packet::split(raw);
            let Some(Packet::Long(l)) = pkts.first() else {
                continue;
            };
            let k = match keys.iter().position(|(v, _)| *v == l.version) {
                Some(i) => keys.get(i).map(|(_, k)| k),
                None if keys.len() < MAX_VERSIONS => {
                    let k = Keys::from_secret(l.version, suite, secret)?;
                    keys.push((l.version, k));
                    keys.last().map(|(_, k)| k)
                }
                None => None,
            };
            let Some((pn, payload)) = k.and_then(|k| packet::open(l, k, largest)) else {
                if !opened_any {
                    return None;
                }
                failed = true;
                continue;
            };
            opened_any = true;
            largest = Some(largest.map_or(pn, |x| x.max(pn)));
            let f = frames::parse_for(l.version, &payload);
            if let Some(code) = f.close {
                closes.push(code);
            }
            for (off, data) in f.crypto {
                stream.insert(off, data);
            }
        }
        for code in closes {
            self.close(side, code, self.ts_last);
        }
        Some((stream, failed))
    }

    /// Decrypts the Handshake level with the key log (RFC 9001 §5.1).
    fn decrypt(&mut self, h: &mut Handshake, keys: &KeyLog) -> Decryption {
        if h.visibility != Visibility::Encrypted || !h.server_chain.is_empty() {
            return Decryption::NotApplicable;
        }
        let Some(random) = h.client_hello.as_ref().map(|c| c.random) else {
            return Decryption::NotApplicable;
        };
        let Some(server_secret) = keys.secret(&random, SecretLabel::ServerHandshakeTraffic) else {
            return Decryption::NoKeys;
        };
        let Some(suite) = h.cipher.and_then(quic_suite) else {
            h.add_anomaly(Anomaly::KeylogUnsupportedCipher);
            return Decryption::Failed;
        };
        if self.handshake.get(SERVER).is_none_or(Vec::is_empty) {
            h.add_anomaly(Anomaly::KeylogNoFlight);
            return Decryption::Failed;
        }
        let Some((server, server_failed)) = self.open_handshake(SERVER, suite, server_secret)
        else {
            h.add_anomaly(Anomaly::KeylogWrongKey);
            return Decryption::WrongKey;
        };
        let mut client = CryptoStream::new(MAX_QUIC_CRYPTO_BYTES);
        if let Some(cs) = keys.secret(&random, SecretLabel::ClientHandshakeTraffic) {
            match self.open_handshake(CLIENT, suite, cs) {
                Some((c, _)) => client = c,
                None if self.handshake.get(CLIENT).is_some_and(|v| !v.is_empty()) => {
                    h.add_anomaly(Anomaly::KeylogWrongClientKey);
                }
                None => {}
            }
        }
        if server_failed {
            h.add_anomaly(Anomaly::QuicHandshakeUndecryptable);
        }
        if server.capped || client.capped {
            h.add_anomaly(Anomaly::QuicCryptoCap);
        }
        h.apply_decrypted_streams(server.contiguous(), client.contiguous())
    }
}
