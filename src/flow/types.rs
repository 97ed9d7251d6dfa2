//! The plain types of the flow stage: the canonical key of a connection,
//! its sides, where a packet was captured, the caps, the record a
//! connection ends as, and the two traits the stage is written against
//! ([`StreamConsumer`] for what reads TCP bytes, [`Activity`] for what a
//! table expires). No behaviour beyond a connection's deadline.

use std::net::{IpAddr, SocketAddr};

use crate::error::Anomaly;
use crate::hash::mix;
use crate::limits::{FLOW_CLOSE_DELAY_US, FLOW_IDLE_TIMEOUT_US, MAX_FLOWS_PER_SHARD};

/// What the table needs to know of a connection to expire it.
pub trait Activity {
    /// Capture time of the connection's last packet, µs.
    fn last_seen(&self) -> i64;

    /// Closed (TCP RST, or FIN from both ends): it ends after the close
    /// delay rather than the idle timeout.
    fn closed(&self) -> bool {
        false
    }
}

impl<T: Activity> Activity for Box<T> {
    fn last_seen(&self) -> i64 {
        T::last_seen(self)
    }

    fn closed(&self) -> bool {
        T::closed(self)
    }
}

/// Where and when a packet was captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stamp {
    /// Capture time, µs since the Unix epoch.
    pub ts_us: i64,
    /// Index of the capture file in the run.
    pub file: u32,
    /// Index of the frame in its file.
    pub frame: u64,
}

/// One endpoint of a connection, as the flow stage names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Side {
    /// The side that sent the SYN (or was seen first).
    #[default]
    A,
    /// The other side.
    B,
}

impl Side {
    /// The opposite side.
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// Reads the two byte streams of a TCP connection as [`super::Shard`] reassembles
/// them. One value per connection, made with `Default` when the connection
/// starts.
pub trait StreamConsumer: Default {
    /// What the consumer made of a connection whose protocol it recognised.
    type Output;

    /// The next in-order bytes of `side`, from a segment captured at `ts_us`.
    fn feed(&mut self, side: Side, data: &[u8], ts_us: i64);

    /// `lost` bytes of `side` are missing from the capture: the next bytes
    /// fed do not follow the last ones.
    fn gap(&mut self, side: Side, lost: u64);

    /// False once the consumer needs no more bytes of `side`; from then on
    /// the shard stops reassembling that direction and only reports how
    /// many bytes it carried, through [`StreamConsumer::skip`].
    fn wants_bytes(&self, side: Side) -> bool;

    /// `n` bytes of `side` that were not fed because the consumer wanted
    /// no more.
    fn skip(&mut self, side: Side, n: u64);

    /// The connection ended (closed, timed out, evicted, or the input
    /// ended): what the consumer made of it and the side that acted as
    /// client, or `None` when its protocol was not seen.
    fn finish(self) -> Option<(Self::Output, Side)>;
}

/// The 4-tuple with the lower endpoint first, so both directions share it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    lo: SocketAddr,
    hi: SocketAddr,
}

impl FlowKey {
    /// The canonical key of a packet from `src` to `dst`.
    pub fn new(src: SocketAddr, dst: SocketAddr) -> FlowKey {
        if src <= dst {
            FlowKey { lo: src, hi: dst }
        } else {
            FlowKey { lo: dst, hi: src }
        }
    }

    /// A well-mixed hash for picking a shard; the same in both directions.
    pub fn shard_hash(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for addr in [self.lo, self.hi] {
            match addr.ip() {
                IpAddr::V4(ip) => h = mix(h, u64::from(u32::from(ip))),
                IpAddr::V6(ip) => {
                    let v = u128::from(ip);
                    h = mix(h, v as u64);
                    h = mix(h, (v >> 64) as u64);
                }
            }
            h = mix(h, u64::from(addr.port()));
        }
        h
    }
}

/// A finished connection, owned, ready for the tables. `H` is what the
/// connection's content stage made of it (a TLS handshake).
#[derive(Debug)]
pub struct FlowRecord<H> {
    /// The client (the SYN sender when the content stage saw nothing).
    pub client: SocketAddr,
    /// The server.
    pub server: SocketAddr,
    /// File index of the first packet.
    pub file: u32,
    /// Frame index of the first packet in that file.
    pub first_frame: u64,
    /// Time of the first packet, µs.
    pub ts_start: i64,
    /// Time of the last packet, µs.
    pub ts_end: i64,
    /// Packets in both directions.
    pub packets: u64,
    /// Payload bytes client to server (retransmissions included).
    pub client_bytes: u64,
    /// Payload bytes server to client.
    pub server_bytes: u64,
    /// IP TTL of the client's first packet.
    pub client_ttl: Option<u8>,
    /// IP TTL of the server's first packet.
    pub server_ttl: Option<u8>,
    /// True when the connection's SYN was captured.
    pub syn_seen: bool,
    /// What the content stage made of the connection, when it recognised
    /// its protocol.
    pub handshake: Option<H>,
    /// What became of decrypting the content with a key log ("decrypted",
    /// "no_keys", "wrong_key", "failed"), filled by the content stage after
    /// the connection ended; `None` when not tried.
    pub decryption: Option<&'static str>,
    /// Transport anomalies (reassembly, eviction).
    pub anomalies: Vec<Anomaly>,
    /// "tcp", "quic" or "dtls".
    pub transport: &'static str,
}

/// One end of a finished connection, as its record shows it.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// Its address.
    pub addr: SocketAddr,
    /// Packets it sent.
    pub packets: u64,
    /// Payload bytes it sent.
    pub bytes: u64,
    /// IP TTL of its first packet.
    pub ttl: Option<u8>,
}

impl<H> FlowRecord<H> {
    /// The record of a connection over `transport` between `client` and
    /// `server`, whose first packet was captured at `first` and last one at
    /// `ts_end`; no SYN, handshake, decryption or anomaly yet.
    pub fn new(
        transport: &'static str,
        first: Stamp,
        ts_end: i64,
        client: Endpoint,
        server: Endpoint,
    ) -> FlowRecord<H> {
        FlowRecord {
            client: client.addr,
            server: server.addr,
            file: first.file,
            first_frame: first.frame,
            ts_start: first.ts_us,
            ts_end,
            packets: client.packets + server.packets,
            client_bytes: client.bytes,
            server_bytes: server.bytes,
            client_ttl: client.ttl,
            server_ttl: server.ttl,
            syn_seen: false,
            handshake: None,
            decryption: None,
            anomalies: Vec::new(),
            transport,
        }
    }

    /// The record of a connection a full table gave up (anomaly
    /// `flow_evicted`).
    pub fn into_evicted(mut self) -> FlowRecord<H> {
        self.anomalies.push(Anomaly::FlowEvicted);
        self
    }
}

/// Caps a shard applies; defaults from `limits.rs`, set from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowLimits {
    /// A connection idle this long (capture time) is finished.
    pub idle_timeout_us: i64,
    /// A closed connection (RST, or FIN both ways) silent this long is
    /// finished (never later than the idle timeout).
    pub close_delay_us: i64,
    /// Live connections per shard; past it the least recently active eighth
    /// is finished early (anomaly `flow_evicted`).
    pub max_flows_per_shard: usize,
}

impl Default for FlowLimits {
    fn default() -> Self {
        FlowLimits {
            idle_timeout_us: FLOW_IDLE_TIMEOUT_US,
            close_delay_us: FLOW_CLOSE_DELAY_US,
            max_flows_per_shard: MAX_FLOWS_PER_SHARD,
        }
    }
}

impl FlowLimits {
    /// When a connection ends if nothing more arrives: its last packet plus
    /// the idle timeout, or plus the close delay once it was closed.
    pub fn deadline(&self, last_seen: i64, closed: bool) -> i64 {
        let wait = if closed {
            self.close_delay_us.min(self.idle_timeout_us)
        } else {
            self.idle_timeout_us
        };
        last_seen.saturating_add(wait)
    }

    /// Whether `conn` had ended by capture time `ts`.
    pub fn is_idle<C: Activity>(&self, conn: &C, ts: i64) -> bool {
        ts > self.deadline(conn.last_seen(), conn.closed())
    }
}

/// Counters of one shard of datagram connections (QUIC, DTLS).
#[derive(Debug, Default, Clone, Copy)]
pub struct DatagramStats {
    /// Datagrams seen.
    pub datagrams: u64,
    /// Connections started.
    pub connections: u64,
    /// Connections ended early because the shard was full.
    pub evicted: u64,
    /// Connections ended by idle timeout.
    pub timed_out: u64,
}
