//! Streaming decompression for .gz and .zst captures: the compressed bytes
//! (mapped or in memory) go through a decoder into a rolling buffer that
//! holds one window plus at most one partial record, never the whole
//! inflated file. Each window's bytes are handed out as an owned `Vec`.

use std::io::{BufRead, Read};

use super::walk::{Step, Walker};
use super::{Compression, FrameRef, Window};
use crate::limits::INFLATE_CHUNK_BYTES;

/// A reader over the compressed bytes that counts what the decoder took.
#[derive(Debug)]
pub(crate) struct Counted<'c> {
    data: &'c [u8],
    pos: usize,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), avail.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Counted<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        Ok(self.data.get(self.pos..).unwrap_or_default())
    }
    fn consume(&mut self, amt: usize) {
        self.pos = self.pos.saturating_add(amt).min(self.data.len());
    }
}

/// A gzip or zstd decoder over the compressed bytes.
pub(crate) enum Inflater<'c> {
    Gzip(flate2::bufread::MultiGzDecoder<Counted<'c>>),
    Zstd(zstd::stream::read::Decoder<'static, Counted<'c>>),
}

impl std::fmt::Debug for Inflater<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Inflater::Gzip(_) => f.write_str("Inflater::Gzip"),
            Inflater::Zstd(_) => f.write_str("Inflater::Zstd"),
        }
    }
}

impl<'c> Inflater<'c> {
    /// A decoder for `raw`, the whole compressed file.
    pub(crate) fn new(compression: Compression, raw: &'c [u8]) -> std::io::Result<Inflater<'c>> {
        let counted = Counted { data: raw, pos: 0 };
        match compression {
            Compression::Gzip => Ok(Inflater::Gzip(flate2::bufread::MultiGzDecoder::new(
                counted,
            ))),
            Compression::Zstd => Ok(Inflater::Zstd(zstd::stream::read::Decoder::with_buffer(
                counted,
            )?)),
            Compression::None => Err(std::io::Error::other("not compressed")),
        }
    }

    /// Compressed bytes taken by the decoder so far.
    fn consumed(&self) -> u64 {
        let pos = match self {
            Inflater::Gzip(d) => d.get_ref().pos,
            Inflater::Zstd(d) => d.get_ref().pos,
        };
        pos as u64
    }
}

impl Read for Inflater<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Inflater::Gzip(d) => d.read(buf),
            Inflater::Zstd(d) => d.read(buf),
        }
    }
}

/// The decompressed stream seen through a rolling buffer.
#[derive(Debug)]
pub(crate) struct Rolling<'c> {
    inflater: Inflater<'c>,
    /// Decompressed bytes not yet handed out; `buf[0]` is at stream offset
    /// `base`.
    buf: Vec<u8>,
    base: u64,
    eof: bool,
    /// Why the decoder stopped early, if it did.
    read_error: Option<String>,
}

impl<'c> Rolling<'c> {
    pub(crate) fn new(inflater: Inflater<'c>) -> Rolling<'c> {
        Rolling {
            inflater,
            buf: Vec::new(),
            base: 0,
            eof: false,
            read_error: None,
        }
    }

    pub(crate) fn compressed_consumed(&self) -> u64 {
        self.inflater.consumed()
    }

    /// Appends up to one chunk of decompressed bytes; sets `eof` at the end
    /// of the stream or on a decoder error.
    fn fill(&mut self) {
        let old = self.buf.len();
        self.buf.resize(old.saturating_add(INFLATE_CHUNK_BYTES), 0);
        let mut got = 0;
        while got < INFLATE_CHUNK_BYTES {
            let Some(dst) = self.buf.get_mut(old + got..) else {
                break;
            };
            match self.inflater.read(dst) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.eof = true;
                    self.read_error = Some(e.to_string());
                    break;
                }
            }
        }
        self.buf.truncate(old + got);
    }

    /// The next window and, on damage, the stream offset and reason.
    pub(crate) fn next_window(
        &mut self,
        walker: &mut Walker,
        max_frames: usize,
        max_bytes: usize,
    ) -> (Option<Window<'c>>, Option<(u64, String)>) {
        let mut frames: Vec<FrameRef> = Vec::new();
        let mut pos = 0usize;
        let mut outcome = None;
        loop {
            if frames.len() >= max_frames || (!frames.is_empty() && pos >= max_bytes) {
                break;
            }
            if frames.is_empty() && pos >= max_bytes.max(INFLATE_CHUNK_BYTES) {
                // Only non-packet blocks so far: drop them to bound the buffer.
                self.buf.drain(..pos);
                self.base = self.base.saturating_add(pos as u64);
                pos = 0;
            }
            match walker.step(&self.buf, pos, self.eof, self.base) {
                Step::Frame(f, n) => {
                    frames.push(f);
                    pos = pos.saturating_add(n);
                }
                Step::Skip(n) => pos = pos.saturating_add(n),
                Step::NeedMore => self.fill(),
                Step::End => {
                    if let Some(e) = self.read_error.take() {
                        outcome = Some((
                            self.base.saturating_add(pos as u64),
                            format!("compressed stream: {e}"),
                        ));
                    }
                    break;
                }
                Step::Damage(reason) => {
                    let reason = match self.read_error.take() {
                        Some(e) => format!("{reason} (compressed stream: {e})"),
                        None => reason,
                    };
                    outcome = Some((self.base.saturating_add(pos as u64), reason));
                    break;
                }
            }
        }
        let pos = pos.min(self.buf.len());
        let rest = self.buf.get(pos..).unwrap_or_default().to_vec();
        let mut data = std::mem::replace(&mut self.buf, rest);
        data.truncate(pos);
        self.base = self.base.saturating_add(pos as u64);
        let window = (!frames.is_empty()).then_some(Window {
            data: std::borrow::Cow::Owned(data),
            frames,
        });
        (window, outcome)
    }
}
