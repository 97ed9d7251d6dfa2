//! Capture walk: arbitrary bytes through `Capture::from_bytes` (sniffing pcap,
//! pcapng, gzip, zstd) and every window, touching every frame's bytes.
#![no_main]

use std::path::Path;

use certsift::capture::Capture;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(cap) = Capture::from_bytes(Path::new("fuzz.pcap"), data.to_vec()) else {
        return;
    };
    let _ = (cap.format(), cap.compression(), cap.first_timestamp_us());
    let mut windows = cap.windows();
    // Small windows exercise the window boundaries; the walk must end.
    for _ in 0..100_000 {
        match windows.next_window(7, 4096) {
            Ok(Some(w)) => {
                for f in &w.frames {
                    std::hint::black_box(w.bytes(f));
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
    std::hint::black_box(windows.decryption_secrets());
});
