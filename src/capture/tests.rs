//! Tests for capture: every format and compression against counts and
//! timestamps read with tshark 4.0 (`tshark -r F -T fields -e
//! frame.time_epoch`, `capinfos -c`), window sizing, and damage at every
//! truncation point. Fixtures are described in testdata/README.md.

use super::*;
use std::io::Write;

const EN10MB: &[u8] = include_bytes!("../../testdata/captures/s08_linktypes_en10mb.pcap");
const EN10MB_GZ: &[u8] = include_bytes!("../../testdata/captures/s08_linktypes_gzip.pcap.gz");
const EN10MB_ZST: &[u8] = include_bytes!("../../testdata/captures/s08_linktypes_en10mb.pcap.zst");
const NANOSEC: &[u8] = include_bytes!("../../testdata/captures/s08_linktypes_nanosec.pcap");
const MULTI_IF: &[u8] = include_bytes!("../../testdata/captures/s08_linktypes_multi_if.pcapng");
const SLL: &[u8] = include_bytes!("../../testdata/captures/s08_linktypes_sll.pcap");
const SLL2: &[u8] = include_bytes!("../../testdata/captures/s08_linktypes_sll2.pcap");
const VLAN: &[u8] = include_bytes!("../../testdata/captures/s09_vlan_trunk.pcap");
const NTP: &[u8] = include_bytes!("../../testdata/captures/ntp.pcap");
const T001_BE: &[u8] = include_bytes!("../../testdata/captures/test001-be.pcapng");
const T001_LE: &[u8] = include_bytes!("../../testdata/captures/test001-le.pcapng");
const T010_LE: &[u8] = include_bytes!("../../testdata/captures/test010-le.pcapng");
const T016_BE: &[u8] = include_bytes!("../../testdata/captures/test016-be.pcapng");
const T017_LE: &[u8] = include_bytes!("../../testdata/captures/test017-le.pcapng");
const SECTIONS: &[u8] = include_bytes!("../../testdata/captures/synth_sections.pcapng");
const LINKTYPES: &[u8] = include_bytes!("../../testdata/captures/synth_linktypes.pcapng");
const MODIFIED: &[u8] = include_bytes!("../../testdata/captures/pcap_parser_modified_format.pcap");

const T0_US: i64 = 1_700_000_000_000_000;

fn cap(bytes: &[u8]) -> Capture {
    Capture::from_bytes(Path::new("test.pcap"), bytes.to_vec()).unwrap()
}

/// Every frame (with its bytes) and the error, checking the protocol: frames,
/// then at most one `Err`, then `Ok(None)` for good.
fn walk(
    c: &Capture,
    max_frames: usize,
    max_bytes: usize,
) -> (Vec<(FrameRef, Vec<u8>)>, Option<InputError>) {
    let mut w = c.windows();
    let mut out = Vec::new();
    let mut err = None;
    loop {
        match w.next_window(max_frames, max_bytes) {
            Ok(Some(win)) => {
                assert!(err.is_none(), "window after an error");
                assert!(!win.frames.is_empty());
                assert!(win.frames.len() <= max_frames.max(1));
                for f in &win.frames {
                    let b = win.bytes(f);
                    assert_eq!(b.len(), f.len);
                    out.push((*f, b.to_vec()));
                }
            }
            Ok(None) => break,
            Err(e) => {
                assert!(err.is_none(), "two errors");
                err = Some(e);
            }
        }
    }
    assert!(matches!(w.next_window(10, 10), Ok(None)));
    (out, err)
}

fn damaged_at(e: &Option<InputError>) -> Option<u64> {
    match e {
        Some(InputError::Damaged { offset, .. }) => Some(*offset),
        _ => None,
    }
}

fn ts_first_last(frames: &[(FrameRef, Vec<u8>)]) -> (i64, i64) {
    (frames[0].0.ts_us, frames[frames.len() - 1].0.ts_us)
}

#[test]
fn counts_and_timestamps_match_tshark() {
    // (bytes, frames, first ts, last ts, linktype of frame 0)
    let cases: [(&[u8], usize, i64, i64, u32); 9] = [
        (EN10MB, 127, 1_795_871_761_999_380, 1_795_871_766_203_188, 1),
        (
            EN10MB_GZ,
            127,
            1_795_871_761_999_380,
            1_795_871_766_203_188,
            1,
        ),
        (
            EN10MB_ZST,
            127,
            1_795_871_761_999_380,
            1_795_871_766_203_188,
            1,
        ),
        (
            NANOSEC,
            127,
            1_795_871_761_999_380,
            1_795_871_766_203_188,
            1,
        ),
        (
            MULTI_IF,
            155,
            1_795_871_761_999_380,
            1_795_871_770_655_874,
            1,
        ),
        (SLL, 153, 1_795_871_761_999_380, 1_795_871_770_655_874, 113),
        (SLL2, 152, 1_795_871_761_999_380, 1_795_871_770_655_874, 276),
        (VLAN, 146, 1_795_871_777_251_196, 1_795_871_782_180_439, 1),
        (NTP, 12, 1_476_535_656_489_094, 1_476_535_739_793_479, 1),
    ];
    for (i, (bytes, n, first, last, lt)) in cases.into_iter().enumerate() {
        let c = cap(bytes);
        let (frames, err) = walk(&c, 1 << 16, 1 << 30);
        assert!(err.is_none(), "case {i}: {err:?}");
        assert_eq!(frames.len(), n, "case {i}");
        assert_eq!(ts_first_last(&frames), (first, last), "case {i}");
        assert_eq!(frames[0].0.linktype, lt, "case {i}");
        assert_eq!(c.first_timestamp_us(), Some(first), "case {i}");
    }
}

#[test]
fn sniffs_formats() {
    assert_eq!(
        cap(EN10MB).format(),
        Format::Pcap {
            big_endian: false,
            nanos: false
        }
    );
    assert_eq!(
        cap(NANOSEC).format(),
        Format::Pcap {
            big_endian: false,
            nanos: true
        }
    );
    assert_eq!(cap(MULTI_IF).format(), Format::Pcapng);
    assert_eq!(cap(EN10MB_GZ).compression(), Compression::Gzip);
    assert_eq!(cap(EN10MB_ZST).compression(), Compression::Zstd);
    assert_eq!(cap(EN10MB_ZST).format(), cap(EN10MB).format());
    assert_eq!(cap(EN10MB).compression(), Compression::None);
    let be = to_big_endian(EN10MB);
    assert_eq!(
        cap(&be).format(),
        Format::Pcap {
            big_endian: true,
            nanos: false
        }
    );
    assert_eq!(
        cap(&to_big_endian(NANOSEC)).format(),
        Format::Pcap {
            big_endian: true,
            nanos: true
        }
    );
    // FCS bits in the top of the link type field are not the link type.
    let mut fcs = EN10MB.to_vec();
    fcs[23] = 0x10;
    assert_eq!(walk(&cap(&fcs), 1, 1 << 20).0[0].0.linktype, 1);
    let p = Path::new("x");
    assert!(matches!(
        Capture::from_bytes(p, vec![]),
        Err(InputError::Empty { .. })
    ));
    assert!(matches!(
        Capture::from_bytes(p, b"hello world".to_vec()),
        Err(InputError::NotACapture { .. })
    ));
    assert!(matches!(
        Capture::from_bytes(p, vec![0xd4]),
        Err(InputError::NotACapture { .. })
    ));
    assert!(matches!(
        Capture::from_bytes(p, gzip(b"hello world")),
        Err(InputError::NotACapture { .. })
    ));
    assert!(matches!(
        Capture::from_bytes(p, gzip(b"")),
        Err(InputError::Empty { .. })
    ));
    assert!(matches!(
        Capture::from_bytes(p, vec![0x1f, 0x8b, 0, 0]),
        Err(InputError::Damaged { offset: 0, .. })
    ));
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Rewrites a little-endian pcap as big-endian, field by field.
fn to_big_endian(le: &[u8]) -> Vec<u8> {
    let u32at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let mut out = Vec::new();
    out.extend_from_slice(&u32at(le, 0).to_be_bytes());
    for at in [4, 6] {
        out.extend_from_slice(&u16::from_le_bytes([le[at], le[at + 1]]).to_be_bytes());
    }
    for at in [8, 12, 16, 20] {
        out.extend_from_slice(&u32at(le, at).to_be_bytes());
    }
    let mut pos = 24;
    while pos < le.len() {
        let caplen = u32at(le, pos + 8) as usize;
        for k in 0..4 {
            out.extend_from_slice(&u32at(le, pos + 4 * k).to_be_bytes());
        }
        out.extend_from_slice(&le[pos + 16..pos + 16 + caplen]);
        pos += 16 + caplen;
    }
    out
}

/// Record offsets of a little-endian pcap, by hand.
fn record_offsets(le: &[u8]) -> Vec<usize> {
    let mut v = Vec::new();
    let mut pos = 24;
    while pos < le.len() {
        v.push(pos);
        pos += 16 + u32::from_le_bytes(le[pos + 8..pos + 12].try_into().unwrap()) as usize;
    }
    v.push(pos);
    v
}

#[test]
fn same_frames_whatever_the_source() {
    let (plain, _) = walk(&cap(EN10MB), 1 << 16, 1 << 30);
    let strip = |v: Vec<(FrameRef, Vec<u8>)>| {
        v.into_iter()
            .map(|(f, b)| (f.ts_us, f.linktype, f.orig_len, f.offset, b))
            .collect::<Vec<_>>()
    };
    let plain = strip(plain);
    // The microsecond file was rounded from the nanosecond one: compare
    // everything but the time, and the time to a few microseconds.
    let nanos = strip(walk(&cap(NANOSEC), 1 << 16, 1 << 30).0);
    assert_eq!(nanos.len(), plain.len());
    for (a, b) in plain.iter().zip(&nanos) {
        assert!((a.0 - b.0).abs() < 10, "{} {}", a.0, b.0);
        assert!((a.1, a.2, a.3, &a.4) == (b.1, b.2, b.3, &b.4));
    }
    let be = strip(walk(&cap(&to_big_endian(EN10MB)), 1 << 16, 1 << 30).0);
    assert!(plain == be, "big-endian copy differs");
    for bytes in [EN10MB, EN10MB_GZ, EN10MB_ZST] {
        let c = cap(bytes);
        // Window sizes must not change what is seen.
        for (mf, mb) in [
            (1, 1 << 30),
            (7, 1 << 30),
            (1 << 16, 1),
            (1 << 16, 3000),
            (5, 4096),
        ] {
            let (frames, err) = walk(&c, mf, mb);
            assert!(err.is_none());
            assert!(strip(frames) == plain, "{mf} {mb}");
        }
        let mut w = c.windows();
        while let Ok(Some(_)) = w.next_window(10, 1 << 20) {}
        assert_eq!(w.bytes_consumed(), bytes.len() as u64);
    }
    // A plain window borrows the whole file.
    let c = cap(EN10MB);
    let mut w = c.windows();
    let win = w.next_window(3, 1 << 20).unwrap().unwrap();
    assert!(matches!(win.data, Cow::Borrowed(_)));
    assert_eq!(win.data.len(), EN10MB.len());
    assert_eq!(win.frames.len(), 3);
    assert_eq!(w.bytes_consumed(), record_offsets(EN10MB)[3] as u64);
    // Out-of-range frame refs read as empty.
    let bogus = FrameRef {
        start: usize::MAX - 1,
        len: 10,
        ..win.frames[0]
    };
    assert!(win.bytes(&bogus).is_empty());
}

#[test]
fn multi_gzip_members() {
    let offsets = record_offsets(EN10MB);
    let cut = offsets[50];
    let mut two = gzip(&EN10MB[..cut]);
    two.extend(gzip(&EN10MB[cut..]));
    let (frames, err) = walk(&cap(&two), 1 << 16, 1 << 30);
    assert!(err.is_none());
    assert_eq!(frames.len(), 127);
}

/// Cutting a pcap anywhere yields the whole records before the cut, then
/// damage at the first incomplete record (or a clean end on a boundary).
#[test]
fn truncated_pcap_every_length() {
    let offsets = record_offsets(NTP);
    for cut in 0..NTP.len() {
        let bytes = &NTP[..cut];
        let c = match Capture::from_bytes(Path::new("t"), bytes.to_vec()) {
            Ok(c) => c,
            Err(InputError::Empty { .. }) => {
                assert_eq!(cut, 0);
                continue;
            }
            Err(InputError::NotACapture { .. }) => {
                assert!(cut < 4);
                continue;
            }
            Err(e) => panic!("{cut}: {e}"),
        };
        let (frames, err) = walk(&c, 5, 1 << 20);
        let whole = offsets
            .iter()
            .filter(|&&o| o <= cut)
            .count()
            .saturating_sub(1);
        assert_eq!(frames.len(), whole, "cut {cut}");
        if cut < 24 {
            assert_eq!(damaged_at(&err), Some(0), "cut {cut}");
        } else if offsets.contains(&cut) {
            assert!(err.is_none(), "cut {cut}");
        } else {
            assert_eq!(damaged_at(&err), Some(offsets[whole] as u64), "cut {cut}");
        }
    }
}

#[test]
fn truncated_big_pcap_and_compressed() {
    let offsets = record_offsets(EN10MB);
    let cuts: Vec<usize> = (24..EN10MB.len())
        .step_by(211)
        .chain([EN10MB.len() - 1])
        .collect();
    for &cut in &cuts {
        let whole = offsets.iter().filter(|&&o| o <= cut).count() - 1;
        let expect = if offsets.contains(&cut) {
            None
        } else {
            Some(offsets[whole] as u64)
        };
        let (frames, err) = walk(&cap(&EN10MB[..cut]), 16, 4096);
        assert_eq!(frames.len(), whole, "cut {cut}");
        assert_eq!(damaged_at(&err), expect, "cut {cut}");
        // Same data through a truncated gzip stream: the decompressor stops
        // somewhere before the cut.
        let gz = gzip(&EN10MB[..cut]);
        let gz_cut = &gz[..gz.len() - 9];
        let (frames, err) = walk(&cap(gz_cut), 16, 4096);
        let off = damaged_at(&err).expect("truncated gzip is damage");
        assert!(frames.len() <= whole);
        if frames.is_empty() {
            assert!(off == 0 || off == 24, "cut {cut}: {off}");
        } else {
            assert_eq!(off, offsets[frames.len()] as u64, "cut {cut}");
        }
    }
    // zstd cut in the middle (a stream flushed every 4 KiB, so that early
    // blocks decode on their own).
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    for chunk in EN10MB.chunks(4096) {
        enc.write_all(chunk).unwrap();
        enc.flush().unwrap();
    }
    let z = enc.finish().unwrap();
    assert_eq!(walk(&cap(&z), 16, 4096).0.len(), 127);
    // The one-block CLI file cut short has nothing to give: damage at 0.
    let short = &EN10MB_ZST[..EN10MB_ZST.len() / 2];
    assert!(matches!(
        Capture::from_bytes(Path::new("z"), short.to_vec()),
        Err(InputError::Damaged { offset: 0, .. })
    ));
    let (frames, err) = walk(&cap(&z[..z.len() / 2]), 16, 4096);
    let off = damaged_at(&err).expect("truncated zstd is damage");
    assert!(!frames.is_empty());
    assert_eq!(off, offsets[frames.len()] as u64);
}

#[test]
fn oversized_and_corrupt_records() {
    let offsets = record_offsets(EN10MB);
    let mut bad = EN10MB.to_vec();
    let at = offsets[3];
    bad[at + 8..at + 12]
        .copy_from_slice(&(crate::limits::MAX_RECORD_BYTES as u32 + 1).to_le_bytes());
    let (frames, err) = walk(&cap(&bad), 2, 1 << 20);
    assert_eq!(frames.len(), 3);
    assert_eq!(damaged_at(&err), Some(at as u64));
    let msg = err.unwrap().to_string();
    assert!(msg.contains("test.pcap") && msg.contains("limit"), "{msg}");
}

#[test]
fn pcapng_fixtures() {
    for (bytes, n) in [
        (T001_BE, 4),
        (T001_LE, 4),
        (T010_LE, 4),
        (T016_BE, 4),
        (T017_LE, 0),
    ] {
        let (frames, err) = walk(&cap(bytes), 3, 1 << 20);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(frames.len(), n);
    }
    let (t016, _) = walk(&cap(T016_BE), 10, 1 << 20);
    // tshark: frames 2 and 4 are EPBs at these times; SPBs carry the last.
    let ts: Vec<i64> = t016.iter().map(|f| f.0.ts_us).collect();
    assert_eq!(ts[1], 1_340_954_905_298_858);
    assert_eq!(ts[3], 1_340_954_905_300_858);
    assert_eq!(ts[2], ts[1]);
    let (multi, _) = walk(&cap(MULTI_IF), 1 << 16, 1 << 30);
    let on_if1 = multi.iter().filter(|f| f.0.interface == 1).count();
    assert_eq!(on_if1, 27);
}

#[test]
fn synthetic_sections() {
    let c = cap(SECTIONS);
    let (frames, err) = walk(&c, 2, 1 << 20);
    assert!(err.is_none(), "{err:?}");
    let got: Vec<(i64, u32, u32)> = frames
        .iter()
        .map(|(f, _)| (f.ts_us, f.linktype, f.interface))
        .collect();
    let s = 1_000_000;
    assert_eq!(
        got,
        vec![
            (T0_US + s + 5, 1, 0),
            (T0_US + 2 * s + 123_456, 101, 1),
            (T0_US + 2 * s + 123_456, 1, 0),
            (T0_US + 3 * s, 101, 1),
            (T0_US + 4 * s + 500_000, 113, 0),
            (T0_US + 4 * s + 500_000, 113, 0),
        ]
    );
    assert_eq!(frames[5].1.len() + 4, frames[4].1.len());
    assert!(frames[3].1.ends_with(b"certsift-4"));
    let mut w = c.windows();
    while let Ok(Some(_)) = w.next_window(100, 1 << 20) {}
    let secrets = w.decryption_secrets();
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0].secrets_type, 0x544C_534B);
    assert_eq!(secrets[0].data, b"CLIENT_RANDOM 00 11\n");
    let (lt, _) = walk(&cap(LINKTYPES), 100, 1 << 20);
    assert_eq!(lt.len(), 20);
}

/// Cutting a pcapng anywhere never panics and yields a prefix of the frames;
/// damage is reported at a block boundary.
#[test]
fn truncated_pcapng_every_length() {
    for bytes in [SECTIONS, T016_BE, T001_LE] {
        let (all, _) = walk(&cap(bytes), 100, 1 << 20);
        let block_starts: Vec<u64> = all.iter().map(|f| f.0.offset).collect();
        for cut in 4..bytes.len() {
            let (frames, err) = walk(&cap(&bytes[..cut]), 2, 64);
            assert!(frames.len() <= all.len());
            for (a, b) in frames.iter().zip(&all) {
                assert_eq!(a.1, b.1);
            }
            if let Some(off) = damaged_at(&err) {
                assert!(off as usize <= cut);
                if let Some(next) = block_starts.get(frames.len()) {
                    assert!(off <= *next, "cut {cut}");
                }
            }
        }
    }
}

#[test]
fn corrupt_pcapng_blocks() {
    let (all, _) = walk(&cap(SECTIONS), 100, 1 << 20);
    let third = all[2].0.offset as usize;
    // Block length not a multiple of 4.
    let mut bad = SECTIONS.to_vec();
    bad[third + 4] ^= 1;
    let (frames, err) = walk(&cap(&bad), 100, 1 << 20);
    assert_eq!(frames.len(), 2);
    assert_eq!(damaged_at(&err), Some(third as u64));
    // Packet naming an interface that does not exist.
    let mut bad = SECTIONS.to_vec();
    let second = all[1].0.offset as usize;
    bad[second + 8] = 9;
    let (frames, err) = walk(&cap(&bad), 100, 1 << 20);
    assert_eq!(frames.len(), 1);
    assert_eq!(damaged_at(&err), Some(second as u64));
    // Huge block length.
    let mut bad = SECTIONS.to_vec();
    bad[third + 4..third + 8].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    let (_, err) = walk(&cap(&bad), 100, 1 << 20);
    assert_eq!(damaged_at(&err), Some(third as u64));
    // Every single-byte corruption: no panic.
    for i in 0..SECTIONS.len() {
        let mut bad = SECTIONS.to_vec();
        bad[i] = bad[i].wrapping_add(0x41);
        if let Ok(c) = Capture::from_bytes(Path::new("x"), bad) {
            let _ = walk(&c, 3, 100);
        }
    }
}

#[test]
fn open_from_disk_mmap_and_read() {
    let dir = std::env::temp_dir().join(format!("certsift-cap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("capture.bin");
    std::fs::write(&p, EN10MB_GZ).unwrap();
    for mmap in [true, false] {
        let c = Capture::open(&p, mmap).unwrap();
        assert_eq!(c.path(), p.as_path());
        assert_eq!(c.size_bytes(), EN10MB_GZ.len() as u64);
        assert_eq!(c.compression(), Compression::Gzip);
        assert_eq!(walk(&c, 50, 1 << 20).0.len(), 127);
    }
    let empty = dir.join("empty");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        Capture::open(&empty, true),
        Err(InputError::Empty { .. })
    ));
    assert!(matches!(
        Capture::open(&dir.join("missing"), true),
        Err(InputError::Unreadable { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn decryption_secrets_block_from_editcap() {
    const DSB: &[u8] = include_bytes!("../../testdata/captures/s07_tls13_keylog_dsb.pcapng");
    let c = cap(DSB);
    let mut w = c.windows();
    let mut n = 0;
    let mut last = 0;
    while let Some(win) = w.next_window(64, 1 << 20).unwrap() {
        n += win.frames.len();
        last = win.frames.last().map_or(last, |f| f.ts_us);
    }
    // capinfos: 208 packets; tshark: last at 1795871756.049867.
    assert_eq!(n, 208);
    assert_eq!(c.first_timestamp_us(), Some(1_795_871_749_826_193));
    assert_eq!(last, 1_795_871_756_049_867);
    let s = w.decryption_secrets();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].secrets_type, 0x544C_534B);
    // The key log as injected: 9291 bytes, not padded.
    assert_eq!(s[0].data.len(), 9291);
    assert!(s[0]
        .data
        .starts_with(b"# TLS secrets of every client in s07_tls"));
}

#[test]
fn types_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Capture>();
    send_sync::<Window<'_>>();
    send_sync::<FrameRef>();
    send::<Windows<'_>>();
    send_sync::<crate::decode::Decoded<'_>>();
    send::<crate::decode::Defragmenter>();
}

/// Kuznetzov's "modified" pcap: pcap-parser's sample (one ICMP echo, as
/// tshark reads it) and the en10mb capture rewritten in it (8 more bytes
/// per record header) give the same frames as the plain file.
#[test]
fn modified_pcap_format() {
    let c = cap(MODIFIED);
    assert_eq!(c.format(), Format::PcapModified);
    let (frames, err) = walk(&c, 1 << 16, 1 << 30);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].0.linktype, 1);
    let u32at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let mut modified = EN10MB[..24].to_vec();
    modified[..4].copy_from_slice(&0xA1B2_CD34u32.to_le_bytes());
    let mut at = 24;
    while at + 16 <= EN10MB.len() {
        let end = at + 16 + u32at(EN10MB, at + 8) as usize;
        modified.extend_from_slice(&EN10MB[at..at + 16]);
        modified.extend_from_slice(&[2, 0, 0, 0, 0x08, 0x00, 0, 0]);
        modified.extend_from_slice(&EN10MB[at + 16..end]);
        at = end;
    }
    // Record offsets differ (longer headers); time, link type, lengths and
    // bytes do not.
    let strip = |v: Vec<(FrameRef, Vec<u8>)>| {
        v.into_iter()
            .map(|(f, b)| (f.ts_us, f.linktype, f.orig_len, b))
            .collect::<Vec<_>>()
    };
    let plain = strip(walk(&cap(EN10MB), 1 << 16, 1 << 30).0);
    for window in [1 << 16, 7] {
        let (frames, err) = walk(&cap(&modified), window, 1 << 30);
        assert!(err.is_none(), "{err:?}");
        assert!(plain == strip(frames), "window {window}");
    }
    // Cut inside a record: damage at that record, the frames before it kept.
    let (frames, err) = walk(&cap(&modified[..modified.len() - 3]), 1 << 16, 1 << 30);
    assert_eq!(frames.len(), plain.len() - 1);
    assert!(err.is_some());
}
