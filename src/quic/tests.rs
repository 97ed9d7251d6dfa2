//! QUIC tests: the RFC 9001 and RFC 9369 appendix A vectors (key
//! derivation, header protection, the client and server Initial packets),
//! and connections built from packets sealed here: split and reordered
//! CRYPTO data, Retry, key-log decryption of the Handshake level, and
//! hostile input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use super::crypto::{initial_secrets, seal_long, Keys, Suite, Version};
use super::frames;
use super::packet::{self, Kind, Packet};
use super::{Datagram, Shard};
use crate::flow::FlowLimits;
type FlowRecord = crate::flow::FlowRecord<crate::tls::Handshake>;
use crate::tls::{KeyLog, Visibility};

fn h(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(clean).unwrap()
}

/// RFC 9001 appendix A: the client's chosen Destination Connection ID.
const DCID: &str = "8394c8f03e515708";

/// RFC 9001 A.2 and RFC 9369 A.2: the client's CRYPTO frame (a ClientHello
/// for example.com), padded to 1162 bytes in the packet.
const A2_CRYPTO_FRAME: &str = "
060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868
04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578
616d706c652e636f6dff01000100000a00080006001d00170018001000070005
04616c706e000500050100000000003300260024001d00209370b2c9caa47fba
baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400
0d0010000e0403050306030203080408050806002d00020101001c0002400100
3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000
75300901100f088394c8f03e51570806048000ffff";

/// RFC 9001 A.2: the protected client Initial (1200 bytes).
const V1_A2_PACKET: &str = "
c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11
d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399
1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c
8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212
30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5
457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208
4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec
4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3
485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db
059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c
7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8
9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556
be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74
68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a
c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00
f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632
291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964
25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd
14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff
ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198
e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd
c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73
203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f
cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e
fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade
a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047
90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2
162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4
40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0
6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e
8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0
be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400
54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab
760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9
f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4
056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064
7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241
e221af44860018ab0856972e194cd934";

/// RFC 9001 A.3 and RFC 9369 A.3: the server's Initial payload (ACK and
/// a CRYPTO frame with the ServerHello).
const A3_PAYLOAD: &str = "
02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739
88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94
0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00
020304";

/// RFC 9001 A.3: the protected server Initial.
const V1_A3_PACKET: &str = "
cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a
5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3
dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84
022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4
2158407dd074ee";

/// RFC 9001 A.4: the Retry answering A.2 (new connection id f067a5502a4262b5).
const V1_A4_RETRY: &str =
    "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba";

/// RFC 9369 A.2: the protected v2 client Initial.
const V2_A2_PACKET: &str = "
d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485
dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04
9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d
250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a
12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500
cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68
18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33
12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3
d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd
6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520
bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045
636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f
ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12
16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5
4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4
fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b
8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7
14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9
9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91
abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd
80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db
848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18
d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15
c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc
7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61
f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710
10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b
3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e
06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce
8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1
34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1
e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd
5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3
8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89
d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53
6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19
9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b
a18b2faa745b6fe189cf772a9f84cbfc";

/// RFC 9369 A.3: the protected v2 server Initial.
const V2_A3_PACKET: &str = "
dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698
baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17
f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2
c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8
4bed8521e2e140";

/// The A.2 ClientHello's random: the key log's key for these tests.
const A2_RANDOM: &str = "ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c";

fn long(p: &[u8]) -> packet::Long<'_> {
    match packet::split(p).0.first() {
        Some(Packet::Long(l)) => *l,
        other => panic!("not a long header packet: {other:?}"),
    }
}

/// The client's and the server's Initial secrets of `v` for the appendix
/// DCID, and (key, iv, hp) of each side's keys, as hex.
fn check_initial_keys(v: Version, secrets: [&str; 2], client: [&str; 3], server: [&str; 3]) {
    let (c, s) = initial_secrets(v, &h(DCID)).unwrap();
    assert_eq!([hex::encode(c), hex::encode(s)], secrets, "{v:?}");
    let (ck, sk) = Keys::initial(v, &h(DCID)).unwrap();
    for (k, want) in [(ck, client), (sk, server)] {
        let got = [
            hex::encode(&k.raw.0),
            hex::encode(k.iv()),
            hex::encode(&k.raw.1),
        ];
        assert_eq!(got, want, "{v:?}");
    }
}

#[test]
fn rfc9001_a1_initial_keys() {
    check_initial_keys(
        Version::V1,
        [
            "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
            "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
        ],
        [
            "1f369613dd76d5467730efcbe3b1a22d",
            "fa044b2f42a3fd3b46fb255c",
            "9f50449e04a0e810283a1e9933adedd2",
        ],
        [
            "cf3a5331653c364c88f0f379b6067e37",
            "0ac1493ca1905853b0bba03e",
            "c206b8d9b9f0f37644430b490eeaa314",
        ],
    );
}

#[test]
fn rfc9369_a1_initial_keys() {
    check_initial_keys(
        Version::V2,
        [
            "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
            "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1",
        ],
        [
            "8b1a0bc121284290a29e0971b5cd045d",
            "91f73e2351d8fa91660e909f",
            "45b95e15235d6f45a6b19cbcb0294ba9",
        ],
        [
            "82db637861d55e1d011f19ea71d5d2a7",
            "dd13c276499c0249d3310652",
            "edf6d05c83121201b436e16877593c3a",
        ],
    );
}

#[test]
fn header_protection_masks_from_both_appendices() {
    let (c1, _) = Keys::initial(Version::V1, &h(DCID)).unwrap();
    let sample: [u8; 16] = h("d1b1c98dd7689fb8ec11d242b123dc9b").try_into().unwrap();
    assert_eq!(hex::encode(c1.mask(&sample)), "437b9aec36");
    let (c2, s2) = Keys::initial(Version::V2, &h(DCID)).unwrap();
    let sample: [u8; 16] = h("ffe67b6abcdb4298b485dd04de806071").try_into().unwrap();
    assert_eq!(hex::encode(c2.mask(&sample)), "94a0c95e80");
    let sample: [u8; 16] = h("6f05d8a4398c47089698baeea26b91eb").try_into().unwrap();
    assert_eq!(hex::encode(s2.mask(&sample)), "4dd92e91ea");
}

#[test]
fn rfc9369_a5_chacha20_keys_and_mask() {
    let secret = h("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b");
    let k = Keys::from_secret(Version::V2, Suite::ChaCha20Poly1305, &secret).unwrap();
    assert_eq!(
        hex::encode(&k.raw.0),
        "3bfcddd72bcf02541d7fa0dd1f5f9eeea817e09a6963a0e6c7df0f9a1bab90f2"
    );
    assert_eq!(hex::encode(k.iv()), "a6b5bc6ab7dafce30ffff5dd");
    assert_eq!(
        hex::encode(&k.raw.1),
        "d659760d2ba434a226fd37b35c69e2da8211d10c4f12538787d65645d5d1b8e2"
    );
    let sample: [u8; 16] = h("e7b6b932bc27d786f4bc2bb20f2162ba").try_into().unwrap();
    assert_eq!(hex::encode(k.mask(&sample)), "97580e32bf");
    // The whole A.5 packet: header 4200bff4 (packet number 654360564 in
    // three bytes), payload a single PING.
    let protected = h("5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba");
    let mask = k.mask(&sample);
    let mut hdr = protected[..4].to_vec();
    hdr[0] ^= mask[0] & 0x1f;
    for i in 0..3 {
        hdr[1 + i] ^= mask[1 + i];
    }
    assert_eq!(hex::encode(&hdr), "4200bff4");
    let mut body = protected[4..protected.len() - 16].to_vec();
    let tag = &protected[protected.len() - 16..];
    assert!(k.open(654_360_564, &hdr, &mut body, tag));
    assert_eq!(body, [1]);
}

fn check_client_initial(packet_hex: &str, version: Version) {
    let p = h(packet_hex);
    assert_eq!(p.len(), 1200);
    let l = long(&p);
    assert_eq!(l.version, version);
    assert_eq!(l.kind, Kind::Initial);
    assert_eq!(hex::encode(l.dcid), DCID);
    let (c, _) = Keys::initial(version, l.dcid).unwrap();
    let (pn, payload) = packet::open(&l, &c, None).unwrap();
    assert_eq!(pn, 2);
    assert_eq!(payload.len(), 1162);
    let frame = h(A2_CRYPTO_FRAME);
    assert_eq!(&payload[..frame.len()], &frame[..]);
    assert!(payload[frame.len()..].iter().all(|b| *b == 0));
    let f = frames::parse(&payload);
    assert!(!f.malformed);
    assert_eq!(f.crypto.len(), 1);
    // Any single flipped byte fails the tag (or the header parse).
    for i in [0usize, 20, 21, 100, 1199] {
        let mut bad = p.clone();
        bad[i] ^= 0x01;
        if let Some(Packet::Long(l)) = packet::split(&bad).0.first() {
            assert!(packet::open(l, &c, None).is_none(), "flip at {i}");
        }
    }
}

#[test]
fn rfc9001_a2_client_initial_opens() {
    check_client_initial(V1_A2_PACKET, Version::V1);
}

#[test]
fn rfc9369_a2_client_initial_opens() {
    check_client_initial(V2_A2_PACKET, Version::V2);
}

/// The server Initial `hexp` of version `v` opens under the appendix DCID's
/// keys as packet 1 with the payload `payload_hex`.
fn check_server_initial(hexp: &str, v: Version, payload_hex: &str) {
    let p = h(hexp);
    let l = long(&p);
    assert_eq!((l.version, l.kind), (v, Kind::Initial));
    let (_, s) = Keys::initial(v, &h(DCID)).unwrap();
    let (pn, payload) = packet::open(&l, &s, None).unwrap();
    assert_eq!(pn, 1, "{v:?}");
    assert_eq!(payload, h(payload_hex), "{v:?}");
}

#[test]
fn rfc_a3_server_initials_open() {
    check_server_initial(V1_A3_PACKET, Version::V1, A3_PAYLOAD);
    check_server_initial(V2_A3_PACKET, Version::V2, A3_PAYLOAD);
}

#[test]
fn rfc9001_a4_retry_parses() {
    let p = h(V1_A4_RETRY);
    let l = long(&p);
    assert_eq!(l.kind, Kind::Retry);
    assert_eq!(hex::encode(l.scid), "f067a5502a4262b5");
}

// --- connections through a shard -------------------------------------

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

const CLIENT: &str = "192.0.2.1:50000";
const SERVER: &str = "198.51.100.7:443";

fn dgram(payload: &[u8], from_client: bool, ts: i64, frame: u64) -> Datagram<'_> {
    let (src, dst) = if from_client {
        (addr(CLIENT), addr(SERVER))
    } else {
        (addr(SERVER), addr(CLIENT))
    };
    Datagram {
        src,
        dst,
        ttl: 64,
        payload,
        ts_us: ts,
        file: 0,
        frame,
    }
}

fn run(datagrams: &[(Vec<u8>, bool)], keys: &KeyLog) -> Vec<FlowRecord> {
    let mut shard = Shard::with_limits(FlowLimits::default());
    for (i, (p, c)) in datagrams.iter().enumerate() {
        shard.push(&dgram(p, *c, 1_000_000 + i as i64, i as u64), keys);
    }
    shard.finish_all(keys);
    shard.finished
}

fn crypto_frame(offset: u64, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x06];
    f.extend_from_slice(&((offset as u32) | 0x8000_0000).to_be_bytes());
    f.extend_from_slice(&((data.len() as u32) | 0x8000_0000).to_be_bytes());
    f.extend_from_slice(data);
    f
}

/// The A.2 ClientHello message (the CRYPTO frame's data).
fn a2_client_hello() -> Vec<u8> {
    h(A2_CRYPTO_FRAME)[4..].to_vec()
}

/// The A.3 ServerHello message.
fn a3_server_hello() -> Vec<u8> {
    h(A3_PAYLOAD)[9..].to_vec()
}

fn only_handshake(recs: &[FlowRecord]) -> &crate::tls::Handshake {
    assert_eq!(recs.len(), 1, "{recs:?}");
    recs[0].handshake.as_ref().expect("handshake")
}

/// One connection whose Initials carried the appendix hellos: SNI
/// example.com, a QUIC JA4, TLS_AES_128_GCM_SHA256, no anomaly. `what`
/// names the case in a failure.
fn check_appendix_hellos(recs: &[FlowRecord], what: &str) {
    let hs = only_handshake(recs);
    let ch = hs.client_hello.as_ref().unwrap();
    assert_eq!(ch.sni.as_deref(), Some("example.com"), "{what}");
    assert!(
        hs.fingerprints.ja4.as_deref().unwrap().starts_with("q13d"),
        "{what}"
    );
    assert_eq!(hs.cipher, Some(0x1301), "{what}");
    assert!(
        recs[0].anomalies.is_empty(),
        "{what} {:?}",
        recs[0].anomalies
    );
}

#[test]
fn rfc_client_and_server_initials_make_one_quic_connection() {
    for (c, s, v) in [
        (V1_A2_PACKET, V1_A3_PACKET, "v1"),
        (V2_A2_PACKET, V2_A3_PACKET, "v2"),
    ] {
        let recs = run(&[(h(c), true), (h(s), false)], &KeyLog::new());
        check_appendix_hellos(&recs, v);
        let hs = only_handshake(&recs);
        assert_eq!(hs.version, Some(0x0304));
        assert!(hs.fingerprints.ja3s.is_some());
        assert_eq!(hs.visibility, Visibility::Encrypted);
        assert_eq!(recs[0].transport, "quic");
        assert_eq!(recs[0].client, addr(CLIENT));
        assert_eq!(recs[0].decryption, Some("no_keys"));
    }
}

#[test]
fn client_hello_split_over_initials_out_of_order_is_whole() {
    let (c, _) = Keys::initial(Version::V1, &h(DCID)).unwrap();
    let ch = a2_client_hello();
    let (a, b) = ch.split_at(100);
    // Second half first, in a packet with a PING; first half later.
    let mut p2 = vec![0x01];
    p2.extend(crypto_frame(100, b));
    let pkt2 = seal_long(1, 0, &h(DCID), &[], Some(&[]), 0, &p2, &c);
    let pkt1 = seal_long(1, 0, &h(DCID), &[], Some(&[]), 1, &crypto_frame(0, a), &c);
    // The first datagram must open for a connection to start: the second
    // half opens as well, it only carries later stream bytes.
    let recs = run(
        &[(pkt2, true), (pkt1, true), (h(V1_A3_PACKET), false)],
        &KeyLog::new(),
    );
    let hs = only_handshake(&recs);
    assert_eq!(
        hs.client_hello.as_ref().unwrap().sni.as_deref(),
        Some("example.com")
    );
}

#[test]
fn coalesced_initial_and_handshake_with_keylog_recover_the_certificate() {
    let (_, s) = Keys::initial(Version::V1, &h(DCID)).unwrap();
    let scid = h("f067a5502a4262b5");
    let server_secret = [0x11u8; 32];
    let client_secret = [0x22u8; 32];
    let mut keys = KeyLog::new();
    let text = format!(
        "SERVER_HANDSHAKE_TRAFFIC_SECRET {A2_RANDOM} {}\nCLIENT_HANDSHAKE_TRAFFIC_SECRET {A2_RANDOM} {}\n",
        hex::encode(server_secret),
        hex::encode(client_secret)
    );
    assert_eq!(keys.add_text(text.as_bytes()).accepted, 2);
    let sk = Keys::from_secret(Version::V1, Suite::Aes128Gcm, &server_secret).unwrap();
    let ck = Keys::from_secret(Version::V1, Suite::Aes128Gcm, &client_secret).unwrap();
    // Server flight: EncryptedExtensions (ALPN h3), Certificate (one
    // "DER"), CertificateVerify, Finished, split over two packets.
    let mut flight = vec![8, 0, 0, 11, 0, 9, 0, 0x10, 0, 5, 0, 3, 2, b'h', b'3'];
    let der = b"not really DER, but a certificate entry".to_vec();
    let mut entry = vec![0, 0, der.len() as u8];
    entry.extend_from_slice(&der);
    entry.extend_from_slice(&[0, 0]);
    let mut cert = vec![0, 0, 0, entry.len() as u8];
    cert.extend_from_slice(&entry);
    flight.extend_from_slice(&[11, 0, 0, cert.len() as u8]);
    flight.extend_from_slice(&cert);
    flight.extend_from_slice(&[15, 0, 0, 4, 0x08, 0x04, 0, 0]);
    flight.extend_from_slice(&[20, 0, 0, 32]);
    flight.extend_from_slice(&[0xaa; 32]);
    let (f1, f2) = flight.split_at(30);
    let hs1 = seal_long(1, 2, &[], &scid, None, 0, &crypto_frame(0, f1), &sk);
    let hs2 = seal_long(1, 2, &[], &scid, None, 1, &crypto_frame(30, f2), &sk);
    // Server datagram: its Initial (A.3 payload, resealed) coalesced with
    // the first Handshake packet.
    let mut d1 = seal_long(1, 0, &[], &scid, Some(&[]), 1, &h(A3_PAYLOAD), &s);
    d1.extend_from_slice(&hs1);
    let client_fin = {
        let mut m = vec![20, 0, 0, 32];
        m.extend_from_slice(&[0xbb; 32]);
        seal_long(1, 2, &scid, &[], None, 0, &crypto_frame(0, &m), &ck)
    };
    let recs = run(
        &[
            (h(V1_A2_PACKET), true),
            (d1, false),
            (hs2, false),
            (client_fin, true),
            (vec![0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9], true),
        ],
        &keys,
    );
    let hs = only_handshake(&recs);
    assert_eq!(recs[0].decryption, Some("decrypted"), "{:?}", hs.anomalies);
    assert_eq!(hs.visibility, Visibility::Decrypted);
    assert_eq!(hs.server_chain, vec![der]);
    assert_eq!(hs.cert_verify_scheme, Some(0x0804));
    assert_eq!(
        hs.server_hello.as_ref().unwrap().alpn.as_deref(),
        Some("h3")
    );
    assert_eq!(hs.app_bytes_client, 10);
    assert!(hs.server_flight_bytes > 0);

    // The wrong secret: the first server Handshake packet does not open.
    let mut wrong = KeyLog::new();
    wrong.add_text(
        format!(
            "SERVER_HANDSHAKE_TRAFFIC_SECRET {A2_RANDOM} {}\n",
            hex::encode([0x33u8; 32])
        )
        .as_bytes(),
    );
    let (_, s) = Keys::initial(Version::V1, &h(DCID)).unwrap();
    let mut d1 = seal_long(1, 0, &[], &scid, Some(&[]), 1, &h(A3_PAYLOAD), &s);
    d1.extend_from_slice(&seal_long(
        1,
        2,
        &[],
        &scid,
        None,
        0,
        &crypto_frame(0, f1),
        &sk,
    ));
    let recs = run(&[(h(V1_A2_PACKET), true), (d1, false)], &wrong);
    assert_eq!(recs[0].decryption, Some("wrong_key"));
}

#[test]
fn retry_continues_the_connection_under_the_new_dcid() {
    let new_cid = h("f067a5502a4262b5");
    let (c2, s2) = Keys::initial(Version::V1, &new_cid).unwrap();
    let ch = a2_client_hello();
    let again = seal_long(
        1,
        0,
        &new_cid,
        &[],
        Some(b"token"),
        3,
        &crypto_frame(0, &ch),
        &c2,
    );
    let sh = seal_long(
        1,
        0,
        &[],
        &h("0102030405060708"),
        Some(&[]),
        0,
        &crypto_frame(0, &a3_server_hello()),
        &s2,
    );
    let recs = run(
        &[
            (h(V1_A2_PACKET), true),
            (h(V1_A4_RETRY), false),
            (again.clone(), true),
            (sh, false),
        ],
        &KeyLog::new(),
    );
    let hs = only_handshake(&recs);
    assert!(hs.server_hello.is_some());
    assert!(recs[0]
        .anomalies
        .contains(&crate::error::Anomaly::QuicRetry));
    // Without the Retry the second Initial is another connection.
    let recs = run(&[(h(V1_A2_PACKET), true), (again, true)], &KeyLog::new());
    assert_eq!(recs.len(), 2);
}

#[test]
fn non_quic_udp_and_server_first_start_nothing() {
    let recs = run(
        &[
            (vec![0x12, 0x34, 1, 0, 0, 1], true),
            (h(V1_A3_PACKET), false),
            (vec![0x80; 40], true),
            (vec![], true),
        ],
        &KeyLog::new(),
    );
    assert!(recs.is_empty());
}

#[test]
fn every_truncation_and_flip_of_a_handshake_is_harmless() {
    let c = h(V1_A2_PACKET);
    let s = h(V1_A3_PACKET);
    let keys = KeyLog::new();
    for n in (0..c.len()).step_by(7) {
        let _ = run(&[(c[..n].to_vec(), true), (s.clone(), false)], &keys);
    }
    for n in 0..s.len() {
        let _ = run(&[(c.clone(), true), (s[..n].to_vec(), false)], &keys);
        let mut f = s.clone();
        f[n] ^= 0xff;
        let _ = run(&[(c.clone(), true), (f, false)], &keys);
    }
    // Random bytes behind a valid long header prefix.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200 {
        let mut d = c[..30].to_vec();
        for _ in 0..64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            d.push(x as u8);
        }
        let _ = run(&[(c.clone(), true), (d, true)], &keys);
    }
}

#[test]
fn live_connections_are_capped() {
    let mut shard = Shard::with_limits(FlowLimits {
        max_flows_per_shard: 4,
        ..FlowLimits::default()
    });
    let p = h(V1_A2_PACKET);
    let keys = KeyLog::new();
    for port in 0..20u16 {
        let mut d = dgram(&p, true, i64::from(port), u64::from(port));
        d.src = SocketAddr::new(d.src.ip(), 40000 + port);
        shard.push(&d, &keys);
        assert!(shard.live() <= 4);
    }
    shard.finish_all(&keys);
    assert_eq!(shard.finished.len(), 20);
    assert!(shard
        .finished
        .iter()
        .any(|r| r.anomalies.contains(&crate::error::Anomaly::FlowEvicted)));
}

// --- draft and mvfst versions ------------------------------------------

/// Server Initial payload of the draft appendices A.3 (an ACK and a CRYPTO
/// frame in the frame numbering of older drafts; only the bytes matter).
const DRAFT_A3_PAYLOAD: &str = "
0d0000000018410a020000560303eefce7f7b37ba1d1632e96677825ddf73988
cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c940d
89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b0002
0304";

/// draft-ietf-quic-tls-23 appendix A.3: the protected server Initial
/// (version 0xff000017), keys from the draft-23 salt and DCID 8394c8f03e515708.
const DRAFT23_A3_PACKET: &str = "
c9ff0000170008f067a5502a4262b5004074168bf22b7002596f99ae67abf65a
5852f54f58c37c808682e2e40492d8a3899fb04fc0afe9aabc8767b18a0aa493
537426373b48d502214dd856d63b78cee37bc664b3fe86d487ac7a77c53038a3
cd32f0b5004d9f5754c4f7f2d1f35cf3f7116351c92b9cf9bb6d091ddfc8b32d
432348a2c413";

/// draft-ietf-quic-tls-29 appendix A.3 (as kept in quic-go's and aioquic's
/// tests): the protected server Initial, version 0xff00001d.
const DRAFT29_A3_PACKET: &str = "
caff00001d0008f067a5502a4262b5004074aaf2f007823a5d3a1207c86ee491
32824f0465243d082d868b107a38092bc80528664cbf9456ebf27673fb5fa506
1ab573c9f001b81da028a00d52ab00b15bebaa70640e106cf2acd043e9c6b441
1c0a79637134d8993701fe779e58c2fe753d14b0564021565ea92e57bc6faf56
dfc7a40870e6";

#[test]
fn draft_and_mvfst_versions_map_to_their_salt_family() {
    for (wire, v) in [
        (0xff00_0016, Some(Version::Draft22)),
        (0xface_b001, Some(Version::Draft22)),
        (0xff00_0017, Some(Version::Draft23)),
        (0xff00_001b, Some(Version::Draft23)),
        (0xff00_001c, Some(Version::Draft23)),
        (0xface_b002, Some(Version::Draft23)),
        (0xface_b00e, Some(Version::Draft23)),
        (0xff00_001d, Some(Version::Draft29)),
        (0xff00_0020, Some(Version::Draft29)),
        (0xff00_0021, Some(Version::V1)),
        (0xff00_0022, Some(Version::V1)),
        (0xff00_0015, None),
        (0xff00_0023, None),
        (0xface_b00f, None),
        (0x5430_3530, Some(Version::T050)),
        (0x5430_3531, Some(Version::T051)),
        (0x5430_3439, None), // T049: gQUIC crypto, not TLS Initials
        (0x5130_3436, None), // Q046
        (0x5130_3530, None), // Q050: not TLS
    ] {
        assert_eq!(Version::from_wire(wire), v, "{wire:#x}");
    }
}

#[test]
fn draft22_initial_secrets() {
    // The salt of draft-ietf-quic-tls-22 §5.2; that draft's appendix A
    // still shows keys from the draft-17 salt, so these values were
    // computed with Python's hmac/hashlib (HKDF of RFC 5869) instead.
    let (c, s) = initial_secrets(Version::Draft22, &h(DCID)).unwrap();
    assert_eq!(
        [hex::encode(c), hex::encode(s)],
        [
            "7712ead935b044cb18e993a6f7a8c71119d2439ffdd3b6151ad7f9d9e77e2fb9",
            "dc33b018d3bf848d1a35d9339e2a70494e88e82504deb1a1bac5585d48214956",
        ]
    );
    let (ck, _) = Keys::initial(Version::Draft22, &h(DCID)).unwrap();
    let got = [
        hex::encode(&ck.raw.0),
        hex::encode(ck.iv()),
        hex::encode(&ck.raw.1),
    ];
    assert_eq!(
        got,
        [
            "07863d9c083786bc86766ce0d02bf93f",
            "fb33da41a8f297d482df670e",
            "48dbcf44e335508f7f23fb2c3790a37c",
        ]
    );
}

#[test]
fn draft23_and_draft29_a3_server_initials_open() {
    for (hexp, v) in [
        (DRAFT23_A3_PACKET, Version::Draft23),
        (DRAFT29_A3_PACKET, Version::Draft29),
    ] {
        check_server_initial(hexp, v, DRAFT_A3_PAYLOAD);
        // The v1 salt does not open them: the version picks the salt.
        let p = h(hexp);
        let (_, s1) = Keys::initial(Version::V1, &h(DCID)).unwrap();
        assert!(packet::open(&long(&p), &s1, None).is_none());
    }
}

/// A client Initial carrying the RFC 9001 A.2 ClientHello, sealed under the
/// Initial keys of `wire`, and the matching server Initial with the A.3
/// ServerHello.
fn sealed_pair(wire: u32) -> (Vec<u8>, Vec<u8>) {
    let v = Version::from_wire(wire).unwrap();
    let (c, s) = Keys::initial(v, &h(DCID)).unwrap();
    let mut payload = h(A2_CRYPTO_FRAME);
    payload.resize(1162, 0);
    let client = seal_long(wire, 0, &h(DCID), &[], Some(&[]), 2, &payload, &c);
    let scid = h("f067a5502a4262b5");
    let sh = crypto_frame(0, &a3_server_hello());
    let server = seal_long(wire, 0, &[], &scid, Some(&[]), 1, &sh, &s);
    (client, server)
}

#[test]
fn every_draft_and_mvfst_family_makes_a_connection() {
    for wire in [
        0xff00_0016u32,
        0xface_b001,
        0xff00_0017,
        0xff00_001b,
        0xface_b002,
        0xface_b00e,
        0xff00_001d,
        0xff00_0020,
        0xff00_0022,
    ] {
        let (c, s) = sealed_pair(wire);
        let recs = run(&[(c, true), (s, false)], &KeyLog::new());
        check_appendix_hellos(&recs, &format!("{wire:#x}"));
    }
}

#[test]
fn a_draft_initial_under_the_wrong_salt_starts_nothing() {
    // Sealed with draft-29 keys but labelled draft 23: no connection.
    let (c, _) = Keys::initial(Version::Draft29, &h(DCID)).unwrap();
    let mut payload = h(A2_CRYPTO_FRAME);
    payload.resize(1162, 0);
    let p = seal_long(0xff00_0017, 0, &h(DCID), &[], Some(&[]), 2, &payload, &c);
    assert!(run(&[(p, true)], &KeyLog::new()).is_empty());
}

#[test]
fn every_truncation_of_a_draft_initial_is_harmless() {
    let (c, _) = sealed_pair(0xface_b002);
    for n in 0..c.len() {
        let _ = packet::split(&c[..n]);
        let _ = run(&[(c[..n].to_vec(), true)], &KeyLog::new());
    }
}

/// Issue 30: Google's T050/T051 put TLS in gQUIC CRYPTO frames (type 0x08)
/// inside IETF-style Initials sealed with their own salts; a server Initial
/// may open with a gQUIC ACK frame.
#[test]
fn issue_30_gquic_t050_t051_initials_make_a_connection() {
    for wire in [0x5430_3530u32, 0x5430_3531] {
        let v = Version::from_wire(wire).unwrap();
        let (c, s) = Keys::initial(v, &h(DCID)).unwrap();
        let mut payload = h(A2_CRYPTO_FRAME);
        payload[0] = 0x08;
        payload.resize(1162, 0);
        let client = seal_long(wire, 0, &h(DCID), &[], Some(&[]), 1, &payload, &c);
        let mut sh = vec![0x40, 0x01, 0x00, 0x00, 0x01, 0x00];
        let mut frame = crypto_frame(0, &a3_server_hello());
        frame[0] = 0x08;
        sh.extend_from_slice(&frame);
        let scid = h("f067a5502a4262b5");
        let server = seal_long(wire, 0, &[], &scid, Some(&[]), 1, &sh, &s);
        let recs = run(&[(client, true), (server, false)], &KeyLog::new());
        check_appendix_hellos(&recs, &format!("{wire:#x}"));
        // The IETF frame walk does not read gQUIC CRYPTO frames.
        assert!(frames::parse(&payload).crypto.is_empty());
        assert_eq!(frames::parse_gquic(&payload).crypto.len(), 1);
    }
}

#[test]
fn gquic_ack_frames_are_sized_and_bounded() {
    // 0x40: 1-byte largest, delay, 1-byte first block, no timestamps.
    assert!(!frames::parse_gquic(&[0x40, 1, 0, 0, 1, 0]).malformed);
    // 0x65: several blocks (2), 2-byte largest, 2-byte blocks, 1 timestamp.
    let ack = [
        0x65, 0, 9, 0, 0, 2, 0, 1, 3, 0, 2, 4, 0, 1, 1, 1, 0, 0, 0, 0,
    ];
    let f = frames::parse_gquic(&ack);
    assert!(!f.malformed, "{f:?}");
    for n in 0..ack.len() {
        let _ = frames::parse_gquic(&ack[..n]);
    }
}
