//! QUIC (RFC 9000, RFC 9001; version 2, RFC 9369; IETF drafts 22 to 34,
//! Facebook's mvfst versions and Google's T050/T051): UDP datagrams in capture
//! order in, one `FlowRecord` per QUIC connection out, with its TLS 1.3
//! handshake (transport "quic").
//!
//! Initial packets are protected with keys anyone can derive from the
//! client's first Destination Connection ID, so the ClientHello (SNI, ALPN,
//! JA3, JA4 with its `q` prefix) and the ServerHello (version, cipher,
//! JA3S) are read from every captured handshake; CRYPTO frames are put back
//! in order across packets and coalesced packets, so a ClientHello that
//! spans several Initials (post-quantum key shares) is whole. With the
//! handshake traffic secrets of a key log (or a pcapng Decryption Secrets
//! Block), Handshake packets are opened too and the certificates of both
//! sides recovered (`cert_visibility` "decrypted").
//!
//! A [`Shard`] owns the connections of the UDP 4-tuples that hash to it,
//! like the TCP flow shards. Left out: 0-RTT and 1-RTT payloads (counted,
//! never decrypted), connection migration (a connection is its 4-tuple),
//! Google QUIC Q0xx (not TLS), and draft versions before 22 (another
//! header layout and other salts). Google's TLS-based T050 and T051 are
//! read: IETF long headers, their own Initial salts, and gQUIC frames
//! (CRYPTO is type 0x08) inside.
//!
//! Bounded: live connections per shard ([`MAX_QUIC_CONNS_PER_SHARD`]),
//! CRYPTO reassembly per level and direction ([`MAX_QUIC_CRYPTO_BYTES`]),
//! kept Handshake packets per direction
//! ([`MAX_QUIC_HANDSHAKE_PACKET_BYTES`]), coalesced packets per datagram.
//! No input can make this module panic.
//!
//! [`MAX_QUIC_CONNS_PER_SHARD`]: crate::limits::MAX_QUIC_CONNS_PER_SHARD
//! [`MAX_QUIC_CRYPTO_BYTES`]: crate::limits::MAX_QUIC_CRYPTO_BYTES
//! [`MAX_QUIC_HANDSHAKE_PACKET_BYTES`]: crate::limits::MAX_QUIC_HANDSHAKE_PACKET_BYTES

mod conn;
pub mod crypto;
mod frames;
pub mod packet;
#[cfg(test)]
mod tests;

/// One UDP datagram (the flow stage's plain type, shared with DTLS).
pub use crate::flow::Datagram;

use crate::flow::DatagramShard;
use crate::tls::KeyLog;

/// Counters of one QUIC shard.
pub use crate::flow::DatagramStats as ShardStats;

/// The QUIC connections of one shard. Owned by one worker at a time.
pub type Shard = DatagramShard<conn::Conn>;

/// What QUIC adds to the generic datagram shard: the key log, which opens
/// the Handshake packets of every connection that ends.
impl Shard {
    /// Takes one UDP datagram; datagrams must arrive in capture order.
    /// `keys` decrypts the Handshake packets of connections this ends.
    pub fn push(&mut self, d: &Datagram<'_>, keys: &KeyLog) {
        self.push_with(d, keys);
    }

    /// Ends connections idle for longer than the timeout at capture time `now`.
    pub fn expire(&mut self, now: i64, keys: &KeyLog) {
        self.expire_with(now, keys);
    }

    /// Ends every live connection (end of the input set).
    pub fn finish_all(&mut self, keys: &KeyLog) {
        self.finish_all_with(keys);
    }
}
