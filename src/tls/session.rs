//! The per-connection TLS state machine: record defragmentation, handshake
//! message reassembly, and the decisions about when each direction is done.
//!
//! In: both directions' reassembled bytes, gaps and skipped counts. Out: a
//! [`Handshake`] from [`Session::finish`]. TLS 1.3: the encrypted handshake
//! records are kept, as sent, for [`Handshake::decrypt`]; the server's from
//! its ServerHello to the client's first encrypted record, the client's from
//! its first encrypted record to what looks like its Finished (so a client
//! Certificate is kept too), each bounded. Leaves out: decryption itself and
//! any handshake after the first (renegotiation is encrypted anyway).

use super::decrypt::bare_finished_len;
use super::hello::{
    looks_like_sslv2_hello, parse_client_hello, parse_server_hello, parse_sslv2_client_hello,
};
use super::openvpn;
use super::socks::{self, Socks};
use super::{
    ja, Alert, ClientHello, EncryptedFlight, Handshake, ServerHello, Side, Visibility, MAX_ALERTS,
    MAX_CHAIN_LEN, MAX_CONNECT_PREAMBLE, MAX_HANDSHAKE_BYTES, MAX_HANDSHAKE_MSG_LEN, MAX_PREAMBLE,
    MAX_RECORD_LEN, MAX_RESYNC, MAX_RETAINED_CLIENT_RECORDS, MAX_RETAINED_FLIGHT,
};
use super::{Decryption, KeyLog};
use crate::error::Anomaly;
use crate::flow::FlowRecord;

/// TLS ContentType values (RFC 8446 §5.1).
const CT_CCS: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APP_DATA: u8 = 23;
const CT_HEARTBEAT: u8 = 24;

/// HandshakeType values (RFC 8446 §4, RFC 5246 §7.4).
const HT_CLIENT_HELLO: u8 = 1;
const HT_SERVER_HELLO: u8 = 2;
const HT_CERTIFICATE: u8 = 11;
const HT_CERTIFICATE_REQUEST: u8 = 13;

/// Encrypted TLS 1.3 alert: 2 bytes + content type + 16-byte AEAD tag
/// (all TLS 1.3 suites in use have a 16-byte tag).
const TLS13_ENCRYPTED_ALERT_LEN: usize = 19;

/// State of one direction.
#[derive(Default, Debug)]
struct Dir {
    /// Undecoded bytes: at most one partial record (or a preamble).
    buf: Vec<u8>,
    /// A handshake message split across records.
    hs: Vec<u8>,
    /// The first TLS record (or SSLv2 hello) was recognised.
    started: bool,
    /// Nothing more to learn from this direction.
    done: bool,
    /// After a gap: look for the next plausible record header.
    resync: bool,
    /// ChangeCipherSpec sent (TLS ≤ 1.2): later records are encrypted.
    ccs: bool,
    /// A TLS 1.3 encrypted record was sent by this side.
    sent_encrypted: bool,
    /// Sent a Certificate message.
    sent_certificate: bool,
    /// Clear handshake bytes processed.
    hs_bytes: usize,
    /// Bytes after this direction's handshake.
    app_bytes: u64,
    /// Non-TLS bytes skipped before the first record (STARTTLS, SOCKS...).
    hunted: u64,
}

/// Collects the TLS handshake of one TCP connection from both directions.
#[derive(Debug, Default)]
pub struct Session {
    a: Dir,
    b: Dir,
    client_side: Option<Side>,
    hs: Handshake,
    tls_seen: bool,
    /// TLS 1.3 encrypted handshake records kept for decryption.
    flight: EncryptedFlight,
    /// Do not keep encrypted records (no key log will ever be offered).
    no_retain: bool,
    /// The client's first encrypted record was not a bare Finished: keep
    /// its records until one looks like its Finished.
    client_retaining: bool,
    /// Client records kept.
    client_records: usize,
    /// The connection is an OpenVPN control channel over TCP: each side's
    /// bytes are unwrapped before they are read as TLS.
    openvpn: Option<Box<[openvpn::Channel; 2]>>,
    /// Bytes fed so far (both sides), to recognise OpenVPN at the start.
    fed: u64,
}

fn plausible_header(b: &[u8]) -> Option<(u8, usize)> {
    let ty = *b.first()?;
    let major = *b.get(1)?;
    let minor = *b.get(2)?;
    let len = usize::from(u16::from_be_bytes([*b.get(3)?, *b.get(4)?]));
    let ok = (CT_CCS..=CT_HEARTBEAT).contains(&ty) && major == 3 && minor <= 4;
    ok.then_some((ty, len))
}

fn is_tls13(v: u16) -> bool {
    // DTLS 1.3 (RFC 9147) encrypts everything after its ServerHello too.
    v == 0x0304 || v == 0xfefc || (0x7f00..=0x7fff).contains(&v) || (0xfb00..=0xfbff).contains(&v)
}

/// Offset of the first `16 03 0x LL LL 01|02`: a handshake record that
/// starts with a ClientHello or ServerHello.
fn find_hello_header(b: &[u8]) -> Option<usize> {
    b.windows(6).position(|w| {
        matches!(w, [CT_HANDSHAKE, 3, minor, hi, lo, HT_CLIENT_HELLO | HT_SERVER_HELLO]
        if *minor <= 4 && {
            let l = usize::from(u16::from_be_bytes([*hi, *lo]));
            (4..=MAX_RECORD_LEN).contains(&l)
        })
    })
}

fn find_subslice(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// Outcome of looking at the start of a direction.
enum Start {
    Tls,
    Wait,
    Consumed(usize),
    Sslv2(usize),
    NotTls,
}

impl Session {
    /// A session with nothing seen yet.
    pub fn new() -> Session {
        Session::default()
    }

    fn dir(&self, side: Side) -> &Dir {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }

    fn dir_mut(&mut self, side: Side) -> &mut Dir {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    fn anomaly(&mut self, code: Anomaly) {
        if !self.hs.anomalies.contains(&code) {
            self.hs.anomalies.push(code);
        }
    }

    fn client(&self) -> Side {
        self.client_side.unwrap_or(Side::A)
    }

    fn negotiated_13(&self) -> bool {
        self.hs
            .server_hello
            .as_ref()
            .is_some_and(|sh| is_tls13(sh.version()))
    }

    fn client_offers_13(&self) -> bool {
        self.hs
            .client_hello
            .as_ref()
            .is_some_and(|ch| ch.supported_versions.iter().any(|v| is_tls13(*v)))
    }

    /// Whether to keep TLS 1.3 encrypted handshake records for
    /// [`Handshake::decrypt`] (default: keep). Turn off when no key log can
    /// be offered, to save up to 2 × [`MAX_RETAINED_FLIGHT`] per connection.
    pub fn keep_encrypted_flight(&mut self, keep: bool) {
        self.no_retain = !keep;
    }

    /// Bytes of one direction, in order, as reassembled; `ts_us` is the
    /// capture time of the segment.
    pub fn feed(&mut self, side: Side, data: &[u8], ts_us: i64) {
        if data.is_empty() {
            return;
        }
        if self.fed == 0 && openvpn::looks_like_reset(data) {
            self.openvpn = Some(Box::default());
        }
        self.fed = self.fed.saturating_add(data.len() as u64);
        if let Some(ch) = self.openvpn.as_mut() {
            let i = usize::from(side == Side::B);
            let Some(out) = ch.get_mut(i).map(|c| c.push(data)) else {
                return;
            };
            if self.hs.first_ts_us.is_none() {
                self.hs.first_ts_us = Some(ts_us);
            }
            self.hs.last_ts_us = Some(ts_us);
            if out.broken && !self.tls_seen {
                self.anomaly(Anomaly::OpenvpnUnreadable);
            }
            self.skip(side, out.data_bytes);
            if !out.tls.is_empty() {
                self.anomaly(Anomaly::OpenvpnControlChannel);
                self.feed_tls(side, &out.tls, ts_us);
            }
            return;
        }
        self.feed_tls(side, data, ts_us);
    }

    /// [`Session::feed`] for bytes that are TLS (or its preamble).
    fn feed_tls(&mut self, side: Side, data: &[u8], ts_us: i64) {
        if self.hs.first_ts_us.is_none() {
            self.hs.first_ts_us = Some(ts_us);
        }
        self.hs.last_ts_us = Some(ts_us);
        let d = self.dir_mut(side);
        if d.done {
            d.app_bytes = d.app_bytes.saturating_add(data.len() as u64);
            return;
        }
        let consumed;
        if d.buf.is_empty() {
            consumed = self.process(side, data, ts_us);
            let rest = data.get(consumed..).unwrap_or(&[]);
            let d = self.dir_mut(side);
            if d.done {
                d.app_bytes = d.app_bytes.saturating_add(rest.len() as u64);
            } else {
                d.buf.extend_from_slice(rest);
            }
        } else {
            d.buf.extend_from_slice(data);
            let mut buf = std::mem::take(&mut d.buf);
            consumed = self.process(side, &buf, ts_us);
            buf.drain(..consumed.min(buf.len()));
            let d = self.dir_mut(side);
            if d.done {
                d.app_bytes = d.app_bytes.saturating_add(buf.len() as u64);
            } else {
                d.buf = buf;
            }
        }
    }

    /// `lost` bytes missing in this direction (capture gap): resynchronise on
    /// the next plausible record header.
    pub fn gap(&mut self, side: Side, lost: u64) {
        // OpenVPN's packet boundaries are lost with the bytes.
        if let Some(c) = self
            .openvpn
            .as_mut()
            .and_then(|ch| ch.get_mut(usize::from(side == Side::B)))
        {
            c.lose();
        }
        let tls = self.tls_seen;
        let d = self.dir_mut(side);
        if d.done {
            d.app_bytes = d.app_bytes.saturating_add(lost);
            return;
        }
        let mid_handshake = d.started || !d.buf.is_empty() || !d.hs.is_empty();
        d.buf.clear();
        d.hs.clear();
        d.resync = true;
        if mid_handshake || tls {
            self.anomaly(Anomaly::GapInHandshake);
        }
    }

    /// False once this direction has nothing more to give the handshake.
    pub fn wants_bytes(&self, side: Side) -> bool {
        !self.dir(side).done
    }

    /// Bytes the caller did not feed because `wants_bytes` was false.
    pub fn skip(&mut self, side: Side, n: u64) {
        let d = self.dir_mut(side);
        d.app_bytes = d.app_bytes.saturating_add(n);
    }

    /// True once a ClientHello or ServerHello was parsed.
    pub fn is_tls(&self) -> bool {
        self.tls_seen
    }

    /// The handshake, or `None` when no TLS hello was seen.
    pub fn finish(mut self) -> Option<Handshake> {
        if !self.tls_seen {
            return None;
        }
        let client = self.client();
        for side in [Side::A, Side::B] {
            let d = self.dir(side);
            // A client still kept open for its certificate has finished its
            // handshake as far as the clear part goes.
            let retaining = self.client_retaining && side == client;
            let truncated =
                !d.done && !retaining && (!d.hs.is_empty() || (d.started && !d.buf.is_empty()));
            let never_tls = !d.started && d.hunted > 0;
            if truncated {
                self.anomaly(Anomaly::HandshakeTruncated);
            }
            if never_tls {
                self.anomaly(Anomaly::NotTlsAfterHello);
            }
        }
        let (cd, sd) = match client {
            Side::A => (&self.a, &self.b),
            Side::B => (&self.b, &self.a),
        };
        self.hs.app_bytes_client = cd.app_bytes;
        self.hs.app_bytes_server = sd.app_bytes;
        self.hs.client_side = client;
        // An abbreviated handshake (RFC 5246 §7.3; RFC 5077 §3.1): the server
        // goes from ServerHello to CCS without a Certificate, echoing the
        // client's session id or accepting its ticket. Without either, a
        // missing Certificate is more likely a capture gap.
        let echoed = match (&self.hs.client_hello, &self.hs.server_hello) {
            (Some(ch), Some(sh)) => {
                ch.has_session_ticket
                    || (!sh.session_id.is_empty() && ch.session_id == sh.session_id)
                    || ch.sslv2
            }
            (None, Some(_)) => true,
            _ => false,
        };
        let server_ccs_no_cert = sd.ccs && !sd.sent_certificate && echoed;
        self.hs.visibility = if !self.hs.server_chain.is_empty() {
            Visibility::Plain
        } else {
            match &self.hs.server_hello {
                Some(sh) if is_tls13(sh.version()) => {
                    if sh.psk {
                        Visibility::Resumed
                    } else {
                        Visibility::Encrypted
                    }
                }
                Some(_) if server_ccs_no_cert => Visibility::Resumed,
                _ => Visibility::Absent,
            }
        };
        if self.hs.visibility == Visibility::Encrypted && !self.flight.server.is_empty() {
            self.hs.encrypted_flight = Some(std::mem::take(&mut self.flight));
        }
        Some(self.hs)
    }

    /// Decides what the first bytes of a direction are.
    fn classify_start(&mut self, side: Side, b: &[u8]) -> Start {
        if plausible_header(b).is_some() {
            return Start::Tls;
        }
        if b.len() < 5 {
            return Start::Wait;
        }
        if looks_like_sslv2_hello(b) && self.hs.client_hello.is_none() {
            let len = usize::from(u16::from_be_bytes([
                b.first().copied().unwrap_or(0) & 0x7f,
                b.get(1).copied().unwrap_or(0),
            ]));
            let total = len.saturating_add(2);
            return if b.len() >= total {
                Start::Sslv2(total)
            } else {
                Start::Wait
            };
        }
        let connect = b.starts_with(b"CONNECT ") || b"CONNECT ".starts_with(b);
        let reply = self.hs.connect_target.is_some() && b.starts_with(b"HTTP/1.");
        if connect || reply {
            if let Some(end) = find_subslice(b, b"\r\n\r\n") {
                let total = end.saturating_add(4);
                if connect {
                    let head = String::from_utf8_lossy(b.get(..end).unwrap_or(&[]));
                    let target = head
                        .lines()
                        .next()
                        .and_then(|l| l.split(' ').nth(1))
                        .map(str::to_string);
                    if self.client_side.is_none() {
                        self.client_side = Some(side);
                    }
                    self.hs.connect_target = target;
                }
                return Start::Consumed(total);
            }
            return if b.len() > MAX_CONNECT_PREAMBLE {
                Start::NotTls
            } else {
                Start::Wait
            };
        }
        let hunted = self.dir(side).hunted;
        // A SOCKS CONNECT names its target as an HTTP CONNECT does.
        if hunted == 0 && self.hs.connect_target.is_none() && self.hs.client_hello.is_none() {
            match socks::client_request(b) {
                Socks::Connect { target, len } => {
                    if self.client_side.is_none() {
                        self.client_side = Some(side);
                    }
                    self.hs.connect_target = Some(target);
                    return Start::Consumed(len);
                }
                Socks::Partial if b.len() <= socks::MAX_SOCKS_PREAMBLE => return Start::Wait,
                Socks::Partial | Socks::No => {}
            }
        }
        // STARTTLS (SMTP, IMAP, POP3, XMPP, LDAP, PostgreSQL, MySQL), the
        // SOCKS proxy's replies and other preambles: look for a hello record
        // header further on.
        match find_hello_header(b) {
            Some(0) => Start::Tls,
            Some(i) => {
                self.dir_mut(side).hunted = hunted.saturating_add(i as u64);
                Start::Consumed(i)
            }
            None => {
                let drop = b.len().saturating_sub(5);
                let total = hunted.saturating_add(drop as u64);
                if total > MAX_PREAMBLE as u64 {
                    Start::NotTls
                } else if drop == 0 {
                    Start::Wait
                } else {
                    self.dir_mut(side).hunted = total;
                    Start::Consumed(drop)
                }
            }
        }
    }

    /// Consumes complete records from `input`; returns the bytes used.
    fn process(&mut self, side: Side, input: &[u8], ts_us: i64) -> usize {
        let mut pos = 0usize;
        loop {
            if self.dir(side).done {
                return pos;
            }
            let rest = input.get(pos..).unwrap_or(&[]);
            if self.dir(side).resync {
                // Skip to the next byte offset that reads as a TLS record
                // header; keep the last 4 bytes, which may start one.
                match (0..rest.len()).find(|&i| {
                    rest.get(i..)
                        .and_then(plausible_header)
                        .is_some_and(|(_, l)| l > 0 && l <= MAX_RECORD_LEN)
                }) {
                    Some(i) => {
                        pos = pos.saturating_add(i);
                        let d = self.dir_mut(side);
                        d.resync = false;
                        d.started = true;
                        d.hunted = 0;
                        continue;
                    }
                    None => {
                        let keep = rest.len().min(4);
                        let dropped = rest.len().saturating_sub(keep);
                        let d = self.dir_mut(side);
                        d.hunted = d.hunted.saturating_add(dropped as u64);
                        if d.hunted > MAX_RESYNC as u64 {
                            // Nothing record-like for long: bulk data or not
                            // TLS; stop costing the caller.
                            d.done = true;
                        }
                        return pos.saturating_add(dropped);
                    }
                }
            }
            if rest.is_empty() {
                return pos;
            }
            if !self.dir(side).started {
                match self.classify_start(side, rest) {
                    Start::Tls => self.dir_mut(side).started = true,
                    Start::Wait => return pos,
                    Start::Consumed(n) => {
                        pos = pos.saturating_add(n);
                        continue;
                    }
                    Start::Sslv2(n) => {
                        let rec = rest.get(..n).unwrap_or(&[]);
                        match parse_sslv2_client_hello(rec) {
                            Some(ch) => {
                                self.anomaly(Anomaly::Sslv2Hello);
                                self.on_client_hello(side, ch);
                                self.dir_mut(side).started = true;
                            }
                            None => self.not_tls(side),
                        }
                        pos = pos.saturating_add(n);
                        continue;
                    }
                    Start::NotTls => {
                        self.not_tls(side);
                        return pos;
                    }
                }
            }
            let Some((ty, len)) = plausible_header(rest) else {
                if rest.len() < 5 {
                    return pos;
                }
                self.not_tls(side);
                return pos;
            };
            if len > MAX_RECORD_LEN {
                self.anomaly(Anomaly::RecordTooLarge);
                self.dir_mut(side).done = true;
                return pos;
            }
            let end = 5usize.saturating_add(len);
            let Some(payload) = rest.get(5..end) else {
                return pos;
            };
            pos = pos.saturating_add(end);
            let record = rest.get(..end).unwrap_or(&[]);
            self.on_record(side, ty, record, payload, ts_us);
        }
    }

    fn not_tls(&mut self, side: Side) {
        if self.tls_seen {
            self.anomaly(Anomaly::NotTlsAfterHello);
        }
        self.dir_mut(side).done = true;
    }

    /// Keeps one TLS 1.3 encrypted record (header included) of `side`.
    /// Returns false once the side's cap is reached.
    fn retain(&mut self, side: Side, record: &[u8]) -> bool {
        let psk = self.hs.server_hello.as_ref().is_some_and(|sh| sh.psk);
        if self.no_retain || psk {
            return true;
        }
        let server = side != self.client();
        let (buf, truncated) = if server {
            (&mut self.flight.server, &mut self.flight.server_truncated)
        } else {
            (&mut self.flight.client, &mut self.flight.client_truncated)
        };
        if *truncated {
            return false;
        }
        if buf.len().saturating_add(record.len()) > MAX_RETAINED_FLIGHT {
            *truncated = true;
            self.anomaly(Anomaly::Tls13FlightCap);
            return false;
        }
        buf.extend_from_slice(record);
        true
    }

    /// A client record while waiting for its Finished after a first
    /// encrypted record that was not a bare Finished (client certificate).
    fn on_client_retained(&mut self, side: Side, record: &[u8], payload: &[u8]) {
        let rec_len = record.len() as u64;
        let d = self.dir_mut(side);
        d.app_bytes = d.app_bytes.saturating_add(rec_len);
        self.client_records = self.client_records.saturating_add(1);
        let kept = self.retain(side, record);
        let finished = self
            .hs
            .cipher
            .and_then(bare_finished_len)
            .is_some_and(|(fin, alert)| payload.len() == fin || payload.len() == alert);
        if !kept || finished || self.client_records >= MAX_RETAINED_CLIENT_RECORDS {
            self.client_retaining = false;
            self.dir_mut(side).done = true;
        }
    }

    fn on_record(&mut self, side: Side, ty: u8, record: &[u8], payload: &[u8], ts_us: i64) {
        let rec_len = payload.len().saturating_add(5) as u64;
        let is13 = self.negotiated_13();
        let client = self.client();
        match ty {
            CT_CCS => {
                // The TLS 1.3 middlebox-compatibility CCS (RFC 8446 §D.4),
                // also sent around a HelloRetryRequest or before the
                // ServerHello with 0-RTT, changes nothing.
                let offers_13 = self.client_offers_13();
                let maybe_13 = self.hs.server_hello.is_none() && (self.hs.hello_retry || offers_13);
                if !is13 && !maybe_13 {
                    self.dir_mut(side).ccs = true;
                }
            }
            CT_ALERT => {
                let encrypted = self.dir(side).ccs || payload.len() != 2;
                let (level, description) = match (encrypted, payload) {
                    (false, [l, d]) => (Some(*l), Some(*d)),
                    _ => (None, None),
                };
                self.push_alert(side, level, description, encrypted, ts_us);
            }
            CT_HANDSHAKE => {
                if self.dir(side).ccs {
                    // The encrypted Finished (TLS ≤ 1.2): this side is done.
                    self.dir_mut(side).done = true;
                } else {
                    self.on_handshake_bytes(side, payload);
                }
            }
            CT_APP_DATA => {
                if is13 && side != client {
                    if self.dir(client).sent_encrypted {
                        let d = self.dir_mut(side);
                        d.app_bytes = d.app_bytes.saturating_add(rec_len);
                    } else {
                        self.hs.server_flight_bytes =
                            self.hs.server_flight_bytes.saturating_add(rec_len);
                        self.dir_mut(side).sent_encrypted = true;
                        self.retain(side, record);
                    }
                } else if is13 && side == client && self.client_retaining {
                    self.on_client_retained(side, record, payload);
                } else if is13 && side == client && !self.dir(side).sent_encrypted {
                    // The client's first encrypted record ends the server's
                    // flight: its Finished, or an alert rejecting the flight.
                    // 19 bytes, 11 with the 8-byte tag of TLS_AES_128_CCM_8.
                    let alert_len = self
                        .hs
                        .cipher
                        .and_then(bare_finished_len)
                        .map_or(TLS13_ENCRYPTED_ALERT_LEN, |(_, al)| al);
                    let alert = payload.len() == alert_len;
                    if alert {
                        self.push_alert(side, None, None, true, ts_us);
                    }
                    self.dir_mut(side).sent_encrypted = true;
                    self.dir_mut(side.other()).done = true;
                    let kept = self.retain(side, record);
                    // Anything but a bare Finished or an alert may be a
                    // client Certificate: keep the client's records until
                    // its Finished (the decryption needs them), unless
                    // nothing is being kept.
                    let bare = self
                        .hs
                        .cipher
                        .and_then(bare_finished_len)
                        .is_none_or(|(fin, al)| payload.len() == fin || payload.len() == al);
                    let psk = self.hs.server_hello.as_ref().is_some_and(|sh| sh.psk);
                    if alert || bare || psk || !kept || self.no_retain {
                        self.dir_mut(side).done = true;
                    } else {
                        self.client_retaining = true;
                        self.client_records = 1;
                    }
                } else {
                    let early_data =
                        side == client && self.hs.server_hello.is_none() && self.client_offers_13();
                    let d = self.dir_mut(side);
                    d.app_bytes = d.app_bytes.saturating_add(rec_len);
                    if !d.ccs && !is13 && !early_data {
                        // Application data with no cipher change seen: the
                        // handshake was missed or this is not a real session.
                        d.done = true;
                    }
                }
            }
            _ => {}
        }
    }

    fn push_alert(
        &mut self,
        side: Side,
        level: Option<u8>,
        description: Option<u8>,
        encrypted: bool,
        ts_us: i64,
    ) {
        if self.hs.alerts.len() >= MAX_ALERTS {
            self.anomaly(Anomaly::TooManyAlerts);
            return;
        }
        let server = self.client().other();
        let after_server_certificate =
            self.dir(server).sent_certificate || self.hs.server_flight_bytes > 0;
        self.hs.alerts.push(Alert {
            side,
            level,
            description,
            encrypted,
            after_server_certificate,
            ts_us,
        });
    }

    fn on_handshake_bytes(&mut self, side: Side, payload: &[u8]) {
        let mut pending = std::mem::take(&mut self.dir_mut(side).hs);
        // Most records hold whole messages: read them where they lie and
        // copy only a message cut by the record's end.
        if pending.is_empty() {
            let Some(used) = self.handshake_messages(side, payload) else {
                return;
            };
            let rest = payload.get(used..).unwrap_or_default();
            if !rest.is_empty() {
                self.dir_mut(side).hs = rest.to_vec();
            }
            return;
        }
        pending.extend_from_slice(payload);
        let Some(used) = self.handshake_messages(side, &pending) else {
            return;
        };
        pending.drain(..used.min(pending.len()));
        self.dir_mut(side).hs = pending;
    }

    /// Reads the whole handshake messages at the start of `hs`; returns how
    /// many bytes they took, or `None` once this side is done.
    fn handshake_messages(&mut self, side: Side, hs: &[u8]) -> Option<usize> {
        let mut pos = 0usize;
        loop {
            let rest = hs.get(pos..).unwrap_or(&[]);
            let (Some(&ty), Some(l)) = (rest.first(), rest.get(1..4)) else {
                return Some(pos);
            };
            let len = l.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            if len > MAX_HANDSHAKE_MSG_LEN {
                self.anomaly(Anomaly::HandshakeTooLarge);
                self.dir_mut(side).done = true;
                return None;
            }
            let end = 4usize.saturating_add(len);
            let Some(body) = rest.get(4..end) else {
                return Some(pos);
            };
            pos = pos.saturating_add(end);
            let d = self.dir_mut(side);
            d.hs_bytes = d.hs_bytes.saturating_add(end);
            if d.hs_bytes > MAX_HANDSHAKE_BYTES {
                self.anomaly(Anomaly::HandshakeCap);
                self.dir_mut(side).done = true;
                return None;
            }
            if side != self.client() && self.hs.server_hello.is_some() && ty != HT_SERVER_HELLO {
                self.hs.server_flight_bytes =
                    self.hs.server_flight_bytes.saturating_add(end as u64);
            }
            self.on_message(side, ty, body);
            if self.dir(side).done {
                return None;
            }
        }
    }

    fn on_message(&mut self, side: Side, ty: u8, body: &[u8]) {
        match ty {
            HT_CLIENT_HELLO => match parse_client_hello(body) {
                Some(ch) => self.on_client_hello(side, ch),
                None => self.anomaly(Anomaly::BadClientHello),
            },
            HT_SERVER_HELLO => match parse_server_hello(body) {
                Some(sh) => self.on_server_hello(side, sh),
                None => self.anomaly(Anomaly::BadServerHello),
            },
            HT_CERTIFICATE => self.on_certificate(side, body),
            HT_CERTIFICATE_REQUEST if side != self.client() => {
                self.hs.client_cert_requested = true;
            }
            _ => {}
        }
    }

    fn on_client_hello(&mut self, side: Side, ch: ClientHello) {
        self.tls_seen = true;
        if self.client_side.is_none() || self.hs.client_hello.is_none() {
            self.client_side = Some(side);
        }
        if ch.truncated_extensions {
            self.anomaly(Anomaly::MalformedExtensions);
        }
        if self.hs.client_hello.is_none() {
            let (full, h) = ja::ja3(&ch);
            self.hs.fingerprints.ja3_full = Some(full);
            self.hs.fingerprints.ja3 = Some(h);
            let (j4, j4r) = ja::ja4(&ch, false);
            self.hs.fingerprints.ja4 = Some(j4);
            self.hs.fingerprints.ja4_r = Some(j4r);
            self.hs.client_hello = Some(ch);
        } else if self.hs.client_hello2.is_none() && self.hs.server_hello.is_none() {
            // The answer to a HelloRetryRequest, even when the capture
            // missed the HelloRetryRequest itself.
            if !self.hs.hello_retry {
                self.anomaly(Anomaly::ClientHelloWithoutRetry);
            }
            self.hs.client_hello2 = Some(ch);
        } else {
            self.anomaly(Anomaly::ExtraClientHello);
        }
    }

    fn on_server_hello(&mut self, side: Side, sh: ServerHello) {
        self.tls_seen = true;
        if self.client_side.is_none() {
            self.client_side = Some(side.other());
        }
        if side == self.client() {
            self.anomaly(Anomaly::ServerHelloFromClient);
            return;
        }
        if sh.truncated_extensions {
            self.anomaly(Anomaly::MalformedExtensions);
        }
        if sh.is_hello_retry {
            if self.hs.hello_retry {
                self.anomaly(Anomaly::ExtraHelloRetry);
            }
            self.hs.hello_retry = true;
            // An HRR is a ServerHello whose supported_versions and
            // cipher_suite are already the server's choice (RFC 8446
            // §4.1.4): a connection that ends before the ServerHello still
            // tells them, as tshark shows them (JA3S included). The
            // ServerHello, when it comes, overwrites them.
            if self.hs.server_hello.is_none() {
                self.hs.version = Some(sh.version());
                self.hs.cipher = Some(sh.cipher);
                let (full, h) = ja::ja3s(&sh);
                self.hs.fingerprints.ja3s_full = Some(full);
                self.hs.fingerprints.ja3s = Some(h);
            }
            self.hs.hello_retry_request = Some(sh);
            return;
        }
        if self.hs.server_hello.is_some() {
            self.anomaly(Anomaly::ExtraServerHello);
            return;
        }
        self.hs.version = Some(sh.version());
        self.hs.cipher = Some(sh.cipher);
        let (full, h) = ja::ja3s(&sh);
        self.hs.fingerprints.ja3s_full = Some(full);
        self.hs.fingerprints.ja3s = Some(h);
        self.hs.server_hello = Some(sh);
    }

    /// Certificate message, TLS ≤ 1.2 layout (RFC 5246 §7.4.2), through
    /// tls-parser. A TLS 1.3 Certificate is never in clear.
    fn on_certificate(&mut self, side: Side, body: &[u8]) {
        self.dir_mut(side).sent_certificate = true;
        let chain: Vec<Vec<u8>> = match tls_parser::parse_tls_handshake_msg_certificate(body) {
            Ok((_, tls_parser::TlsMessageHandshake::Certificate(c))) => {
                if c.cert_chain.len() > MAX_CHAIN_LEN {
                    self.anomaly(Anomaly::ChainTooLong);
                }
                c.cert_chain
                    .iter()
                    .take(MAX_CHAIN_LEN)
                    .map(|r| r.data.to_vec())
                    .collect()
            }
            _ => {
                self.anomaly(Anomaly::BadCertificateMessage);
                return;
            }
        };
        let target = if side == self.client() {
            &mut self.hs.client_chain
        } else {
            &mut self.hs.server_chain
        };
        if target.is_empty() {
            *target = chain;
        } else {
            self.anomaly(Anomaly::ExtraCertificate);
        }
    }
}

/// The TLS stage reads TCP connections as the flow stage reassembles them.
impl crate::flow::StreamConsumer for Session {
    type Output = Handshake;

    fn feed(&mut self, side: Side, data: &[u8], ts_us: i64) {
        Session::feed(self, side, data, ts_us);
    }

    fn gap(&mut self, side: Side, lost: u64) {
        Session::gap(self, side, lost);
    }

    fn wants_bytes(&self, side: Side) -> bool {
        Session::wants_bytes(self, side)
    }

    fn skip(&mut self, side: Side, n: u64) {
        Session::skip(self, side, n);
    }

    fn finish(self) -> Option<(Handshake, Side)> {
        Session::finish(self).map(|h| {
            let client = h.client_side;
            (h, client)
        })
    }
}

/// What the TLS stage does once TCP connections have ended: decrypts each
/// TLS 1.3 flight with `keys` (recording the outcome in the record), and
/// drops the kept ciphertext whatever the outcome, since ended connections
/// wait in memory until their rows are written.
pub fn decrypt_ended(ended: &mut [FlowRecord<Handshake>], keys: &KeyLog) {
    for r in ended {
        if let Some(h) = r.handshake.as_mut() {
            let outcome = h.decrypt(keys);
            h.discard_encrypted_flight();
            r.decryption = (outcome != Decryption::NotApplicable).then_some(outcome.as_str());
        }
    }
}
