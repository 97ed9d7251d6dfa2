//! Capture files in, windows of frame references out. A `Capture` owns the
//! file's bytes (a memory map, or a `Vec` under `--no-mmap`); the format is
//! sniffed from magic bytes, never from the file name: pcap (both byte
//! orders, micro- or nanosecond), pcapng (several sections and interfaces,
//! each with its own link type and clock), and either of them compressed with
//! gzip (multi-member too) or zstd. Compressed streams are inflated through a
//! rolling buffer, one window at a time, never whole.
//!
//! `Windows` walks record boundaries sequentially (pcapng interface state
//! needs it) and hands out batches of `FrameRef`s that later stages decode in
//! parallel. Damage (a truncated or corrupt record) ends the walk: the frames
//! before it come first, then one `InputError::Damaged` naming the offset.
//!
//! Left out: the "modified" pcap format, pcapng per-packet options, and
//! Name Resolution / Statistics blocks.

mod stream;
mod walk;

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::InputError;
use stream::{Inflater, Rolling};
use walk::{Step, Walker};

/// How the capture file is compressed, found from its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// A plain pcap or pcapng file.
    None,
    /// gzip (RFC 1952), one or several members.
    Gzip,
    /// Zstandard (RFC 8878).
    Zstd,
}

/// The capture format inside any compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic libpcap format.
    Pcap {
        /// Header fields are big-endian (magic read as `d4c3b2a1`).
        big_endian: bool,
        /// Timestamps carry nanoseconds (magic `a1b23c4d`).
        nanos: bool,
    },
    /// Kuznetzov's "modified" pcap (magic `a1b2cd34`, written by patched
    /// tcpdumps of old Red Hat and SuSE releases): 8 more bytes in every
    /// record header (interface index, protocol, packet type). Little-endian.
    PcapModified,
    /// pcapng (draft-ietf-opsawg-pcapng); byte order is per section.
    Pcapng,
}

/// One packet record found by the walk. Plain data: indices into
/// `Window::data`, never a borrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRef {
    /// Capture time, microseconds since the Unix epoch (floored, saturating).
    pub ts_us: i64,
    /// LINKTYPE_* value of the interface that captured the frame.
    pub linktype: u32,
    /// Index of the frame's first byte in `Window::data`.
    pub start: usize,
    /// Captured length in bytes.
    pub len: usize,
    /// Length of the packet on the wire.
    pub orig_len: u32,
    /// Offset of the record (or block) in the decompressed stream.
    pub offset: u64,
    /// pcapng interface id within its section (0 for pcap).
    pub interface: u32,
}

/// The contents of one pcapng Decryption Secrets Block (e.g. a TLS key log,
/// `secrets_type` 0x544c534b).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptionSecret {
    /// The block's secrets type.
    pub secrets_type: u32,
    /// The secrets, as stored.
    pub data: Vec<u8>,
}

/// A batch of frames and the bytes they point into.
#[derive(Debug)]
pub struct Window<'c> {
    /// The whole mapped file for plain captures; the decompressed bytes of
    /// this window for compressed ones.
    pub data: Cow<'c, [u8]>,
    /// The frames, in capture-file order.
    pub frames: Vec<FrameRef>,
}

impl Window<'_> {
    /// The captured bytes of `f`; empty if `f` does not point into this window.
    pub fn bytes(&self, f: &FrameRef) -> &[u8] {
        f.start
            .checked_add(f.len)
            .and_then(|end| self.data.get(f.start..end))
            .unwrap_or_default()
    }
}

#[derive(Debug)]
enum Bytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Bytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

/// An open capture file: its bytes, format and compression.
#[derive(Debug)]
pub struct Capture {
    path: PathBuf,
    bytes: Bytes,
    size: u64,
    format: Format,
    compression: Compression,
}

/// How far ahead of the record walk the mapped bytes are read.
const WALK_LOOKAHEAD: usize = 16 * 1024;

/// Reads one byte per cache line of `data[from..to]` and returns where it
/// stopped. The walk itself is a chain of dependent loads (each record's
/// length gives the next header's place), one miss at a time; these loads
/// depend on nothing, so the memory system fetches the lines ahead of the
/// walk in parallel, as read() into a buffer would.
fn touch_ahead(data: &[u8], from: usize, to: usize) -> usize {
    let to = to.min(data.len());
    let mut at = from;
    let mut sum = 0u8;
    while at < to {
        sum ^= data.get(at).copied().unwrap_or_default();
        at = at.saturating_add(64);
    }
    std::hint::black_box(sum);
    at
}

const PCAP_LE_US: u32 = 0xA1B2_C3D4;
const PCAP_LE_NS: u32 = 0xA1B2_3C4D;
const PCAP_LE_MODIFIED: u32 = 0xA1B2_CD34;
const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
const GZIP_MAGIC: [u8; 2] = [0x1F, 0x8B];

/// The capture format for the first four bytes of a (decompressed) stream.
fn sniff_format(head: &[u8]) -> Option<Format> {
    let magic: [u8; 4] = head.get(..4)?.try_into().ok()?;
    let le = u32::from_le_bytes(magic);
    match le {
        PCAP_LE_US | PCAP_LE_NS => Some(Format::Pcap {
            big_endian: false,
            nanos: le == PCAP_LE_NS,
        }),
        _ if le.swap_bytes() == PCAP_LE_US || le.swap_bytes() == PCAP_LE_NS => Some(Format::Pcap {
            big_endian: true,
            nanos: le.swap_bytes() == PCAP_LE_NS,
        }),
        PCAP_LE_MODIFIED => Some(Format::PcapModified),
        PCAPNG_SHB => Some(Format::Pcapng),
        _ => None,
    }
}

/// Maps `file` read-only.
#[allow(unsafe_code)]
fn map_file(file: &File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the map is read-only and certsift never writes the file. If
    // another process truncates it while mapped, reading the lost pages
    // raises SIGBUS; captures are evidence that is not modified in place,
    // and `--no-mmap` (use_mmap = false) avoids the map entirely.
    let map = unsafe { memmap2::Mmap::map(file) }?;
    // The walk reads the file once, front to back: let the kernel read ahead.
    // Advice is a hint; a kernel that refuses it changes nothing.
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(map)
}

/// Bytes of a mapping released at a time, behind the walk.
const RELEASE_STEP: usize = 32 << 20;

/// Drops the pages of `map[..end]` (rounded down to a page) from this
/// process, so the resident size stays flat however large the capture. The
/// page cache keeps them; a later read of those bytes faults them back in.
#[allow(unsafe_code)]
fn release_behind(map: &memmap2::Mmap, from: usize, end: usize) -> usize {
    const PAGE: usize = 4096;
    let end = end / PAGE * PAGE;
    if end <= from {
        return from;
    }
    // SAFETY: MADV_DONTNEED on a read-only, shared, file-backed mapping only
    // unmaps pages; their content is re-read from the file on the next
    // access, so every slice into the map stays valid and unchanged. (The
    // zero-fill hazard memmap2 guards against applies to private or
    // anonymous mappings, which this is not.)
    let ok =
        unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, end - from) };
    if ok.is_ok() {
        end
    } else {
        from
    }
}

impl Capture {
    /// Opens `path`, maps it (or reads it into memory when `use_mmap` is
    /// false) and sniffs its compression and format from magic bytes.
    pub fn open(path: &Path, use_mmap: bool) -> Result<Capture, InputError> {
        let unreadable = |e: std::io::Error| InputError::Unreadable {
            path: path.to_path_buf(),
            msg: e.to_string(),
        };
        let mut file = File::open(path).map_err(unreadable)?;
        let size = file.metadata().map_err(unreadable)?.len();
        if size == 0 {
            return Err(InputError::Empty {
                path: path.to_path_buf(),
            });
        }
        let bytes = if use_mmap {
            Bytes::Mapped(map_file(&file).map_err(unreadable)?)
        } else {
            let mut v = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            file.read_to_end(&mut v).map_err(unreadable)?;
            Bytes::Owned(v)
        };
        Capture::from_raw(path, bytes, size)
    }

    /// A capture over bytes already in memory (tests, fuzzing, stdin);
    /// `path` only names it in errors. Sniffs like `open`.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Capture, InputError> {
        let size = bytes.len() as u64;
        Capture::from_raw(path, Bytes::Owned(bytes), size)
    }

    fn from_raw(path: &Path, bytes: Bytes, size: u64) -> Result<Capture, InputError> {
        let raw = bytes.as_slice();
        if raw.is_empty() {
            return Err(InputError::Empty {
                path: path.to_path_buf(),
            });
        }
        let not_capture = || InputError::NotACapture {
            path: path.to_path_buf(),
        };
        let compression = if raw.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if raw.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        };
        let format = match compression {
            Compression::None => sniff_format(raw).ok_or_else(not_capture)?,
            Compression::Gzip | Compression::Zstd => {
                let mut inflater =
                    Inflater::new(compression, raw).map_err(|e| InputError::Damaged {
                        path: path.to_path_buf(),
                        offset: 0,
                        reason: format!("cannot start decompressor: {e}"),
                    })?;
                let mut head = [0u8; 4];
                let mut got = 0;
                while let Some(dst) = head.get_mut(got..).filter(|d| !d.is_empty()) {
                    match inflater.read(dst) {
                        Ok(0) => break,
                        Ok(n) => got += n,
                        Err(e) => {
                            return Err(InputError::Damaged {
                                path: path.to_path_buf(),
                                offset: 0,
                                reason: format!("compressed stream: {e}"),
                            })
                        }
                    }
                }
                if got == 0 {
                    return Err(InputError::Empty {
                        path: path.to_path_buf(),
                    });
                }
                sniff_format(&head).ok_or_else(not_capture)?
            }
        };
        Ok(Capture {
            path: path.to_path_buf(),
            bytes,
            size,
            format,
            compression,
        })
    }

    /// The path given to `open`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size of the file on disk (compressed size for .gz/.zst).
    pub fn size_bytes(&self) -> u64 {
        self.size
    }

    /// The capture format (inside any compression).
    pub fn format(&self) -> Format {
        self.format
    }

    /// The compression found from the magic bytes.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Timestamp of the first packet, found by walking to it; `None` when the
    /// file holds no readable packet. Used to order rotated series.
    pub fn first_timestamp_us(&self) -> Option<i64> {
        let mut w = self.windows();
        let first = w.next_window(1, 0).ok().flatten()?;
        first.frames.first().map(|f| f.ts_us)
    }

    /// A fresh walk from the start of the capture.
    pub fn windows(&self) -> Windows<'_> {
        let raw = self.bytes.as_slice();
        let src = match self.compression {
            Compression::None => Source::Slice { data: raw, pos: 0 },
            Compression::Gzip | Compression::Zstd => {
                match Inflater::new(self.compression, raw) {
                    Ok(inflater) => Source::Stream(Box::new(Rolling::new(inflater))),
                    // Open already started this decompressor once; report
                    // a later failure as damage at offset 0.
                    Err(e) => Source::Failed(format!("cannot start decompressor: {e}")),
                }
            }
        };
        Windows {
            path: &self.path,
            walker: Walker::new(self.format == Format::Pcapng),
            src,
            done: false,
            pending: None,
            map: match &self.bytes {
                Bytes::Mapped(m) if self.compression == Compression::None => Some(m),
                _ => None,
            },
            released: 0,
            prev_start: 0,
        }
    }
}

#[derive(Debug)]
enum Source<'c> {
    Slice { data: &'c [u8], pos: usize },
    Stream(Box<Rolling<'c>>),
    Failed(String),
}

/// A sequential walk over a capture's records, in windows.
#[derive(Debug)]
pub struct Windows<'c> {
    path: &'c Path,
    walker: Walker,
    src: Source<'c>,
    done: bool,
    pending: Option<InputError>,
    /// The mapping behind a plain file, whose pages are released behind the walk.
    map: Option<&'c memmap2::Mmap>,
    /// Bytes of the mapping released so far.
    released: usize,
    /// Where the previous window started.
    prev_start: usize,
}

impl<'c> Windows<'c> {
    /// Next window of up to `max_frames` frames and about `max_bytes` bytes of
    /// records (at least one frame per window). `Ok(None)` at the clean end.
    /// On damage: first the window with every frame before the damage, then
    /// `Err(InputError::Damaged)` with the offset where the bad record starts
    /// in the (decompressed) stream, then `Ok(None)`.
    pub fn next_window(
        &mut self,
        max_frames: usize,
        max_bytes: usize,
    ) -> Result<Option<Window<'c>>, InputError> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        if self.done {
            return Ok(None);
        }
        let max_frames = max_frames.max(1);
        let path = self.path;
        let damaged = |offset: u64, reason: String| InputError::Damaged {
            path: path.to_path_buf(),
            offset,
            reason,
        };
        let (window, outcome) = match &mut self.src {
            Source::Failed(msg) => (None, Some(damaged(0, msg.clone()))),
            Source::Slice { data, pos } => {
                let data: &'c [u8] = data;
                let mut frames = Vec::with_capacity(max_frames.min(1 << 16));
                let window_start = *pos;
                // The caller is done with earlier windows when it asks for the
                // next one (the pipeline copies what it keeps).
                // One window lags: the pipeline processes the previous window
                // while this one is walked.
                if let Some(map) = self.map {
                    if self.prev_start >= self.released + RELEASE_STEP {
                        self.released = release_behind(map, self.released, self.prev_start);
                    }
                }
                self.prev_start = window_start;
                let mut outcome = None;
                let mut touched = *pos;
                loop {
                    touched = touch_ahead(data, touched, pos.saturating_add(WALK_LOOKAHEAD));
                    if frames.len() >= max_frames
                        || (!frames.is_empty() && *pos - window_start >= max_bytes)
                    {
                        break;
                    }
                    match self.walker.step(data, *pos, true, 0) {
                        Step::Frame(f, n) => {
                            frames.push(f);
                            *pos = pos.saturating_add(n);
                        }
                        Step::Skip(n) => *pos = pos.saturating_add(n),
                        Step::End => {
                            self.done = true;
                            break;
                        }
                        Step::NeedMore => {
                            self.done = true;
                            outcome = Some(damaged(*pos as u64, "internal: walk stalled".into()));
                            break;
                        }
                        Step::Damage(reason) => {
                            self.done = true;
                            outcome = Some(damaged(*pos as u64, reason));
                            break;
                        }
                    }
                }
                let window = (!frames.is_empty()).then_some(Window {
                    data: Cow::Borrowed(data),
                    frames,
                });
                (window, outcome)
            }
            Source::Stream(rolling) => {
                let (window, outcome) =
                    rolling.next_window(&mut self.walker, max_frames, max_bytes);
                if outcome.is_some() || window.is_none() {
                    self.done = true;
                }
                let outcome = outcome.map(|(offset, reason)| damaged(offset, reason));
                (window, outcome)
            }
        };
        if outcome.is_some() {
            self.done = true;
        }
        match (window, outcome) {
            (Some(w), e) => {
                self.pending = e;
                Ok(Some(w))
            }
            (None, Some(e)) => Err(e),
            (None, None) => {
                self.done = true;
                Ok(None)
            }
        }
    }

    /// On-disk bytes consumed so far (compressed bytes for .gz/.zst), for a
    /// progress bar.
    pub fn bytes_consumed(&self) -> u64 {
        match &self.src {
            Source::Slice { pos, .. } => *pos as u64,
            Source::Stream(r) => r.compressed_consumed(),
            Source::Failed(_) => 0,
        }
    }

    /// pcapng Decryption Secrets Blocks seen so far by this walk (a TLS key
    /// log embedded by `editcap --inject-secrets`), capped by
    /// `limits::MAX_DECRYPTION_SECRETS_BYTES`.
    pub fn decryption_secrets(&self) -> &[DecryptionSecret] {
        self.walker.secrets()
    }
}

#[cfg(test)]
mod tests;
