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

use super::crypto::{quic_suite, Keys, Suite, Version};
use super::frames::{self, CryptoStream};
use super::packet::{self, Kind, Long, Packet};
use crate::error::Anomaly;
use crate::flow::{Activity, Datagram, DatagramConn, FlowRecord, Step, Traffic};
use crate::limits::{
    MAX_QUIC_CONNS_PER_SHARD, MAX_QUIC_CRYPTO_BYTES, MAX_QUIC_HANDSHAKE_PACKET_BYTES,
};
use crate::tls::{self, Alert, Decryption, Handshake, KeyLog, SecretLabel, Side, Visibility};

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

/// One QUIC connection of a shard.
pub struct Conn {
    /// Direction 0 is the client's: a connection starts at its Initial.
    traffic: Traffic,
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
    closes: Vec<(usize, u64, i64)>,
}

impl Activity for Conn {
    fn last_seen(&self) -> i64 {
        self.traffic.last_seen()
    }
}

impl DatagramConn for Conn {
    /// The key log that opens Handshake packets.
    type Context = KeyLog;
    type Output = Handshake;
    const MAX_PER_SHARD: usize = MAX_QUIC_CONNS_PER_SHARD;

    /// A connection for `d` when its first packet is a client Initial that
    /// opens under keys from its own DCID.
    fn start(d: &Datagram<'_>) -> Option<Conn> {
        // Only a long header can start a connection (RFC 9000 §17.2).
        if d.payload.first().is_none_or(|b| b & 0x80 == 0) {
            return None;
        }
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
            traffic: Traffic::new(d),
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
            closes: Vec::new(),
        })
    }

    /// Takes one datagram of this connection's 4-tuple.
    fn push(&mut self, d: &Datagram<'_>) -> Step {
        let side = self.traffic.side(d);
        self.traffic.count(side, d);
        let (packets, malformed) = packet::split(d.payload);
        if malformed {
            self.traffic.note(Anomaly::QuicMalformedPacket);
        }
        for (i, p) in packets.iter().enumerate() {
            match p {
                Packet::Short(b) => self.add_app(side, b.len()),
                Packet::VersionNegotiation { .. } => {
                    if side == SERVER {
                        self.version_negotiated = true;
                        self.traffic.note(Anomaly::QuicVersionNegotiation);
                    }
                }
                Packet::OtherVersion(..) => self.traffic.note(Anomaly::QuicUnsupportedVersion),
                Packet::Long(l) => match l.kind {
                    Kind::ZeroRtt => {
                        self.add_app(side, l.bytes.len());
                        self.traffic.note(Anomaly::Quic0rtt);
                    }
                    Kind::Retry => {
                        if side == SERVER {
                            self.traffic.note(Anomaly::QuicRetry);
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
                                self.traffic.note(Anomaly::QuicInitialUndecryptable);
                            }
                        }
                    }
                },
            }
        }
        Step::Continue
    }

    /// Ends the connection: hellos from the Initial streams, certificates
    /// from the Handshake packets when `keys` has their secrets.
    fn finish(mut self, keys: &KeyLog) -> FlowRecord<Handshake> {
        for i in [CLIENT, SERVER] {
            let Some(st) = self.initial.get(i) else {
                continue;
            };
            let (capped, conflict, gap) = (st.capped, st.conflict, st.has_gap());
            if capped {
                self.traffic.note(Anomaly::QuicCryptoCap);
            }
            if conflict {
                self.traffic.note(Anomaly::QuicCryptoConflict);
            }
            if gap {
                self.traffic.note(Anomaly::QuicCryptoGap);
            }
        }
        let client_stream = self.initial.first().map_or(&[][..], |s| s.contiguous());
        let server_stream = self.initial.get(SERVER).map_or(&[][..], |s| s.contiguous());
        let mut handshake = tls::handshake_from_messages(
            client_stream,
            server_stream,
            self.traffic.first_seen(),
            true,
        );
        let decryption = handshake.as_mut().and_then(|h| {
            h.app_bytes_client = self.app_bytes.first().copied().unwrap_or(0);
            h.app_bytes_server = self.app_bytes.get(SERVER).copied().unwrap_or(0);
            h.server_flight_bytes = self.handshake_bytes.get(SERVER).copied().unwrap_or(0) as u64;
            h.last_ts_us = Some(self.traffic.last_seen());
            let outcome = self.decrypt(h, keys);
            self.add_alerts(h);
            (outcome != Decryption::NotApplicable).then_some(outcome.as_str())
        });
        FlowRecord {
            handshake,
            decryption,
            ..self.traffic.record(CLIENT, "quic")
        }
    }
}

impl Conn {
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
            self.traffic.note(Anomaly::QuicHandshakeCap);
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
        self.traffic.note(Anomaly::QuicInitialUndecryptable);
        Opened::No
    }

    fn take_initial(&mut self, side: usize, v: Version, pn: u64, payload: &[u8], ts: i64) {
        if let Some(l) = self.largest_initial.get_mut(side) {
            *l = Some(l.map_or(pn, |x| x.max(pn)));
        }
        let f = frames::parse_for(v, payload);
        if f.malformed {
            self.traffic.note(Anomaly::QuicMalformedFrame);
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
            self.close(side, code, self.traffic.last_seen());
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
