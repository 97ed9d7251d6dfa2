//! Putting DTLS handshake messages back together from their fragments
//! (RFC 6347 §4.2.3, RFC 9147 §5.5), one sender at a time.
//!
//! In: fragments (message_seq, type, length, offset, bytes) in capture
//! order. Out: the messages, whole or not, in the order their first
//! fragment arrived. A message is known by (message_seq, type, length): a
//! retransmission of it adds nothing, a fragment that repeats received
//! bytes with other values is a conflict (the first bytes are kept, as the
//! receiver would have), and a second ClientHello with the same sequence
//! number but another length (a stateless server's cookie exchange) is
//! another message. Bounded: messages per sender, bytes per message, bytes
//! per sender, received ranges per message.

use crate::limits::{MAX_DTLS_HANDSHAKE_BYTES, MAX_DTLS_MESSAGES};
use crate::tls::MAX_HANDSHAKE_MSG_LEN;

/// Most disjoint received ranges tracked per message: each fragment adds at
/// most one, so a sender has to cut a message into this many pieces, with
/// holes between them, to reach it.
const MAX_RANGES: usize = 64;

/// One handshake message being reassembled.
#[derive(Debug)]
pub struct Message {
    /// message_seq.
    pub seq: u16,
    /// HandshakeType.
    pub ty: u8,
    /// The message body (its declared length).
    pub body: Vec<u8>,
    /// Received byte ranges, sorted, disjoint and not touching.
    have: Vec<(usize, usize)>,
    /// Arrival rank of its first fragment among all messages of the
    /// connection (both senders), for ordering across senders.
    pub order: u32,
}

impl Message {
    /// Every byte was received.
    pub fn complete(&self) -> bool {
        match self.have.as_slice() {
            [] => self.body.is_empty(),
            [(0, end)] => *end == self.body.len(),
            _ => false,
        }
    }

    /// How many bytes of `data` at `offset` were received before, and
    /// whether any of them differ from what was received.
    fn overlap(&self, offset: usize, data: &[u8]) -> (usize, bool) {
        let end = offset.saturating_add(data.len());
        let mut conflict = false;
        let mut covered = 0usize;
        for &(s, e) in &self.have {
            let (lo, hi) = (s.max(offset), e.min(end));
            if lo < hi {
                covered = covered.saturating_add(hi - lo);
                let old = self.body.get(lo..hi);
                let new = data.get(lo - offset..hi - offset);
                conflict |= old != new;
            }
        }
        (covered, conflict)
    }

    /// The ranges of `offset..end` not received yet.
    fn missing(&self, offset: usize, end: usize) -> Vec<(usize, usize)> {
        let mut at = offset;
        let mut gaps = Vec::new();
        for &(s, e) in &self.have {
            if e <= at {
                continue;
            }
            if s >= end {
                break;
            }
            if s > at {
                gaps.push((at, s));
            }
            at = at.max(e);
        }
        if at < end {
            gaps.push((at, end));
        }
        gaps
    }

    /// Writes the bytes of `data` at `offset` that were not received
    /// before (the first bytes win) and records the range as received.
    fn write(&mut self, offset: usize, data: &[u8]) {
        let end = offset.saturating_add(data.len());
        for (s, e) in self.missing(offset, end) {
            if let (Some(dst), Some(src)) =
                (self.body.get_mut(s..e), data.get(s - offset..e - offset))
            {
                dst.copy_from_slice(src);
            }
        }
        self.have.push((offset, end));
        self.have.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.have.len());
        for &(s, e) in &self.have {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.have = merged;
    }
}

/// What a fragment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Added bytes to a message (a new one, or one in progress).
    Added,
    /// Repeated bytes already received: a retransmission.
    Duplicate,
    /// Repeated received bytes with other values; the first are kept.
    Conflict,
    /// Dropped at a cap.
    Capped,
}

/// The messages of one sender.
#[derive(Debug, Default)]
pub struct Reassembly {
    /// Messages in the order their first fragment arrived.
    pub messages: Vec<Message>,
    bytes: usize,
}

impl Reassembly {
    /// Takes one fragment; `order` ranks a new message.
    pub fn insert(
        &mut self,
        seq: u16,
        ty: u8,
        length: u32,
        offset: u32,
        data: &[u8],
        order: u32,
    ) -> Outcome {
        let (Ok(length), Ok(offset)) = (usize::try_from(length), usize::try_from(offset)) else {
            return Outcome::Capped;
        };
        if offset
            .checked_add(data.len())
            .is_none_or(|end| end > length)
        {
            return Outcome::Capped;
        }
        let Some(m) = self.message(seq, ty, length, order) else {
            return Outcome::Capped;
        };
        if data.is_empty() {
            return if m.complete() || !m.have.is_empty() {
                Outcome::Duplicate
            } else {
                Outcome::Added
            };
        }
        let (covered, conflict) = m.overlap(offset, data);
        if covered == data.len() {
            return if conflict {
                Outcome::Conflict
            } else {
                Outcome::Duplicate
            };
        }
        if m.have.len() >= MAX_RANGES {
            return Outcome::Capped;
        }
        m.write(offset, data);
        if conflict {
            Outcome::Conflict
        } else {
            Outcome::Added
        }
    }

    /// The message known by (`seq`, `ty`, `length`), started (ranked
    /// `order`) if it is new and the caps leave room for it.
    fn message(&mut self, seq: u16, ty: u8, length: usize, order: u32) -> Option<&mut Message> {
        let found = self
            .messages
            .iter()
            .position(|m| m.seq == seq && m.ty == ty && m.body.len() == length);
        let i = match found {
            Some(i) => i,
            None => {
                if self.messages.len() >= MAX_DTLS_MESSAGES
                    || length > MAX_HANDSHAKE_MSG_LEN
                    || self.bytes.saturating_add(length) > MAX_DTLS_HANDSHAKE_BYTES
                {
                    return None;
                }
                self.bytes = self.bytes.saturating_add(length);
                self.messages.push(Message {
                    seq,
                    ty,
                    body: vec![0; length],
                    have: Vec::new(),
                    order,
                });
                self.messages.len() - 1
            }
        };
        self.messages.get_mut(i)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn out_of_order_fragments_and_retransmissions_make_one_message() {
        let msg: Vec<u8> = (0..100u8).collect();
        let mut r = Reassembly::default();
        assert_eq!(r.insert(0, 11, 100, 60, &msg[60..], 0), Outcome::Added);
        assert_eq!(r.insert(0, 11, 100, 0, &msg[..30], 1), Outcome::Added);
        assert!(!r.messages[0].complete());
        assert_eq!(r.insert(0, 11, 100, 0, &msg[..30], 2), Outcome::Duplicate);
        assert_eq!(r.insert(0, 11, 100, 20, &msg[20..70], 3), Outcome::Added);
        assert_eq!(r.messages.len(), 1);
        assert!(r.messages[0].complete());
        assert_eq!(r.messages[0].body, msg);
        assert_eq!(r.messages[0].order, 0);
        assert_eq!(r.insert(0, 11, 100, 0, &msg, 4), Outcome::Duplicate);
    }

    #[test]
    fn conflicting_bytes_keep_the_first() {
        let mut r = Reassembly::default();
        r.insert(1, 1, 4, 0, &[1, 2, 3, 4], 0);
        assert_eq!(r.insert(1, 1, 4, 0, &[1, 9, 3, 4], 1), Outcome::Conflict);
        assert_eq!(r.messages[0].body, vec![1, 2, 3, 4]);
        // Another length under the same sequence number is another message.
        assert_eq!(r.insert(1, 1, 6, 0, &[0; 6], 2), Outcome::Added);
        assert_eq!(r.messages.len(), 2);
    }

    #[test]
    fn caps_hold() {
        let mut r = Reassembly::default();
        assert_eq!(
            r.insert(0, 1, (MAX_HANDSHAKE_MSG_LEN + 1) as u32, 0, &[], 0),
            Outcome::Capped
        );
        assert_eq!(r.insert(0, 1, 4, 2, &[1, 2, 3], 0), Outcome::Capped);
        for i in 0..(MAX_DTLS_MESSAGES + 4) {
            r.insert(i as u16, 1, 1, 0, &[1], 0);
        }
        assert_eq!(r.messages.len(), MAX_DTLS_MESSAGES);
        // Every other byte of a long message: ranges stop at the cap.
        let mut r = Reassembly::default();
        for k in 0..200u32 {
            r.insert(0, 11, 1000, k * 2, &[7], 0);
        }
        assert!(r.messages[0].have.len() <= MAX_RANGES);
    }
}
