//! The record walk: finds record and block boundaries in a pcap or pcapng byte
//! stream and turns each packet record into a `FrameRef`. It sees one buffer at
//! a time (the whole mapped file, or the rolling buffer of a decompressor) and
//! says when it needs more bytes; it touches headers only, never payloads.
//! pcap-parser parses each record or block once its exact extent is known, so
//! a hostile length field never makes it reach past the record.
//!
//! Left out: the big-endian "modified" (Kuznetzov) pcap format (its
//! little-endian form is read), pcapng Custom, Name Resolution and
//! Statistics blocks (skipped), per-packet options.

use pcap_parser::pcapng::{
    Block, DecryptionSecretsBlock, EnhancedPacketBlock, InterfaceDescriptionBlock,
    SimplePacketBlock,
};
use pcap_parser::{
    parse_block_be, parse_block_le, parse_pcap_frame, parse_pcap_frame_be,
    parse_pcap_frame_modified,
};

use super::{DecryptionSecret, FrameRef};
use crate::limits::{MAX_BLOCK_BYTES, MAX_DECRYPTION_SECRETS_BYTES, MAX_RECORD_BYTES};

/// pcapng Section Header Block type (the same in both byte orders).
const SHB_TYPE: u32 = 0x0A0D_0D0A;
/// pcapng byte-order magic, read little-endian.
const BOM: u32 = 0x1A2B_3C4D;
const IDB_TYPE: u32 = 1;
const OBSOLETE_PB_TYPE: u32 = 2;
const SPB_TYPE: u32 = 3;
const EPB_TYPE: u32 = 6;
const DSB_TYPE: u32 = 0x0A;
const PCAP_HEADER_LEN: usize = 24;
const PCAP_RECORD_HEADER_LEN: usize = 16;
/// The "modified" format's record header: 8 more bytes.
const PCAP_MODIFIED_RECORD_HEADER_LEN: usize = 24;

/// What one step of the walk found at the current position.
#[derive(Debug)]
pub(crate) enum Step {
    /// A packet record of `usize` bytes; `FrameRef::start` is relative to the
    /// buffer given to `step`.
    Frame(FrameRef, usize),
    /// A header or non-packet block of this many bytes.
    Skip(usize),
    /// The record is not wholly in the buffer and more input may come.
    NeedMore,
    /// Clean end of the stream.
    End,
    /// The record at the current position is damaged.
    Damage(String),
}

/// One pcapng interface: its link type and clock.
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    /// Timestamp units per second (10^n or 2^n).
    units_per_sec: u64,
    /// Seconds added to every timestamp (`if_tsoffset`).
    offset_s: i64,
}

#[derive(Debug)]
enum State {
    /// Before the 24-byte pcap file header.
    PcapStart,
    Pcap {
        big_endian: bool,
        nanos: bool,
        modified: bool,
        linktype: u32,
    },
    /// pcapng; `big_endian` is `None` before the first section header.
    Pcapng {
        big_endian: Option<bool>,
        interfaces: Vec<Interface>,
        last_ts_us: i64,
    },
}

/// Walk state that survives between buffers: the format, the current pcapng
/// section's byte order and interfaces, the last timestamp.
#[derive(Debug)]
pub(crate) struct Walker {
    state: State,
    secrets: Vec<DecryptionSecret>,
    secrets_bytes: usize,
}

impl Walker {
    /// A walker for a pcap stream (`pcapng == false`) or a pcapng stream,
    /// positioned before the file header.
    pub(crate) fn new(pcapng: bool) -> Walker {
        let state = if pcapng {
            State::Pcapng {
                big_endian: None,
                interfaces: Vec::new(),
                last_ts_us: 0,
            }
        } else {
            State::PcapStart
        };
        Walker {
            state,
            secrets: Vec::new(),
            secrets_bytes: 0,
        }
    }

    /// Decryption Secrets Blocks seen so far.
    pub(crate) fn secrets(&self) -> &[DecryptionSecret] {
        &self.secrets
    }

    /// Looks at `buf[pos..]`; `eof` says no byte follows `buf`, `base` is the
    /// stream offset of `buf[0]`.
    pub(crate) fn step(&mut self, buf: &[u8], pos: usize, eof: bool, base: u64) -> Step {
        let rest = buf.get(pos..).unwrap_or_default();
        let offset = base.saturating_add(pos as u64);
        match &mut self.state {
            State::PcapStart => {
                if rest.len() < PCAP_HEADER_LEN {
                    return if eof {
                        Step::Damage(format!(
                            "file header holds {} bytes, pcap needs {PCAP_HEADER_LEN}",
                            rest.len()
                        ))
                    } else {
                        Step::NeedMore
                    };
                }
                match pcap_parser::parse_pcap_header(rest) {
                    Ok((_, h)) if !(h.is_modified_format() && h.is_bigendian()) => {
                        // Bits 16-31 of the link type field carry FCS
                        // information, not the link type.
                        let linktype = u32::from_ne_bytes(h.network.0.to_ne_bytes()) & 0xFFFF;
                        self.state = State::Pcap {
                            big_endian: h.is_bigendian(),
                            nanos: h.is_nanosecond_precision(),
                            modified: h.is_modified_format(),
                            linktype,
                        };
                        Step::Skip(PCAP_HEADER_LEN)
                    }
                    _ => Step::Damage("unsupported pcap file header".to_string()),
                }
            }
            State::Pcap {
                big_endian,
                nanos,
                modified,
                linktype,
            } => {
                let layout = RecordLayout {
                    big_endian: *big_endian,
                    nanos: *nanos,
                    modified: *modified,
                };
                pcap_record(rest, eof, offset, layout, *linktype, pos)
            }
            State::Pcapng { .. } => self.pcapng_block(rest, eof, offset, pos),
        }
    }

    fn pcapng_block(&mut self, rest: &[u8], eof: bool, offset: u64, pos: usize) -> Step {
        let State::Pcapng {
            big_endian,
            interfaces,
            last_ts_us,
        } = &mut self.state
        else {
            return Step::Damage("internal: not a pcapng walk".to_string());
        };
        if rest.is_empty() && eof {
            return Step::End;
        }
        let (block, be, block_type) = match pcapng_extent(rest, eof, *big_endian) {
            Ok(found) => found,
            Err(step) => return step,
        };
        let len = block.len();
        let parsed = if be {
            parse_block_be(block)
        } else {
            parse_block_le(block)
        };
        let damaged = |what: &str| Step::Damage(format!("{what} block does not parse"));
        match block_type {
            SHB_TYPE => match parsed {
                Ok((_, Block::SectionHeader(shb))) => {
                    *big_endian = Some(shb.big_endian());
                    interfaces.clear();
                    Step::Skip(len)
                }
                _ => damaged("section header"),
            },
            IDB_TYPE => match parsed {
                Ok((_, Block::InterfaceDescription(idb))) => {
                    interfaces.push(interface(&idb, be));
                    Step::Skip(len)
                }
                _ => damaged("interface description"),
            },
            EPB_TYPE => match parsed {
                Ok((_, Block::EnhancedPacket(epb))) => match enhanced_fields(&epb, len) {
                    Ok(p) => timed_packet(&p, interfaces, last_ts_us, offset, pos, len),
                    Err(damage) => damage,
                },
                _ => damaged("enhanced packet"),
            },
            SPB_TYPE => match parsed {
                Ok((_, Block::SimplePacket(spb))) => {
                    simple_packet(&spb, interfaces, *last_ts_us, offset, pos, len)
                }
                _ => damaged("simple packet"),
            },
            OBSOLETE_PB_TYPE => match obsolete_fields(block, be) {
                Ok(p) => timed_packet(&p, interfaces, last_ts_us, offset, pos, len),
                Err(damage) => damage,
            },
            DSB_TYPE => {
                if let Ok((_, Block::DecryptionSecrets(dsb))) = parsed {
                    self.keep_secrets(&dsb);
                }
                Step::Skip(len)
            }
            _ => Step::Skip(len),
        }
    }

    /// Keeps a Decryption Secrets Block's secrets, up to
    /// [`MAX_DECRYPTION_SECRETS_BYTES`] over the walk.
    fn keep_secrets(&mut self, dsb: &DecryptionSecretsBlock<'_>) {
        // The parsed data keeps its padding to 4 bytes.
        let data = usize::try_from(dsb.secrets_len)
            .ok()
            .and_then(|n| dsb.data.get(..n))
            .unwrap_or(dsb.data);
        let keep = self.secrets_bytes.saturating_add(data.len());
        if keep <= MAX_DECRYPTION_SECRETS_BYTES {
            self.secrets_bytes = keep;
            self.secrets.push(DecryptionSecret {
                secrets_type: dsb.secrets_type.0,
                data: data.to_vec(),
            });
        }
    }
}

/// The pcapng block at the start of `rest`, its byte order and its type,
/// once its header and trailing length agree; or the step to take instead
/// (more input, or the damage). `big_endian` is the current section's byte
/// order, none before the first section header (pcapng §4.1).
fn pcapng_extent(
    rest: &[u8],
    eof: bool,
    big_endian: Option<bool>,
) -> Result<(&[u8], bool, u32), Step> {
    let more_or = |damage: String| {
        if eof {
            Step::Damage(damage)
        } else {
            Step::NeedMore
        }
    };
    if rest.len() < 12 {
        return Err(more_or(format!(
            "block header cut after {} bytes",
            rest.len()
        )));
    }
    let raw_type = read_u32(rest, 0, false).unwrap_or(0);
    let be = if raw_type == SHB_TYPE {
        match read_u32(rest, 8, false) {
            Some(BOM) => false,
            Some(m) if m.swap_bytes() == BOM => true,
            _ => {
                return Err(Step::Damage(
                    "section header with a bad byte-order magic".to_string(),
                ))
            }
        }
    } else {
        big_endian.ok_or_else(|| {
            Step::Damage("pcapng stream does not start with a section header".to_string())
        })?
    };
    let block_type = read_u32(rest, 0, be).unwrap_or(0);
    let len32 = read_u32(rest, 4, be).unwrap_or(0);
    let len = usize::try_from(len32).unwrap_or(usize::MAX);
    if len < 12 || len & 3 != 0 {
        return Err(Step::Damage(format!(
            "block of type {block_type:#x} claims {len32} bytes, not a multiple of 4 of at least 12"
        )));
    }
    if len > MAX_BLOCK_BYTES {
        return Err(Step::Damage(format!(
            "block of type {block_type:#x} claims {len32} bytes, over the {MAX_BLOCK_BYTES}-byte limit"
        )));
    }
    let Some(block) = rest.get(..len) else {
        return Err(more_or(format!(
            "block of type {block_type:#x} claims {len32} bytes, {} remain in the stream",
            rest.len()
        )));
    };
    if read_u32(block, len - 4, be) != Some(len32) {
        return Err(Step::Damage(format!(
            "block of type {block_type:#x}: trailing length differs from leading length {len32}"
        )));
    }
    Ok((block, be, block_type))
}

/// An Interface Description Block's link type and clock.
fn interface(idb: &InterfaceDescriptionBlock<'_>, be: bool) -> Interface {
    let units_per_sec = ts_units_per_sec(idb.if_tsresol).unwrap_or(1_000_000);
    // pcap-parser 0.17 reads if_tsoffset little-endian in every section.
    let offset_s = if be {
        idb.if_tsoffset.swap_bytes()
    } else {
        idb.if_tsoffset
    };
    Interface {
        linktype: u32::try_from(idb.linktype.0).unwrap_or(0),
        units_per_sec,
        offset_s,
    }
}

/// A Simple Packet Block: the first interface's packet, without a time of
/// its own (it takes the last one seen), cut to its original length.
fn simple_packet(
    spb: &SimplePacketBlock<'_>,
    interfaces: &[Interface],
    last_ts_us: i64,
    offset: u64,
    pos: usize,
    len: usize,
) -> Step {
    let Some(iface) = interfaces.first() else {
        return Step::Damage("simple packet block before any interface".to_string());
    };
    let caplen = spb
        .data
        .len()
        .min(usize::try_from(spb.origlen).unwrap_or(usize::MAX));
    Step::Frame(
        FrameRef {
            ts_us: last_ts_us,
            linktype: iface.linktype,
            start: pos.saturating_add(12),
            len: caplen,
            orig_len: spb.origlen,
            offset,
            interface: 0,
        },
        len,
    )
}

/// How a classic pcap file lays out its records.
#[derive(Debug, Clone, Copy)]
struct RecordLayout {
    big_endian: bool,
    nanos: bool,
    /// Kuznetzov's "modified" format: 24-byte record headers.
    modified: bool,
}

fn pcap_record(
    rest: &[u8],
    eof: bool,
    offset: u64,
    layout: RecordLayout,
    linktype: u32,
    pos: usize,
) -> Step {
    let RecordLayout {
        big_endian,
        nanos,
        modified,
    } = layout;
    let header_len = if modified {
        PCAP_MODIFIED_RECORD_HEADER_LEN
    } else {
        PCAP_RECORD_HEADER_LEN
    };
    if rest.is_empty() && eof {
        return Step::End;
    }
    if rest.len() < header_len {
        return if eof {
            Step::Damage(format!("record header cut after {} bytes", rest.len()))
        } else {
            Step::NeedMore
        };
    }
    let caplen32 = read_u32(rest, 8, big_endian).unwrap_or(u32::MAX);
    let caplen = usize::try_from(caplen32).unwrap_or(usize::MAX);
    if caplen > MAX_RECORD_BYTES {
        return Step::Damage(format!(
            "record claims {caplen32} captured bytes, over the {MAX_RECORD_BYTES}-byte limit"
        ));
    }
    let total = header_len + caplen;
    let Some(record) = rest.get(..total) else {
        return if eof {
            Step::Damage(format!(
                "record claims {caplen32} captured bytes, {} remain in the file",
                rest.len() - header_len
            ))
        } else {
            Step::NeedMore
        };
    };
    let parsed = if modified {
        parse_pcap_frame_modified(record)
    } else if big_endian {
        parse_pcap_frame_be(record)
    } else {
        parse_pcap_frame(record)
    };
    let Ok((_, frame)) = parsed else {
        return Step::Damage("record does not parse".to_string());
    };
    let sec = i64::from(frame.ts_sec);
    let frac = if nanos {
        i64::from(frame.ts_usec) / 1000
    } else {
        i64::from(frame.ts_usec)
    };
    let ts_us = sec.saturating_mul(1_000_000).saturating_add(frac);
    Step::Frame(
        FrameRef {
            ts_us,
            linktype,
            start: pos.saturating_add(header_len),
            len: frame.data.len(),
            orig_len: frame.origlen,
            offset,
            interface: 0,
        },
        total,
    )
}

/// What an Enhanced Packet Block says of its packet, once its captured
/// length fits the block.
fn enhanced_fields(epb: &EnhancedPacketBlock<'_>, len: usize) -> Result<PacketFields, Step> {
    let caplen = usize::try_from(epb.caplen).unwrap_or(usize::MAX);
    if caplen > MAX_RECORD_BYTES || caplen > epb.data.len() {
        return Err(Step::Damage(format!(
            "enhanced packet block claims {} captured bytes in a {len}-byte block",
            epb.caplen
        )));
    }
    Ok(PacketFields {
        if_id: epb.if_id,
        ts_high: epb.ts_high,
        ts_low: epb.ts_low,
        caplen,
        orig_len: epb.origlen,
    })
}

/// The obsolete Packet Block (type 2, pcapng draft section 4.6 of older
/// revisions): interface id u16, drops u16, timestamp high and low, caplen,
/// origlen, data. pcap-parser returns it as an unknown block, so it is read
/// here.
fn obsolete_fields(block: &[u8], be: bool) -> Result<PacketFields, Step> {
    let len = block.len();
    let fields = (
        read_u16(block, 8, be),
        read_u32(block, 12, be),
        read_u32(block, 16, be),
        read_u32(block, 20, be),
        read_u32(block, 24, be),
    );
    let (Some(if_id), Some(ts_high), Some(ts_low), Some(caplen32), Some(orig_len)) = fields else {
        return Err(Step::Damage(format!(
            "packet block of {len} bytes, less than its header"
        )));
    };
    let caplen = usize::try_from(caplen32).unwrap_or(usize::MAX);
    if caplen > MAX_RECORD_BYTES || caplen > len.saturating_sub(32) {
        return Err(Step::Damage(format!(
            "packet block claims {caplen32} captured bytes in a {len}-byte block"
        )));
    }
    Ok(PacketFields {
        if_id: u32::from(if_id),
        ts_high,
        ts_low,
        caplen,
        orig_len,
    })
}

/// What an enhanced or obsolete packet block says of its packet.
struct PacketFields {
    if_id: u32,
    ts_high: u32,
    ts_low: u32,
    /// Captured bytes, already checked against the block.
    caplen: usize,
    orig_len: u32,
}

/// The frame of a packet block with its own interface and time, which
/// becomes the time of the simple packet blocks after it.
fn timed_packet(
    p: &PacketFields,
    interfaces: &[Interface],
    last_ts_us: &mut i64,
    offset: u64,
    pos: usize,
    len: usize,
) -> Step {
    let Some(iface) = usize::try_from(p.if_id)
        .ok()
        .and_then(|i| interfaces.get(i))
    else {
        return Step::Damage(format!(
            "packet names interface {}, the section has {}",
            p.if_id,
            interfaces.len()
        ));
    };
    let ts_us = pcapng_ts_us(p.ts_high, p.ts_low, iface);
    *last_ts_us = ts_us;
    Step::Frame(
        FrameRef {
            ts_us,
            linktype: iface.linktype,
            start: pos.saturating_add(28),
            len: p.caplen,
            orig_len: p.orig_len,
            offset,
            interface: p.if_id,
        },
        len,
    )
}

/// Units per second for an `if_tsresol` value: 10^n, or 2^n when the high bit
/// is set (RFC draft-ietf-opsawg-pcapng section 4.2). pcap-parser's own
/// helper rejects every power-of-two resolution, hence this one.
fn ts_units_per_sec(resol: u8) -> Option<u64> {
    let n = u32::from(resol & 0x7F);
    if resol & 0x80 == 0 {
        10u64.checked_pow(n)
    } else {
        1u64.checked_shl(n).filter(|_| n < 64)
    }
}

/// Microseconds since the epoch, floored, saturating.
fn pcapng_ts_us(high: u32, low: u32, iface: &Interface) -> i64 {
    let units = (u128::from(high) << 32) | u128::from(low);
    let per_sec = u128::from(iface.units_per_sec.max(1));
    let us = units.saturating_mul(1_000_000) / per_sec;
    let us = i64::try_from(us).unwrap_or(i64::MAX);
    us.saturating_add(iface.offset_s.saturating_mul(1_000_000))
}

fn read_u32(b: &[u8], at: usize, be: bool) -> Option<u32> {
    let bytes: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if be {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    })
}

fn read_u16(b: &[u8], at: usize, be: bool) -> Option<u16> {
    let bytes: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if be {
        u16::from_be_bytes(bytes)
    } else {
        u16::from_le_bytes(bytes)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions() {
        assert_eq!(ts_units_per_sec(6), Some(1_000_000));
        assert_eq!(ts_units_per_sec(9), Some(1_000_000_000));
        assert_eq!(ts_units_per_sec(0x80 | 10), Some(1024));
        assert_eq!(ts_units_per_sec(20), None);
        assert_eq!(ts_units_per_sec(0xFF), None);
    }

    #[test]
    fn ts_floor_and_offset() {
        let ns = Interface {
            linktype: 1,
            units_per_sec: 1_000_000_000,
            offset_s: 0,
        };
        // 1.000001999 s -> 1000001 us
        assert_eq!(pcapng_ts_us(0, 1_000_001_999, &ns), 1_000_001);
        let off = Interface {
            linktype: 1,
            units_per_sec: 1_000_000,
            offset_s: 10,
        };
        assert_eq!(pcapng_ts_us(0, 5, &off), 10_000_005);
        let huge = Interface {
            linktype: 1,
            units_per_sec: 1,
            offset_s: i64::MAX,
        };
        assert_eq!(pcapng_ts_us(u32::MAX, u32::MAX, &huge), i64::MAX);
    }
}
