//! TLS 1.3 handshakes whose messages arrive without TLS records: QUIC
//! carries them in CRYPTO frames, one byte stream per encryption level and
//! direction (RFC 9001 §4.1.3).
//!
//! In: the reassembled Initial-level streams of both directions (the
//! ClientHello, a HelloRetryRequest, the ServerHello), and later the
//! decrypted Handshake-level streams (EncryptedExtensions, Certificate,
//! CertificateVerify, Finished). Out: the same [`Handshake`] a TCP
//! connection yields, with the JA4 transport character `q` when asked.
//!
//! The Initial streams are wrapped into handshake records and handed to a
//! [`Session`], so hellos, HelloRetryRequest, JA3/JA3S/JA4 and anomalies
//! follow exactly the TCP rules; the decrypted messages go through the same
//! functions the TLS 1.3 key-log decryption uses. Leaves out: anything after
//! each side's Finished (NewSessionTicket and application data are never
//! opened).

use super::{ja, Decryption, Handshake, Session, Side, Visibility, MAX_HANDSHAKE_MSG_LEN};
use crate::error::Anomaly;

/// HandshakeType values used here (RFC 8446 §4).
const HT_SERVER_HELLO: u8 = 2;
const HT_FINISHED: u8 = 20;

/// TLS record payload limit (RFC 8446 §5.1): messages are cut into records
/// of at most this many bytes before a [`Session`] sees them.
const RECORD_PAYLOAD: usize = 1 << 14;

/// Most messages taken from one stream: a real handshake has under ten.
const MAX_MESSAGES: usize = 64;

/// One handshake message: type and the whole message (4-byte header included).
struct Message<'a> {
    ty: u8,
    whole: &'a [u8],
}

impl Message<'_> {
    fn body(&self) -> &[u8] {
        self.whole.get(4..).unwrap_or(&[])
    }
}

/// Splits a handshake message stream into whole messages; the second value
/// is the incomplete tail (empty when the stream ends on a boundary).
fn split(stream: &[u8]) -> (Vec<Message<'_>>, &[u8]) {
    let mut out = Vec::new();
    let mut rest = stream;
    while out.len() < MAX_MESSAGES {
        let (Some(&ty), Some(l)) = (rest.first(), rest.get(1..4)) else {
            break;
        };
        let len = l.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b));
        if len > MAX_HANDSHAKE_MSG_LEN {
            break;
        }
        let end = 4usize.saturating_add(len);
        let Some(whole) = rest.get(..end) else {
            break;
        };
        out.push(Message { ty, whole });
        rest = rest.get(end..).unwrap_or(&[]);
    }
    (out, rest)
}

/// Feeds bytes of one side to the session as handshake records.
fn feed_records(s: &mut Session, side: Side, bytes: &[u8], ts_us: i64) {
    for chunk in bytes.chunks(RECORD_PAYLOAD) {
        let len = u16::try_from(chunk.len()).unwrap_or(u16::MAX).to_be_bytes();
        let mut rec = Vec::with_capacity(chunk.len().saturating_add(5));
        rec.extend_from_slice(&[22, 3, 3]);
        rec.extend_from_slice(&len);
        rec.extend_from_slice(chunk);
        s.feed(side, &rec, ts_us);
    }
}

fn is_hello_retry(m: &Message<'_>) -> bool {
    m.ty == HT_SERVER_HELLO && m.body().get(2..34) == Some(&super::hello::HRR_RANDOM[..])
}

/// The handshake of a connection whose Initial-level messages are `client`
/// (ClientHello, and a second one after a HelloRetryRequest) and `server`
/// (HelloRetryRequest, ServerHello), each the contiguous start of its
/// stream. `quic` selects the JA4 transport character `q`. `None` when no
/// hello could be read.
pub fn handshake_from_messages(
    client: &[u8],
    server: &[u8],
    ts_us: i64,
    quic: bool,
) -> Option<Handshake> {
    from_messages(client, server, ts_us, quic.then_some('q'))
}

/// The handshake of a DTLS connection (RFC 6347, RFC 9147) whose clear
/// handshake messages, already put back together from their fragments and
/// rewritten with TLS's 4-byte headers (the ClientHello without its
/// cookie), are `client` and `server` in message order. JA4 gets the `d`
/// transport character. `None` when no hello could be read.
pub fn handshake_from_dtls_messages(client: &[u8], server: &[u8], ts_us: i64) -> Option<Handshake> {
    from_messages(client, server, ts_us, Some('d'))
}

fn from_messages(
    client: &[u8],
    server: &[u8],
    ts_us: i64,
    ja4_prefix: Option<char>,
) -> Option<Handshake> {
    let mut s = Session::new();
    s.keep_encrypted_flight(false);
    let (cm, ctail) = split(client);
    let (sm, stail) = split(server);
    // The order a HelloRetryRequest imposes: the first ClientHello, the
    // server's messages up to its HelloRetryRequest, the client's second
    // ClientHello, the rest of the server's messages.
    let hrr_end = sm
        .iter()
        .position(is_hello_retry)
        .map_or(0, |i| i.saturating_add(1));
    let mut client_msgs = cm.iter();
    if let Some(first) = client_msgs.next() {
        feed_records(&mut s, Side::A, first.whole, ts_us);
    }
    for m in sm.iter().take(hrr_end) {
        feed_records(&mut s, Side::B, m.whole, ts_us);
    }
    for m in client_msgs {
        feed_records(&mut s, Side::A, m.whole, ts_us);
    }
    feed_records(&mut s, Side::A, ctail, ts_us);
    for m in sm.iter().skip(hrr_end) {
        feed_records(&mut s, Side::B, m.whole, ts_us);
    }
    feed_records(&mut s, Side::B, stail, ts_us);
    let mut h = s.finish()?;
    if let Some(prefix) = ja4_prefix {
        if let Some(ch) = &h.client_hello {
            let (j4, j4r) = ja::ja4_with_prefix(ch, prefix);
            h.fingerprints.ja4 = Some(j4);
            h.fingerprints.ja4_r = Some(j4r);
        }
    }
    Some(h)
}

/// Messages of a decrypted stream up to and including Finished, owned;
/// the flag says whether Finished was reached.
fn until_finished(stream: &[u8]) -> (Vec<(u8, Vec<u8>)>, bool) {
    let (msgs, _) = split(stream);
    let mut out = Vec::new();
    for m in msgs {
        out.push((m.ty, m.body().to_vec()));
        if m.ty == HT_FINISHED {
            return (out, true);
        }
    }
    (out, false)
}

impl Handshake {
    /// Takes the decrypted Handshake-level streams of a QUIC connection
    /// (RFC 9001 §4.1.3): the server's EncryptedExtensions, Certificate,
    /// CertificateVerify and Finished, and the client's Certificate (mutual
    /// TLS). Fills the chains as [`Handshake::decrypt`] does and returns
    /// [`Decryption::Decrypted`] when the server's certificate was read,
    /// [`Decryption::Failed`] (with an anomaly saying why) otherwise.
    pub fn apply_decrypted_streams(&mut self, server: &[u8], client: &[u8]) -> Decryption {
        let (msgs, finished) = until_finished(server);
        let (compressed, bad) = self.apply_server_messages(&msgs);
        if !finished {
            self.note(Anomaly::DecryptFlightIncomplete);
        }
        let (cmsgs, _) = until_finished(client);
        self.apply_client_messages(&cmsgs);
        // A QUIC server's alert ends the connection in a CONNECTION_CLOSE,
        // not in the decrypted stream.
        self.conclude_decryption(compressed, false, bad)
    }

    /// What the capture shows of the server's answer to an ECH offer
    /// (draft-ietf-tls-esni-22 §7); `None` when the ClientHello carried no
    /// encrypted_client_hello extension.
    ///
    /// - "accepted": the HelloRetryRequest carried the extension, which a
    ///   server sends only when it accepted ECH (§7.2.1).
    /// - "rejected": the decrypted EncryptedExtensions carried it: retry
    ///   configurations, sent only on rejection (§7.1).
    /// - "ignored": the outer handshake went on without ECH: TLS ≤ 1.2 was
    ///   negotiated, or a key log keyed by the outer ClientHello's random
    ///   opened the handshake and its EncryptedExtensions had no
    ///   retry configurations (a server that does not do ECH, or GREASE).
    /// - "unknown": anything else. Acceptance is otherwise signalled in the
    ///   last 8 bytes of ServerHello.random, a hash over the encrypted
    ///   ClientHelloInner, which no passive observer can check.
    pub fn ech_status(&self) -> Option<&'static str> {
        self.client_hello.as_ref()?.ech.as_ref()?;
        let ext = super::hello::EXT_ECH;
        if self
            .hello_retry_request
            .as_ref()
            .is_some_and(|h| h.extensions.contains(&ext))
        {
            return Some("accepted");
        }
        if self.encrypted_extensions.contains(&ext) {
            return Some("rejected");
        }
        let tls13 = |v: u16| v == 0x0304 || v == 0xfefc || (0x7f00..=0x7fff).contains(&v);
        if self.visibility == Visibility::Decrypted || self.version.is_some_and(|v| !tls13(v)) {
            return Some("ignored");
        }
        Some("unknown")
    }

    /// Records an anomaly code once (for front ends such as QUIC that
    /// decide about decryption themselves).
    pub fn add_anomaly(&mut self, code: Anomaly) {
        self.note(code);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A minimal TLS 1.3 ClientHello message (header included) with SNI
    /// "example.com" and ALPN "h3".
    fn client_hello() -> Vec<u8> {
        let mut exts = Vec::new();
        // server_name
        let name = b"example.com";
        let mut sni = vec![0u8; 0];
        sni.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
        sni.push(0);
        sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
        sni.extend_from_slice(name);
        exts.extend_from_slice(&[0, 0]);
        exts.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        exts.extend_from_slice(&sni);
        // ALPN h3
        exts.extend_from_slice(&[0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, b'h', b'3']);
        // supported_versions: TLS 1.3
        exts.extend_from_slice(&[0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04]);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7u8; 32]);
        body.push(0);
        body.extend_from_slice(&[0, 2, 0x13, 0x01]);
        body.extend_from_slice(&[1, 0]);
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
        let mut m = vec![1];
        m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend_from_slice(&body);
        m
    }

    fn server_hello(random: [u8; 32]) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend_from_slice(&random);
        body.push(0);
        body.extend_from_slice(&[0x13, 0x01, 0]);
        body.extend_from_slice(&[0, 6, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
        let mut m = vec![2];
        m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend_from_slice(&body);
        m
    }

    #[test]
    fn quic_hellos_give_q_fingerprint_and_encrypted_visibility() {
        let h = handshake_from_messages(&client_hello(), &server_hello([9; 32]), 1, true).unwrap();
        let ch = h.client_hello.as_ref().unwrap();
        assert_eq!(ch.sni.as_deref(), Some("example.com"));
        assert!(h
            .fingerprints
            .ja4
            .as_deref()
            .unwrap()
            .starts_with("q13d0103h3_"));
        assert_eq!(h.version, Some(0x0304));
        assert_eq!(h.visibility, Visibility::Encrypted);
        assert!(h.anomalies.is_empty(), "{:?}", h.anomalies);
    }

    #[test]
    fn hello_retry_then_second_client_hello_is_not_an_anomaly() {
        let mut client = client_hello();
        client.extend_from_slice(&client_hello());
        let mut server = server_hello(super::super::hello::HRR_RANDOM);
        server.extend_from_slice(&server_hello([9; 32]));
        let h = handshake_from_messages(&client, &server, 1, true).unwrap();
        assert!(h.hello_retry);
        assert!(h.client_hello2.is_some());
        assert!(h.server_hello.is_some());
        assert!(h.anomalies.is_empty(), "{:?}", h.anomalies);
    }

    #[test]
    fn truncated_streams_never_panic() {
        let mut client = client_hello();
        client.extend_from_slice(&server_hello([1; 32]));
        for n in 0..client.len() {
            let _ = handshake_from_messages(&client[..n], &client[..n / 2], 0, true);
            let mut h = Handshake::default();
            let _ = h.apply_decrypted_streams(&client[..n], &client[n..]);
        }
        assert!(handshake_from_messages(&[], &[], 0, true).is_none());
    }
}
