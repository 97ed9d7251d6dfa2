//! Tests of TLS 1.3 handshake decryption: the RFC 8448 §3 trace ("Simple
//! 1-RTT Handshake", published hex) end to end through a [`Session`], AEAD
//! known answers (RFC 8439 §2.8.2, NIST GCM test case 14), synthetic
//! handshakes sealed here for every suite (mutual TLS, padding, messages
//! split across records, HelloRetryRequest, encrypted client alert), wrong
//! keys, and truncation/corruption loops.

use super::super::{KeyLog, Session, Side, Visibility};
use super::super::{MAX_RETAINED_CLIENT_RECORDS, MAX_RETAINED_FLIGHT};
use super::*;
use sha2::Digest;

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

fn sha_hex(b: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(b))
}

// ---- RFC 8448 §3 (Simple 1-RTT Handshake), hex as published.

/// {client} send handshake record: the ClientHello record (201 octets).
const RFC_CH: &str = "16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006130113031302010000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c00024001";
/// {server} send handshake record: the ServerHello record (95 octets).
const RFC_SH: &str = "160303005a020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304";
/// {server} send handshake record: EncryptedExtensions, Certificate,
/// CertificateVerify, Finished in one protected record (679 octets).
const RFC_SERVER_FLIGHT: &str = "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848a7ca07612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13bd9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd610928d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5edd8044b4c6de3fcf2a89441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f292a36ac1b639c637ce343117b659622245317b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052cf93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913fa388cb5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e275592c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e750edc53370d2b";
/// {client} send handshake record: the client Finished (58 octets).
const RFC_CLIENT_FIN: &str = "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd1caeacab6867d726c40546";
const RFC_RANDOM: &str = "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7";
const RFC_S_HS: &str = "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
const RFC_C_HS: &str = "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21";
/// SHA-256 of the trace's RSA certificate (CN=rsa, 432 bytes of DER).
const RFC_LEAF_SHA256: &str = "a7ef15cef43e4b67bdb158fcc13cceef9041c8a6cef762046e825543a92bdc83";

fn rfc_keylog(server_secret: &str) -> KeyLog {
    let mut k = KeyLog::new();
    let text = format!(
        "# RFC 8448\nSERVER_HANDSHAKE_TRAFFIC_SECRET {RFC_RANDOM} {server_secret}\n\
         CLIENT_HANDSHAKE_TRAFFIC_SECRET {RFC_RANDOM} {RFC_C_HS}\n"
    );
    let st = k.add_text(text.as_bytes());
    assert_eq!(st.accepted, 2);
    k
}

fn rfc_handshake(server: &[u8]) -> Handshake {
    let mut s = Session::new();
    s.feed(Side::A, &unhex(RFC_CH), 1);
    s.feed(Side::B, server, 2);
    s.feed(Side::A, &unhex(RFC_CLIENT_FIN), 3);
    s.finish().unwrap()
}

fn rfc_server() -> Vec<u8> {
    let mut v = unhex(RFC_SH);
    v.extend(unhex(RFC_SERVER_FLIGHT));
    v
}

#[test]
fn rfc8448_key_and_iv() {
    let secret = unhex(RFC_S_HS);
    let key = expand_label(Suite::Aes128Gcm, &secret, b"key", 16).unwrap();
    let iv = expand_label(Suite::Aes128Gcm, &secret, b"iv", 12).unwrap();
    assert_eq!(hex::encode(key), "3fce516009c21727d0f2e4e86ee403bc");
    assert_eq!(hex::encode(iv), "5d313eb2671276ee13000b30");
    let c = unhex(RFC_C_HS);
    let key = expand_label(Suite::Aes128Gcm, &c, b"key", 16).unwrap();
    let iv = expand_label(Suite::Aes128Gcm, &c, b"iv", 12).unwrap();
    assert_eq!(hex::encode(key), "dbfaa693d1762c5b666af5d950258d01");
    assert_eq!(hex::encode(iv), "5bd3c71b836e0b76bb73265f");
}

#[test]
fn rfc8448_end_to_end() {
    let mut h = rfc_handshake(&rfc_server());
    assert_eq!(h.visibility, Visibility::Encrypted);
    let flight = h.encrypted_flight.clone().unwrap();
    assert_eq!(flight.server, unhex(RFC_SERVER_FLIGHT));
    assert_eq!(flight.client, unhex(RFC_CLIENT_FIN));
    assert_eq!(h.decrypt(&rfc_keylog(RFC_S_HS)), Decryption::Decrypted);
    assert_eq!(h.visibility, Visibility::Decrypted);
    assert_eq!(h.visibility.as_str(), "decrypted");
    assert_eq!(h.server_chain.len(), 1);
    assert_eq!(sha_hex(&h.server_chain[0]), RFC_LEAF_SHA256);
    assert_eq!(h.cert_verify_scheme, Some(0x0804));
    assert_eq!(h.encrypted_extensions, vec![0x000a, 0x001c, 0x0000]);
    assert!(h.client_chain.is_empty());
    assert!(!h.client_cert_requested);
    assert!(h.encrypted_flight.is_none());
    assert!(h.anomalies.is_empty(), "{:?}", h.anomalies);
    // A second call has nothing left to do.
    assert_eq!(h.decrypt(&rfc_keylog(RFC_S_HS)), Decryption::NotApplicable);
}

#[test]
fn rfc8448_no_keys_then_keys() {
    let mut h = rfc_handshake(&rfc_server());
    assert_eq!(h.decrypt(&KeyLog::new()), Decryption::NoKeys);
    assert_eq!(h.visibility, Visibility::Encrypted);
    assert!(h.encrypted_flight.is_some());
    assert_eq!(h.decrypt(&rfc_keylog(RFC_S_HS)), Decryption::Decrypted);
}

#[test]
fn rfc8448_wrong_key() {
    let mut bad = unhex(RFC_S_HS);
    bad[0] ^= 1;
    let mut h = rfc_handshake(&rfc_server());
    assert_eq!(
        h.decrypt(&rfc_keylog(&hex::encode(&bad))),
        Decryption::WrongKey
    );
    assert!(h.server_chain.is_empty());
    assert_eq!(h.visibility, Visibility::Encrypted);
    assert!(h.anomalies.contains(&Anomaly::KeylogWrongKey));
    assert!(h.encrypted_flight.is_none());
    // A SHA-384-sized secret for a SHA-256 suite is wrong too.
    let mut h = rfc_handshake(&rfc_server());
    let long = "11".repeat(48);
    assert_eq!(h.decrypt(&rfc_keylog(&long)), Decryption::WrongKey);
}

#[test]
fn rfc8448_every_corruption_is_wrong_key() {
    let server = rfc_server();
    let sh_len = unhex(RFC_SH).len();
    // Flip each byte after the record header (whose bytes, the AEAD's
    // additional data, also frame the record).
    for i in sh_len + 5..server.len() {
        let mut s = server.clone();
        s[i] ^= 0x20;
        let mut h = rfc_handshake(&s);
        let d = h.decrypt(&rfc_keylog(RFC_S_HS));
        assert_eq!(d, Decryption::WrongKey, "byte {i}");
        assert!(h.server_chain.is_empty());
    }
}

#[test]
fn rfc8448_every_truncation_no_panic() {
    let server = rfc_server();
    let keys = rfc_keylog(RFC_S_HS);
    for n in 0..server.len() {
        if let Some(mut h) = {
            let mut s = Session::new();
            s.feed(Side::A, &unhex(RFC_CH), 1);
            s.feed(Side::B, &server[..n], 2);
            s.finish()
        } {
            let d = h.decrypt(&keys);
            assert_ne!(d, Decryption::Decrypted, "length {n}");
            assert!(h.server_chain.is_empty());
        }
    }
}

// ---- AEAD known answers.

#[test]
fn chacha20_poly1305_rfc8439_2_8_2() {
    let key = unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    let nonce: [u8; 12] = unhex("070000004041424344454647").try_into().unwrap();
    let aad = unhex("50515253c0c1c2c3c4c5c6c7");
    let plain = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    let mut ct = unhex(
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6\
         3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36\
         92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc\
         3ff4def08e4b7a9de576d26586cec64b6116",
    );
    let tag = unhex("1ae10b594f09e26a7e902ecbd0600691");
    let c = Cipher::new(Suite::ChaCha20Poly1305, &key).unwrap();
    assert!(c.open(&nonce, &aad, &mut ct, &tag));
    assert_eq!(&ct[..], &plain[..]);
    let mut again = plain.to_vec();
    assert_eq!(c.seal(&nonce, &aad, &mut again).unwrap(), tag);
}

#[test]
fn aes256_gcm_nist_test_case_14() {
    let c = Cipher::new(Suite::Aes256Gcm, &[0u8; 32]).unwrap();
    let mut ct = unhex("cea7403d4d606b6e074ec5d3baf39d18");
    let tag = unhex("d0d1c8a799996bf0265b98b5d48ab919");
    assert!(c.open(&[0u8; 12], &[], &mut ct, &tag));
    assert_eq!(ct, vec![0u8; 16]);
    let mut bad = unhex("cea7403d4d606b6e074ec5d3baf39d19");
    assert!(!c.open(&[0u8; 12], &[], &mut bad, &tag));
}

// ---- Synthetic handshakes sealed here.

fn record(ty: u8, payload: &[u8]) -> Vec<u8> {
    let mut r = vec![ty, 3, 3];
    r.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    r.extend_from_slice(payload);
    r
}

fn hs_msg(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![ty];
    m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend_from_slice(body);
    m
}

fn ext(ty: u16, data: &[u8]) -> Vec<u8> {
    let mut e = ty.to_be_bytes().to_vec();
    e.extend_from_slice(&(data.len() as u16).to_be_bytes());
    e.extend_from_slice(data);
    e
}

fn client_hello(random: &[u8; 32]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(random);
    b.push(0);
    b.extend_from_slice(&[0, 10, 0x13, 1, 0x13, 2, 0x13, 3, 0x13, 4, 0x13, 5]);
    b.extend_from_slice(&[1, 0]);
    let exts = ext(0x002b, &[2, 3, 4]);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&exts);
    record(22, &hs_msg(1, &b))
}

fn server_hello(cipher: u16, random: &[u8; 32]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(random);
    b.push(0);
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    let mut exts = ext(0x002b, &[3, 4]);
    exts.extend(ext(0x0033, &[0, 0x1d, 0, 1, 9]));
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&exts);
    record(22, &hs_msg(2, &b))
}

fn certificate13(certs: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in certs {
        list.extend_from_slice(&(c.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(c);
        list.extend_from_slice(&[0, 0]);
    }
    let mut b = vec![0];
    b.extend_from_slice(&(list.len() as u32).to_be_bytes()[1..]);
    b.extend(list);
    hs_msg(11, &b)
}

/// Seals `msgs` into records of at most `chunk` plaintext bytes, with
/// `pad` zero bytes of padding each.
fn seal_stream(p: &mut Protection, msgs: &[u8], chunk: usize, pad: usize) -> Vec<u8> {
    msgs.chunks(chunk)
        .flat_map(|c| p.seal(CT_HANDSHAKE, c, pad))
        .collect()
}

struct Synth {
    client: Vec<Vec<u8>>,
    server: Vec<Vec<u8>>,
    keylog: String,
    server_leaf: Vec<u8>,
    client_leaf: Vec<u8>,
}

fn synth(cipher: u16, mutual: bool, hrr: bool, client_alert: bool) -> Synth {
    let suite = Suite::from_u16(cipher).unwrap();
    let random = [0x42u8; 32];
    let s_secret = vec![0x5a; suite.hash_len()];
    let c_secret = vec![0xc3; suite.hash_len()];
    let mut sp = Protection::new(suite, &s_secret).unwrap();
    let mut cp = Protection::new(suite, &c_secret).unwrap();
    let server_leaf = [0x30, 0x82, 0x07, 0xd0, 0xaa].repeat(400);
    let client_leaf = b"client-cert-der".to_vec();
    let mut flight = hs_msg(
        8,
        &[&[0u8, 9][..], &ext(0x0010, &[0, 3, 2, b'h', b'2'])].concat(),
    );
    if mutual {
        flight.extend(hs_msg(13, &[0, 0, 0]));
    }
    flight.extend(certificate13(&[&server_leaf, b"intermediate"]));
    flight.extend(hs_msg(15, &[0x04, 0x03, 0, 2, 1, 2]));
    flight.extend(hs_msg(20, &vec![0xf1; suite.hash_len()]));
    let mut server = Vec::new();
    let mut client = vec![client_hello(&random)];
    if hrr {
        let mut first = server_hello(cipher, &super::super::hello::HRR_RANDOM);
        first.extend(record(20, &[1]));
        server.push(first);
        client.push([record(20, &[1]), client_hello(&random)].concat());
    }
    let mut s = server_hello(cipher, &[7; 32]);
    s.extend(record(20, &[1]));
    // Messages split across records (600-byte chunks), with padding.
    s.extend(seal_stream(&mut sp, &flight, 600, 7));
    // 0.5-RTT data under other keys: kept, never opened.
    s.extend(record(23, &[0xee; 40]));
    server.push(s);
    let mut c = if hrr { Vec::new() } else { record(20, &[1]) };
    if client_alert {
        c.extend(cp.seal(CT_ALERT, &[2, 42], 0));
    } else {
        if mutual {
            c.extend(cp.seal(CT_HANDSHAKE, &certificate13(&[&client_leaf]), 0));
            c.extend(cp.seal(CT_HANDSHAKE, &hs_msg(15, &[0x08, 0x07, 0, 1, 9]), 0));
        }
        c.extend(cp.seal(CT_HANDSHAKE, &hs_msg(20, &vec![0xf2; suite.hash_len()]), 0));
        c.extend(record(23, &[0xdd; 60]));
    }
    client.push(c);
    let keylog = format!(
        "SERVER_HANDSHAKE_TRAFFIC_SECRET {r} {s}\nCLIENT_HANDSHAKE_TRAFFIC_SECRET {r} {c}\n",
        r = hex::encode(random),
        s = hex::encode(&s_secret),
        c = hex::encode(&c_secret),
    );
    Synth {
        client,
        server,
        keylog,
        server_leaf,
        client_leaf,
    }
}

fn run_synth(x: &Synth, chunk: usize) -> Handshake {
    let mut s = Session::new();
    let n = x.client.len().max(x.server.len());
    for i in 0..n {
        for (side, parts) in [(Side::A, &x.client), (Side::B, &x.server)] {
            if let Some(p) = parts.get(i) {
                for c in p.chunks(chunk) {
                    if s.wants_bytes(side) {
                        s.feed(side, c, i as i64);
                    } else {
                        s.skip(side, c.len() as u64);
                    }
                }
            }
        }
    }
    s.finish().unwrap()
}

fn keys(text: &str) -> KeyLog {
    let mut k = KeyLog::new();
    k.add_text(text.as_bytes());
    k
}

#[test]
fn every_suite_mutual_tls_split_padded() {
    for cipher in [0x1301, 0x1302, 0x1303, 0x1304, 0x1305] {
        for (mutual, hrr) in [(false, false), (true, false), (true, true), (false, true)] {
            let x = synth(cipher, mutual, hrr, false);
            for chunk in [1usize, 13, 100_000] {
                let mut h = run_synth(&x, chunk);
                assert_eq!(h.visibility, Visibility::Encrypted);
                let d = h.decrypt(&keys(&x.keylog));
                let ctx = format!("{cipher:04x} mutual={mutual} hrr={hrr} chunk={chunk}");
                assert_eq!(d, Decryption::Decrypted, "{ctx} {:?}", h.anomalies);
                assert_eq!(h.server_chain.len(), 2, "{ctx}");
                assert_eq!(h.server_chain[0], x.server_leaf, "{ctx}");
                assert_eq!(h.server_hello.as_ref().unwrap().alpn.as_deref(), Some("h2"));
                assert_eq!(h.encrypted_extensions, vec![0x0010]);
                assert_eq!(h.cert_verify_scheme, Some(0x0403));
                assert_eq!(h.client_cert_requested, mutual, "{ctx}");
                assert_eq!(h.hello_retry, hrr);
                if mutual {
                    assert_eq!(h.client_chain, vec![x.client_leaf.clone()], "{ctx}");
                    assert_eq!(h.client_cert_verify_scheme, Some(0x0807));
                } else {
                    assert!(h.client_chain.is_empty());
                }
                assert!(h.anomalies.is_empty(), "{ctx} {:?}", h.anomalies);
            }
        }
    }
}

#[test]
fn client_alert_is_decrypted() {
    for cipher in [0x1301, 0x1305] {
        let x = synth(cipher, false, false, true);
        let mut h = run_synth(&x, 100_000);
        assert_eq!(h.alerts.len(), 1, "{cipher:04x}");
        assert_eq!(h.decrypt(&keys(&x.keylog)), Decryption::Decrypted);
        let a = &h.alerts[0];
        assert_eq!((a.level, a.description), (Some(2), Some(42)));
    }
}

#[test]
fn without_client_secret_server_chain_still_recovered() {
    let x = synth(0x1303, true, false, false);
    let only_server: String = x.keylog.lines().take(1).collect();
    let mut h = run_synth(&x, 100_000);
    assert_eq!(h.decrypt(&keys(&only_server)), Decryption::Decrypted);
    assert_eq!(h.server_chain.len(), 2);
    assert!(h.client_chain.is_empty());
}

#[test]
fn wrong_key_for_each_suite() {
    for cipher in [0x1301, 0x1302, 0x1303, 0x1304, 0x1305] {
        let x = synth(cipher, false, false, false);
        let wrong = x.keylog.replacen("5a5a", "5a5b", 1);
        let mut h = run_synth(&x, 100_000);
        assert_eq!(h.decrypt(&keys(&wrong)), Decryption::WrongKey);
        assert!(h.server_chain.is_empty());
        assert!(h.anomalies.contains(&Anomaly::KeylogWrongKey));
    }
}

#[test]
fn not_retained_when_turned_off() {
    let x = synth(0x1301, true, false, false);
    let mut s = Session::new();
    s.keep_encrypted_flight(false);
    for (side, parts) in [(Side::A, &x.client[..1]), (Side::B, &x.server[..])] {
        for p in parts {
            s.feed(side, p, 0);
        }
    }
    s.feed(Side::A, &x.client[1], 0);
    assert!(!s.wants_bytes(Side::A));
    let mut h = s.finish().unwrap();
    assert!(h.encrypted_flight.is_none());
    assert_eq!(h.decrypt(&keys(&x.keylog)), Decryption::Failed);
    assert!(h.anomalies.contains(&Anomaly::KeylogNoFlight));
}

#[test]
fn synthetic_corruption_and_truncation_no_panic() {
    let x = synth(0x1302, true, false, false);
    let k = keys(&x.keylog);
    let server = &x.server[0];
    for i in (0..server.len()).step_by(7) {
        for mode in 0..2 {
            let mut y = Synth {
                client: x.client.clone(),
                server: x.server.clone(),
                keylog: String::new(),
                server_leaf: Vec::new(),
                client_leaf: Vec::new(),
            };
            if mode == 0 {
                y.server[0][i] ^= 0x55;
            } else {
                y.server[0].truncate(i);
            }
            let mut s = Session::new();
            for (side, parts) in [(Side::A, &y.client), (Side::B, &y.server)] {
                for p in parts {
                    if s.wants_bytes(side) {
                        s.feed(side, p, 0);
                    }
                }
            }
            if let Some(mut h) = s.finish() {
                if h.decrypt(&k) == Decryption::Decrypted {
                    // Only a flip inside a record after the certificate
                    // (or in the unopened 0.5-RTT record) can leave it whole.
                    assert_eq!(h.server_chain[0], x.server_leaf);
                }
            }
        }
    }
}

#[test]
fn garbage_plaintext_no_panic() {
    let suite = Suite::Aes128Gcm;
    let secret = vec![1u8; 32];
    let mut seed = 0x1234_5678u32;
    for round in 0..300 {
        let mut p = Protection::new(suite, &secret).unwrap();
        let mut content = Vec::new();
        for _ in 0..(round % 40) {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            content.push((seed >> 16) as u8);
        }
        if round % 3 == 0 {
            content.insert(0, 11);
        }
        let inner = [CT_HANDSHAKE, CT_ALERT, CT_APP_DATA, 0][round % 4];
        let flight = p.seal(inner, &content, round % 5);
        let o = open_side(suite, &secret, &flight);
        assert!(!o.wrong_key);
        for (_, body) in &o.messages {
            let _ = parse_certificate13(body);
            let _ = parse_encrypted_extensions(body);
        }
    }
}

#[test]
fn retention_is_capped() {
    let x = synth(0x1301, false, false, false);
    let mut s = Session::new();
    s.feed(Side::A, &x.client[0], 0);
    s.feed(Side::B, &x.server[0], 1);
    // Far more encrypted server records than the cap.
    let big = record(23, &vec![0xab; 16_000]);
    for _ in 0..10 {
        s.feed(Side::B, &big, 2);
    }
    // A client flight that never looks like a bare Finished.
    let mut c = record(20, &[1]);
    for _ in 0..20 {
        c.extend(record(23, &[0xcd; 100]));
    }
    s.feed(Side::A, &c, 3);
    assert!(!s.wants_bytes(Side::A));
    let mut h = s.finish().unwrap();
    let f = h.encrypted_flight.clone().unwrap();
    assert!(f.server.len() <= MAX_RETAINED_FLIGHT);
    assert!(f.server_truncated);
    assert_eq!(f.client.len(), MAX_RETAINED_CLIENT_RECORDS * 105);
    assert!(h.anomalies.contains(&Anomaly::Tls13FlightCap));
    // The certificate sits in the kept prefix: still recovered.
    assert_eq!(h.decrypt(&keys(&x.keylog)), Decryption::Decrypted);
    assert_eq!(h.server_chain[0], x.server_leaf);
    // The client's bytes after its first encrypted record still count as
    // application bytes, as when nothing is kept.
    assert_eq!(h.app_bytes_client, 19 * 105);
}

#[test]
fn not_applicable_cases() {
    let mut h = Handshake::default();
    assert_eq!(h.decrypt(&KeyLog::new()), Decryption::NotApplicable);
    h.version = Some(0x0303);
    h.visibility = Visibility::Plain;
    assert_eq!(h.decrypt(&KeyLog::new()), Decryption::NotApplicable);
    h.version = Some(0x0304);
    h.visibility = Visibility::Resumed;
    assert_eq!(h.decrypt(&KeyLog::new()), Decryption::NotApplicable);
    for d in [
        Decryption::NotApplicable,
        Decryption::NoKeys,
        Decryption::WrongKey,
        Decryption::Decrypted,
        Decryption::Failed,
    ] {
        assert!(!d.as_str().is_empty());
    }
}
