//! Groups of connections that the detectors can judge one group at a time,
//! for `certsift analyze` over more connections than memory holds.
//!
//! In: every handshake row once, in table order ([`Grouper::push`]), then the
//! merged certificate rows ([`Grouper::finish`]). Out: a group number for
//! every row, at most `max_groups` groups of about `per_group` rows, and the
//! two facts the detectors take from the whole run ([`Globals`]).
//!
//! A finding reads the connections of one name, of one leaf, of the leaves of
//! one issuer (forging issuer, inspection product) or of one public key (key
//! reuse). Each name is joined with every leaf it was served, and the leaves
//! of one key are joined; the leaves of one issuer are joined when the issuer
//! shows a sign that the forging-issuer detector would weigh (a leaf minted at
//! first use, leaves sharing keys, a CA's key on a leaf, an inspection
//! product's name, a chain that did not verify). The connected parts of that graph go whole into groups,
//! so each detector sees in its group every connection it would see in one
//! pass over everything, and the findings of the groups, put together, are
//! those of one pass. The signs are judged generously (any leaf, not the
//! detector's thresholds): a public CA that one of its leaves makes look
//! suspect only makes a part larger, never a finding different.
//!
//! Memory: four bytes per row, one entry per distinct name and leaf, and the
//! certificate rows. Left out: a part larger than `per_group` (one name
//! with millions of connections) is one group of its own.

use std::collections::{BinaryHeap, HashMap, HashSet};

use super::{key_of, match_product, minted_at_age, on_ca_key, Thresholds};
use crate::rows::{CertRow, HandshakeRow};

/// What the detectors take from every connection of the run, not only from
/// those of their group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Globals {
    /// Some chain of the run led to a trusted root.
    pub any_trusted: bool,
    /// The rows carry application-data byte counts.
    pub app_bytes_counted: bool,
}

/// No node: a row with neither a name nor a leaf.
const NONE: u32 = u32::MAX;

/// Collects the graph of names and leaves, one row at a time.
#[derive(Debug, Default)]
pub struct Grouper {
    names: HashMap<Box<str>, u32>,
    leaves: HashMap<Box<str>, u32>,
    /// Union-find parent of each node.
    parent: Vec<u32>,
    /// Per node: the earliest connection start that carried it as leaf.
    first_ts: Vec<i64>,
    /// Per node: a chain that carried it as leaf names an inspection product.
    chain_product: Vec<bool>,
    /// Per node: a chain that carried it as leaf did not verify (an issuer
    /// unknown at the time minting for many names is a forging sign).
    untrusted: Vec<bool>,
    /// Per row: its node (name, else leaf, else [`NONE`]); group number
    /// after [`Grouper::finish`].
    rows: Vec<u32>,
    /// Certificates whose subject or issuer names an inspection product.
    product_certs: HashSet<String>,
    globals: Globals,
}

/// The groups of a run.
#[derive(Debug)]
pub struct Grouping {
    /// Group of each row, in the order the rows were pushed.
    pub row_group: Vec<u32>,
    /// Number of groups.
    pub groups: u32,
    /// Rows of the largest group.
    pub largest: u64,
    /// The whole run's facts.
    pub globals: Globals,
}

impl Grouper {
    /// A grouper that knows the run's certificates (for the inspection
    /// products that chains name).
    pub fn new<'c>(certs: impl IntoIterator<Item = &'c CertRow>) -> Self {
        Grouper {
            product_certs: certs
                .into_iter()
                .filter(|c| {
                    match_product(&c.subject).is_some() || match_product(&c.issuer).is_some()
                })
                .map(|c| c.sha256.clone())
                .collect(),
            ..Grouper::default()
        }
    }

    fn node(&mut self, leaf: bool, key: &str) -> u32 {
        let map = if leaf {
            &mut self.leaves
        } else {
            &mut self.names
        };
        if let Some(&n) = map.get(key) {
            return n;
        }
        let n = u32::try_from(self.parent.len()).unwrap_or(NONE - 1);
        map.insert(key.into(), n);
        self.parent.push(n);
        self.first_ts.push(i64::MAX);
        self.chain_product.push(false);
        self.untrusted.push(false);
        n
    }

    fn find(&mut self, mut n: u32) -> u32 {
        let mut root = n;
        while self.parent[root as usize] != root {
            root = self.parent[root as usize];
        }
        while self.parent[n as usize] != root {
            let next = self.parent[n as usize];
            self.parent[n as usize] = root;
            n = next;
        }
        root
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // the smaller id stays root: deterministic whatever the order
            let (keep, join) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[join as usize] = keep;
        }
    }

    /// Takes one handshake row (in the order the groups will be read back).
    pub fn push(&mut self, h: &HandshakeRow) {
        self.globals.any_trusted |= h.chain_trusted == Some(true);
        self.globals.app_bytes_counted |= h.app_bytes_client > 0 || h.app_bytes_server > 0;
        let name = key_of(
            super::ech_accepted(h),
            h.sni.as_deref(),
            h.connect_target.as_deref(),
            &h.server_ip,
            h.server_port,
        )
        .map(|k| self.node(false, &k));
        let leaf = h.leaf_sha256.as_deref().map(|l| {
            let n = self.node(true, l);
            let i = n as usize;
            self.first_ts[i] = self.first_ts[i].min(h.ts_start);
            self.untrusted[i] |= h.chain_trusted == Some(false);
            if !self.chain_product[i] {
                self.chain_product[i] = h
                    .cert_chain_sha256
                    .iter()
                    .skip(1)
                    .any(|s| self.product_certs.contains(s));
            }
            n
        });
        if let (Some(a), Some(b)) = (name, leaf) {
            self.union(a, b);
        }
        self.rows.push(name.or(leaf).unwrap_or(NONE));
    }

    /// Joins the leaves the cross-name detectors read together, then packs
    /// the connected parts into at most `max_groups` groups, largest part
    /// first into the emptiest group.
    pub fn finish(
        mut self,
        certs: &HashMap<&str, &CertRow>,
        cfg: &Thresholds,
        per_group: u64,
        max_groups: u32,
    ) -> Grouping {
        let ca_keys: HashSet<&str> = certs
            .values()
            .filter(|c| c.is_ca && !c.spki_sha256.is_empty())
            .map(|c| c.spki_sha256.as_str())
            .collect();
        let mut leaves: Vec<(&str, u32)> = self.leaves.iter().map(|(k, &n)| (&**k, n)).collect();
        leaves.sort_unstable();
        // per issuer: its leaves, and the keys of those with a row
        let mut by_issuer: HashMap<&str, (Vec<u32>, HashSet<&str>)> = HashMap::new();
        let mut by_key: HashMap<&str, Vec<u32>> = HashMap::new();
        let mut suspect_issuers: HashSet<&str> = HashSet::new();
        for &(leaf, n) in &leaves {
            let cert = certs.get(leaf).copied();
            let issuer = cert.map_or("(unknown issuer)", |c| c.issuer.as_str());
            let (nodes, keys) = by_issuer.entry(issuer).or_default();
            nodes.push(n);
            let minted = cert.and_then(|c| c.not_before).is_some_and(|nb| {
                let first = self.first_ts[n as usize];
                first != i64::MAX && minted_at_age((first - nb).div_euclid(1_000_000), cfg)
            });
            let product = self.chain_product[n as usize]
                || cert.is_some_and(|c| match_product(&c.issuer).is_some());
            let ca_key = cert.is_some_and(|c| on_ca_key(c, |k| ca_keys.contains(k)));
            if minted || product || ca_key || self.untrusted[n as usize] {
                suspect_issuers.insert(issuer);
            }
            if let Some(c) = cert {
                keys.insert(c.spki_sha256.as_str());
                if !c.spki_sha256.is_empty() {
                    by_key.entry(c.spki_sha256.as_str()).or_default().push(n);
                }
            }
        }
        let mut joins: Vec<Vec<u32>> = by_key.into_values().collect();
        for (issuer, (nodes, keys)) in by_issuer {
            // fewer keys than leaves: shared keys, or leaves without a row
            let shared = keys.len() < nodes.len();
            if shared || suspect_issuers.contains(issuer) {
                joins.push(nodes);
            }
        }
        for nodes in joins {
            for w in nodes.windows(2) {
                self.union(w[0], w[1]);
            }
        }
        self.pack(per_group, max_groups)
    }

    fn pack(mut self, per_group: u64, max_groups: u32) -> Grouping {
        let mut sizes: HashMap<u32, u64> = HashMap::new();
        for i in 0..self.rows.len() {
            let n = self.rows[i];
            let root = if n == NONE { NONE } else { self.find(n) };
            self.rows[i] = root;
            *sizes.entry(root).or_default() += 1;
        }
        let total = self.rows.len() as u64;
        let groups = u32::try_from(total.div_ceil(per_group.max(1)))
            .unwrap_or(u32::MAX)
            .clamp(1, max_groups.max(1));
        let mut parts: Vec<(u64, u32)> = sizes.into_iter().map(|(r, s)| (s, r)).collect();
        parts.sort_unstable_by(|a, b| b.cmp(a));
        let mut load: BinaryHeap<std::cmp::Reverse<(u64, u32)>> =
            (0..groups).map(|g| std::cmp::Reverse((0, g))).collect();
        let mut group_of: HashMap<u32, u32> = HashMap::with_capacity(parts.len());
        let mut largest = 0;
        for (size, root) in parts {
            let Some(std::cmp::Reverse((l, g))) = load.pop() else {
                break;
            };
            group_of.insert(root, g);
            largest = largest.max(l + size);
            load.push(std::cmp::Reverse((l + size, g)));
        }
        for r in &mut self.rows {
            *r = group_of.get(r).copied().unwrap_or(0);
        }
        Grouping {
            row_group: self.rows,
            groups,
            largest,
            globals: self.globals,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{cert, hs};
    use super::*;

    fn groups(rows: &[HandshakeRow], certs: &[CertRow], per_group: u64) -> Grouping {
        let mut g = Grouper::new(certs);
        for h in rows {
            g.push(h);
        }
        let map: HashMap<&str, &CertRow> = certs.iter().map(|c| (c.sha256.as_str(), c)).collect();
        g.finish(&map, &Thresholds::default(), per_group, 64)
    }

    #[test]
    fn a_name_and_its_leaves_stay_together() {
        let rows = vec![
            hs("1", "a.test", "la", "10.0.0.1", 1),
            hs("2", "b.test", "lb", "10.0.0.1", 2),
            hs("3", "a.test", "lc", "10.0.0.1", 3),
            // the leaf of a.test served for c.test joins c.test to a.test
            hs("4", "c.test", "lc", "10.0.0.1", 4),
            hs("5", "d.test", "ld", "10.0.0.1", 5),
        ];
        let certs = vec![
            cert("la", "CN=CA 1", "k1", &["a.test"]),
            cert("lb", "CN=CA 1", "k2", &["b.test"]),
            cert("lc", "CN=CA 2", "k3", &["a.test", "c.test"]),
            cert("ld", "CN=CA 2", "k4", &["d.test"]),
        ];
        let g = groups(&rows, &certs, 1);
        assert_eq!(g.groups, 5);
        let r = &g.row_group;
        assert_eq!(r[0], r[2]);
        assert_eq!(r[0], r[3]);
        assert_ne!(r[0], r[1]);
        assert_ne!(r[0], r[4]);
        assert_ne!(r[1], r[4]);
        assert_eq!(g.largest, 3);
        assert_eq!(
            g.globals,
            Globals {
                any_trusted: true,
                app_bytes_counted: true
            }
        );
    }

    #[test]
    fn a_shared_key_or_a_minting_issuer_joins_names() {
        let rows = vec![
            hs("1", "a.test", "la", "10.0.0.1", 1_000),
            hs("2", "b.test", "lb", "10.0.0.1", 2_000),
            hs("3", "c.test", "lc", "10.0.0.1", 3_000),
            hs("4", "d.test", "ld", "10.0.0.1", 4_000),
            hs("5", "e.test", "le", "10.0.0.1", 5_000),
            hs("6", "f.test", "lf", "10.0.0.1", 6_000),
        ];
        let mut certs = vec![
            // one key on two leaves of unrelated names
            cert("la", "CN=CA 1", "shared", &["a.test"]),
            cert("lb", "CN=CA 2", "shared", &["b.test"]),
            // an issuer whose leaf was minted a minute before first use
            cert("lc", "CN=Proxy", "k3", &["c.test"]),
            cert("ld", "CN=Proxy", "k4", &["d.test"]),
            // a public CA without any sign: its leaves stay apart
            cert("le", "CN=Public", "k5", &["e.test"]),
            cert("lf", "CN=Public", "k6", &["f.test"]),
        ];
        certs[2].not_before = Some((3_000 - 60) * 1_000_000);
        let g = groups(&rows, &certs, 1);
        let r = &g.row_group;
        assert_eq!(r[0], r[1]);
        assert_eq!(r[2], r[3]);
        assert_ne!(r[0], r[2]);
        assert_ne!(r[4], r[5]);
        assert_ne!(r[4], r[0]);
    }

    #[test]
    fn groups_are_bounded_in_number_and_balanced() {
        let rows: Vec<HandshakeRow> = (0..100)
            .map(|i| {
                hs(
                    &i.to_string(),
                    &format!("n{i}.test"),
                    &format!("l{i}"),
                    "10.0.0.1",
                    i,
                )
            })
            .collect();
        let certs: Vec<CertRow> = (0..100)
            .map(|i| {
                cert(
                    &format!("l{i}"),
                    "CN=Public",
                    &format!("k{i}"),
                    &[&format!("n{i}.test")],
                )
            })
            .collect();
        let g = groups(&rows, &certs, 10);
        assert_eq!(g.groups, 10);
        assert_eq!(g.largest, 10);
        let mut g2 = Grouper::new(&certs);
        for h in &rows {
            g2.push(h);
        }
        let map: HashMap<&str, &CertRow> = certs.iter().map(|c| (c.sha256.as_str(), c)).collect();
        let g2 = g2.finish(&map, &Thresholds::default(), 1, 4);
        assert_eq!((g2.groups, g2.largest), (4, 25));
        // leaves without a certificate row count as sharing a key: joined
        let g3 = groups(&rows, &[], 10);
        assert_eq!((g3.groups, g3.largest), (10, 100));
    }
}
