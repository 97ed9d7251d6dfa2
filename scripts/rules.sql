-- certsift's cross-connection rules as SQL over the Parquet tables: issuer
-- divergence (with issuer_rotation and multiple_leaves_same_issuer, the
-- same detector's benign verdicts), key reuse across names, forging issuer,
-- fresh certificate and client-scoped view. The Rust detectors in
-- src/analysis/ are the reference; each view below names the file it mirrors,
-- with the default thresholds of analysis::Thresholds written in.
--
-- Runs unchanged on DuckDB and Spark SQL: only functions both have
-- (cardinality, array_position, replace, translate, reverse, instr, substr,
-- length, TRIM(TRAILING ..), INTERVAL arithmetic, window functions). The
-- runner registers three views and then runs the statements in order:
--   handshakes            the handshakes table (every shard's files)
--   certificates          the certificates table (every shard's files)
--   inspection_products   testdata/inspection-products.tsv (its header
--                         names the columns: pattern and vendor_domains
--                         are read)
-- Lists are exploded with Spark's explode(); DuckDB spells it unnest(), so
-- the DuckDB runner adds `CREATE MACRO explode(l) AS unnest(l)`. That is the
-- only construct without a common spelling. A runner may create each view
-- as a temporary table instead (DuckDB's does: it inlines views wherever
-- they are named). Runners: scripts/rules_duckdb.py,
-- scripts/spark_rules.py. Statements are split on semicolons once `--`
-- comments are removed: neither appears inside a string here.
--
-- Result: the view rule_findings, one row per (finding, name): kind,
-- severity, finding_key (what the finding is about: a name, an issuer, a
-- key, a leaf) and name (handshakes' name key: the SNI lowercased without a
-- trailing dot, else "(no-sni)@host:port").
--
-- Known differences from the Rust detectors, all on inputs certsift does not
-- write: a chain whose last certificate has no certificates row (Rust falls
-- back to the previous one), a certificate repeated inside one chain, a
-- subject without subject_cn, product patterns (or a vendor domain spelled
-- in an issuer DN) told apart only by punctuation or non-ASCII characters,
-- and one pattern listed twice in the product table (Rust takes the first
-- line's vendor domains, the SQL either).

-- Shards may repeat a connection (one scan given twice) or a certificate
-- (seen in several shards): one row of each. The certificate row kept is
-- the earliest sighting's, whose trust verdict analyze keeps too.
CREATE OR REPLACE TEMPORARY VIEW conn AS
SELECT flow_id, ts_start, client_ip, sni, leaf_sha256, cert_chain_sha256,
       chain_trusted, trust_reason, root_public, server_ip, server_port, server_ttl,
       connect_target,
       CASE
         -- Once ECH is accepted the SNI is a front end's public name.
         WHEN ech_status = 'accepted' THEN NULL
         WHEN sni IS NOT NULL AND TRIM(TRAILING '.' FROM sni) <> ''
           THEN lower(TRIM(TRAILING '.' FROM sni))
         WHEN connect_target IS NOT NULL THEN '(no-sni)@' || lower(connect_target)
         WHEN server_ip <> '' THEN '(no-sni)@' || server_ip || ':' || CAST(server_port AS STRING)
       END AS name
FROM (
  SELECT h.*, row_number() OVER (PARTITION BY flow_id ORDER BY ts_start) AS copy
  FROM handshakes h
) t
WHERE copy = 1;

CREATE OR REPLACE TEMPORARY VIEW cert AS
SELECT sha256, spki_sha256, subject, issuer, subject_cn, san_dns, key_algorithm,
       is_ca, self_signed, not_before, authority_key_id, curve, has_sct
FROM (
  SELECT c.*, row_number() OVER (PARTITION BY sha256 ORDER BY first_seen) AS copy
  FROM certificates c
) t
WHERE copy = 1;

-- Whether any chain of the run verified (mod.rs: any_trusted).
CREATE OR REPLACE TEMPORARY VIEW run AS
SELECT max(CASE WHEN chain_trusted THEN 1 ELSE 0 END) AS any_trusted FROM conn;

CREATE OR REPLACE TEMPORARY VIEW ca_key AS
SELECT DISTINCT spki_sha256 FROM cert WHERE is_ca AND spki_sha256 <> '';

-- products.rs: patterns trimmed and lowercased, the vendor's own domains
-- kept as written (a comma-separated list, maybe empty).
CREATE OR REPLACE TEMPORARY VIEW product_pattern AS
SELECT lower(trim(pattern)) AS pattern, coalesce(vendor_domains, '') AS vendor_domains
FROM inspection_products
WHERE trim(pattern) <> '';

-- products.rs match_product and word_match: a pattern matches a DN as whole
-- words, case-insensitively, `_` joining words; the longest pattern wins
-- (then the first in order). Punctuation other than `_` becomes spaces on
-- both sides, then a space-delimited LIKE (where a `_` of a pattern matches
-- any one character) (the quote characters are left out: Spark and DuckDB
-- escape them differently inside literals).
CREATE OR REPLACE TEMPORARY VIEW dn_product AS
SELECT dn, pattern, vendor_domains FROM (
  SELECT d.dn, p.pattern, p.vendor_domains,
         row_number() OVER (PARTITION BY d.dn ORDER BY length(p.pattern) DESC, p.pattern) AS n
  FROM (SELECT subject AS dn FROM cert UNION SELECT issuer AS dn FROM cert) d
  JOIN product_pattern p
    ON ' ' || translate(lower(d.dn), ',.=-/:()[]{}@#&+*!?<>|~^$%"', '                           ') || ' '
       LIKE '% ' || translate(p.pattern, ',.=-/:()[]{}@#&+*!?<>|~^$%"', '                           ') || ' %'
) t
WHERE n = 1;

-- mod.rs Evidence::with, per leaf: first use, trust (public: a connection
-- verified to a root of Mozilla's store of that day), and the first
-- connection's chain (by time, then flow id).
CREATE OR REPLACE TEMPORARY VIEW leaf_use AS
SELECT leaf_sha256 AS leaf,
       min(ts_start) AS first_use,
       max(ts_start) AS last_use,
       max(CASE WHEN chain_trusted THEN 1 ELSE 0 END) AS trusted,
       max(CASE WHEN chain_trusted AND root_public THEN 1 ELSE 0 END) AS public,
       max(CASE WHEN chain_trusted = false
                 AND (trust_reason IS NULL OR trust_reason IN ('unknown_issuer', 'bad_signature'))
            THEN 1 ELSE 0 END) AS unknown_issuer
FROM conn
WHERE leaf_sha256 IS NOT NULL
GROUP BY leaf_sha256;

CREATE OR REPLACE TEMPORARY VIEW first_chain AS
SELECT leaf, chain FROM (
  SELECT leaf_sha256 AS leaf, cert_chain_sha256 AS chain,
         row_number() OVER (PARTITION BY leaf_sha256 ORDER BY ts_start, flow_id) AS n
  FROM conn WHERE leaf_sha256 IS NOT NULL
) t WHERE n = 1;

CREATE OR REPLACE TEMPORARY VIEW first_chain_cert AS
SELECT f.leaf, array_position(f.chain, f.sha) AS pos, c.*
FROM (SELECT leaf, chain, explode(chain) AS sha FROM first_chain) f
JOIN cert c ON c.sha256 = f.sha;

-- The product a leaf names: its issuer's, else that of the first
-- certificate after the leaf in the first chain whose subject (then issuer)
-- names one.
CREATE OR REPLACE TEMPORARY VIEW leaf_product_named AS
SELECT leaf, pattern, vendor_domains FROM (
  SELECT leaf, pattern, vendor_domains, row_number() OVER (PARTITION BY leaf ORDER BY rank) AS n
  FROM (
    SELECT u.leaf, p.pattern, p.vendor_domains, 0 AS rank
    FROM leaf_use u JOIN cert c ON c.sha256 = u.leaf JOIN dn_product p ON p.dn = c.issuer
    UNION ALL
    SELECT f.leaf, p.pattern, p.vendor_domains, 2 * f.pos AS rank
    FROM first_chain_cert f JOIN dn_product p ON p.dn = f.subject WHERE f.pos >= 2
    UNION ALL
    SELECT f.leaf, p.pattern, p.vendor_domains, 2 * f.pos + 1 AS rank
    FROM first_chain_cert f JOIN dn_product p ON p.dn = f.issuer WHERE f.pos >= 2
  ) t
) t WHERE n = 1;

-- mod.rs LeafInfo::spoofed_ca: a CA certificate of the first chain with
-- explicit curve parameters (CVE-2020-0601).
CREATE OR REPLACE TEMPORARY VIEW leaf_spoofed AS
SELECT DISTINCT leaf FROM first_chain_cert WHERE is_ca AND curve = 'explicit';

-- mod.rs cert_names and registrable_domain: a leaf's registrable domains,
-- from its DNS names (SANs, else the subject CN) and the SNIs it answered.
-- The last two labels, three under a known two-label public suffix; an
-- address is its own domain.
CREATE OR REPLACE TEMPORARY VIEW cert_name AS
SELECT sha256, name FROM (SELECT sha256, explode(san_dns) AS name FROM cert) s
UNION ALL
SELECT sha256, subject_cn AS name FROM cert WHERE cardinality(san_dns) = 0 AND subject_cn IS NOT NULL;

CREATE OR REPLACE TEMPORARY VIEW dom1 AS
SELECT raw, lower(TRIM(TRAILING '.' FROM CASE WHEN raw LIKE '*.%' THEN substr(raw, 3) ELSE raw END)) AS n
FROM (SELECT name AS raw FROM cert_name
      UNION SELECT sni AS raw FROM conn WHERE sni IS NOT NULL AND leaf_sha256 IS NOT NULL) t;

CREATE OR REPLACE TEMPORARY VIEW dom2 AS
SELECT raw, n, reverse(n) AS r, instr(reverse(n), '.') AS p1 FROM dom1;

CREATE OR REPLACE TEMPORARY VIEW dom3 AS
SELECT raw, n, r, p1, CASE WHEN p1 = 0 THEN 0 ELSE instr(substr(r, p1 + 1), '.') END AS p2 FROM dom2;

CREATE OR REPLACE TEMPORARY VIEW dom4 AS
SELECT raw, n, r, p1, p2, CASE WHEN p2 = 0 THEN 0 ELSE instr(substr(r, p1 + p2 + 1), '.') END AS p3 FROM dom3;

CREATE OR REPLACE TEMPORARY VIEW name_domain AS
SELECT raw, CASE
    WHEN translate(n, '0123456789.', '') = '' OR instr(n, ':') > 0 THEN n
    WHEN p1 = 0 OR p2 = 0 THEN n
    WHEN reverse(substr(r, 1, p1 + p2 - 1)) IN ('co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'com.au',
         'net.au', 'org.au', 'co.jp', 'ne.jp', 'com.br', 'com.cn', 'co.nz', 'co.in', 'com.mx')
      THEN CASE WHEN p3 = 0 THEN n ELSE reverse(substr(r, 1, p1 + p2 + p3 - 1)) END
    ELSE reverse(substr(r, 1, p1 + p2 - 1))
  END AS domain
FROM dom4;

CREATE OR REPLACE TEMPORARY VIEW leaf_domain AS
SELECT DISTINCT leaf, domain FROM (
  SELECT l.leaf, d.domain FROM leaf_use l
  JOIN cert_name cn ON cn.sha256 = l.leaf JOIN name_domain d ON d.raw = cn.name
  UNION ALL
  SELECT c.leaf_sha256 AS leaf, d.domain FROM conn c JOIN name_domain d ON d.raw = c.sni
  WHERE c.leaf_sha256 IS NOT NULL
) t WHERE domain <> '';

-- mod.rs vendor_own: the product's vendor's own PKI when every domain of
-- the leaf (at least one) is one of the vendor's, or, holding a dot, occurs
-- in the issuer DN as whole words (matched as products are). A leaf's
-- product, and whether it is the vendor's own.
CREATE OR REPLACE TEMPORARY VIEW leaf_product AS
SELECT p.leaf,
       CASE WHEN count(d.domain) > 0 AND min(CASE
           WHEN instr(',' || replace(lower(p.vendor_domains), ' ', '') || ',', ',' || d.domain || ',') > 0
             THEN 1
           WHEN instr(d.domain, '.') > 0
            AND ' ' || translate(lower(coalesce(c.issuer, '(unknown issuer)')), ',.=-/:()[]{}@#&+*!?<>|~^$%"', '                           ') || ' '
                LIKE '% ' || translate(d.domain, ',.=-/:()[]{}@#&+*!?<>|~^$%"', '                           ') || ' %'
             THEN 1
           ELSE 0 END) = 1
         THEN 1 ELSE 0 END AS vendor_own
FROM leaf_product_named p
LEFT JOIN cert c ON c.sha256 = p.leaf
LEFT JOIN leaf_domain d ON d.leaf = p.leaf
GROUP BY p.leaf;

-- LeafInfo: issuer (name and authority key id), minted (not_before at most
-- 600 s before first use, or a round backdate of 1 h, 1 d, 2 d, 7 d or 30 d
-- within 5 s: mint_backdate_*), self-issued (self-signed, or subject equal
-- to issuer), logged (CT timestamps), carries a CA key, spoofs a root key,
-- and names a product (not when public, nor on the vendor's own domains).
-- Left out: issuer_minted and incomplete, which only detectors the SQL does
-- not cover read (leaf_forged: untrusted_chain, certificate_rejected).
CREATE OR REPLACE TEMPORARY VIEW leaf_info AS
SELECT u.leaf, u.first_use, u.last_use, u.trusted, u.public, u.unknown_issuer,
       coalesce(c.issuer, '(unknown issuer)') AS issuer,
       coalesce(c.authority_key_id, '') AS aki,
       c.spki_sha256, c.key_algorithm,
       CASE WHEN c.not_before IS NOT NULL AND (
              (u.first_use >= c.not_before AND u.first_use < c.not_before + INTERVAL '601' SECOND)
           OR (u.first_use >= c.not_before + INTERVAL '3595' SECOND AND u.first_use < c.not_before + INTERVAL '3606' SECOND)
           OR (u.first_use >= c.not_before + INTERVAL '86395' SECOND AND u.first_use < c.not_before + INTERVAL '86406' SECOND)
           OR (u.first_use >= c.not_before + INTERVAL '172795' SECOND AND u.first_use < c.not_before + INTERVAL '172806' SECOND)
           OR (u.first_use >= c.not_before + INTERVAL '604795' SECOND AND u.first_use < c.not_before + INTERVAL '604806' SECOND)
           OR (u.first_use >= c.not_before + INTERVAL '2591995' SECOND AND u.first_use < c.not_before + INTERVAL '2592006' SECOND))
         THEN 1 ELSE 0 END AS minted,
       CASE WHEN c.not_before IS NOT NULL
             AND u.first_use >= c.not_before AND u.first_use < c.not_before + INTERVAL '601' SECOND
         THEN 1 ELSE 0 END AS fresh,
       CASE WHEN c.self_signed OR (c.subject <> '' AND c.subject = c.issuer)
         THEN 1 ELSE 0 END AS self_issued,
       CASE WHEN c.has_sct THEN 1 ELSE 0 END AS logged,
       -- mod.rs on_ca_key: a leaf, neither a CA nor self-signed, on a CA's key.
       CASE WHEN k.spki_sha256 IS NOT NULL AND NOT c.is_ca AND NOT c.self_signed
         THEN 1 ELSE 0 END AS ca_key,
       CASE WHEN s.leaf IS NOT NULL THEN 1 ELSE 0 END AS spoofed,
       CASE WHEN p.leaf IS NOT NULL AND u.public = 0 AND p.vendor_own = 0
         THEN 1 ELSE 0 END AS product
FROM leaf_use u
LEFT JOIN cert c ON c.sha256 = u.leaf
LEFT JOIN ca_key k ON k.spki_sha256 = c.spki_sha256
LEFT JOIN leaf_spoofed s ON s.leaf = u.leaf
LEFT JOIN leaf_product p ON p.leaf = u.leaf;

-- mod.rs minted_sign (minted by a CA that is not public, the leaf not
-- self-issued) and leaf_suspect (a product, minted_sign, a CA's key or a
-- spoofed root key; an unknown issuer alone is no sign).
CREATE OR REPLACE TEMPORARY VIEW leaf AS
SELECT l.*,
       CASE WHEN l.minted = 1 AND l.public = 0 AND l.self_issued = 0 THEN 1 ELSE 0 END
         AS minted_sign,
       CASE WHEN l.product = 1 OR l.ca_key = 1 OR l.spoofed = 1
              OR (l.minted = 1 AND l.public = 0 AND l.self_issued = 0)
         THEN 1 ELSE 0 END AS suspect,
       r.any_trusted
FROM leaf_info l
CROSS JOIN run r;

-- How many registrable domains each leaf speaks for.
CREATE OR REPLACE TEMPORARY VIEW leaf_width AS
SELECT l.leaf, count(d.domain) AS domains
FROM leaf l LEFT JOIN leaf_domain d ON d.leaf = l.leaf
GROUP BY l.leaf;

-- Names of the connections that carried each leaf.
CREATE OR REPLACE TEMPORARY VIEW leaf_name AS
SELECT DISTINCT leaf_sha256 AS leaf, name FROM conn
WHERE leaf_sha256 IS NOT NULL AND name IS NOT NULL;

-- Connections with a leaf, by name, with the leaf's facts: what issuer.rs,
-- clients.rs, and the "another issuer served the name" checks of forging.rs
-- and fresh.rs read.
CREATE OR REPLACE TEMPORARY VIEW name_flow AS
SELECT c.name, c.flow_id, c.ts_start, c.client_ip, c.chain_trusted, c.trust_reason,
       c.root_public, c.server_ip, c.server_port, c.server_ttl, c.connect_target,
       l.leaf, l.issuer, l.aki, l.suspect, l.unknown_issuer, l.self_issued
FROM conn c JOIN leaf l ON l.leaf = c.leaf_sha256
WHERE c.name IS NOT NULL;

-- Leaves that answered a name for which a leaf of another issuer (name and
-- authority key id) was served too: forging.rs names_answered_by_others,
-- fresh.rs names_served_otherwise.
CREATE OR REPLACE TEMPORARY VIEW leaf_replaced AS
SELECT DISTINCT a.leaf
FROM name_flow a JOIN name_flow b
  ON b.name = a.name AND (b.issuer <> a.issuer OR b.aki <> a.aki);

-- fresh.rs: a leaf that became valid at most 600 s before its first use;
-- info when public, low when self-issued or when nothing else was served
-- for its names and it shows no other sign (product, CA key, spoofed root
-- key), else high with an unknown issuer and medium without.
CREATE OR REPLACE TEMPORARY VIEW rule_fresh AS
SELECT 'fresh_certificate' AS kind,
       CASE WHEN l.public = 1 THEN 'info'
            WHEN l.self_issued = 1 THEN 'low'
            WHEN x.leaf IS NULL AND l.product = 0 AND l.ca_key = 0 AND l.spoofed = 0 THEN 'low'
            WHEN l.unknown_issuer = 1 THEN 'high'
            ELSE 'medium' END AS severity,
       l.leaf AS finding_key, n.name
FROM leaf l
JOIN leaf_name n ON n.leaf = l.leaf
LEFT JOIN leaf_replaced x ON x.leaf = l.leaf
WHERE l.fresh = 1;

-- keyreuse.rs: one public key on leaves for at least 2 registrable domains,
-- more than its widest single leaf covers. High with a CA's key, a product
-- or a spoofed root key; else low when every leaf is trusted or every leaf
-- self-issued; else high with minting by a CA that is not public or an
-- unknown issuer in a run the trust store covers; else medium.
CREATE OR REPLACE TEMPORARY VIEW key_group AS
SELECT l.spki_sha256 AS spki,
       count(*) AS leaves,
       max(l.product) AS product, max(l.minted_sign) AS minted_sign,
       max(l.spoofed) AS spoofed,
       max(l.unknown_issuer) AS unknown_issuer, min(l.trusted) AS all_trusted,
       min(l.self_issued) AS all_self_issued,
       max(l.any_trusted) AS any_trusted,
       max(l.ca_key) AS ca_key
FROM leaf l
WHERE l.spki_sha256 IS NOT NULL AND l.spki_sha256 <> ''
GROUP BY l.spki_sha256;

CREATE OR REPLACE TEMPORARY VIEW key_domains AS
SELECT l.spki_sha256 AS spki, count(DISTINCT d.domain) AS domains
FROM leaf l JOIN leaf_domain d ON d.leaf = l.leaf
GROUP BY l.spki_sha256;

CREATE OR REPLACE TEMPORARY VIEW key_widest AS
SELECT l.spki_sha256 AS spki, max(w.domains) AS widest
FROM leaf l JOIN leaf_width w ON w.leaf = l.leaf
GROUP BY l.spki_sha256;

CREATE OR REPLACE TEMPORARY VIEW rule_key_reuse AS
SELECT DISTINCT 'key_reuse' AS kind,
       CASE WHEN g.ca_key = 1 OR g.product = 1 OR g.spoofed = 1 THEN 'high'
            WHEN g.all_trusted = 1 OR g.all_self_issued = 1 THEN 'low'
            WHEN g.minted_sign = 1 OR (g.unknown_issuer = 1 AND g.any_trusted = 1) THEN 'high'
            ELSE 'medium' END AS severity,
       g.spki AS finding_key, n.name
FROM key_group g
JOIN key_domains d ON d.spki = g.spki
JOIN key_widest w ON w.spki = g.spki
JOIN leaf l ON l.spki_sha256 = g.spki
JOIN leaf_name n ON n.leaf = l.leaf
WHERE g.leaves >= 2 AND d.domains >= 2 AND d.domains > w.widest;

-- forging.rs: an issuer is its name and authority key id. It is examined
-- with leaves for at least 3 registrable domains, a leaf (not a CA, not
-- self-signed) on a CA's key, or minting (at least half its leaves minted,
-- minted_sign) for a name another issuer answered too. Its signs are
-- minting, a key shared by its leaves across unrelated domains (more
-- domains than the widest leaf's, so not a renewal) unless it is public (a
-- leaf of it public), a CA's key on a leaf, a product, a spoofed root key,
-- and, unless public, an unknown issuer for at least 3 domains in a run the
-- trust store covers, none of its leaves logged. High with two signs,
-- medium with one.
CREATE OR REPLACE TEMPORARY VIEW issuer_group AS
SELECT issuer, aki, count(*) AS leaves, sum(minted_sign) AS minted,
       max(public) AS public, max(ca_key) AS ca_key, max(product) AS product,
       max(spoofed) AS spoofed, max(logged) AS logged,
       max(unknown_issuer) AS unknown_issuer, max(any_trusted) AS any_trusted,
       max(CASE WHEN x.leaf IS NULL THEN 0 ELSE 1 END) AS contested
FROM leaf l LEFT JOIN leaf_replaced x ON x.leaf = l.leaf
GROUP BY issuer, aki;

CREATE OR REPLACE TEMPORARY VIEW issuer_domains AS
SELECT l.issuer, l.aki, count(DISTINCT d.domain) AS domains
FROM leaf l JOIN leaf_domain d ON d.leaf = l.leaf
GROUP BY l.issuer, l.aki;

-- forging.rs keys_across_domains.
CREATE OR REPLACE TEMPORARY VIEW issuer_shared_key AS
SELECT DISTINCT issuer, aki FROM (
  SELECT l.issuer, l.aki, l.spki_sha256
  FROM leaf l
  JOIN leaf_width w ON w.leaf = l.leaf
  LEFT JOIN leaf_domain d ON d.leaf = l.leaf
  WHERE l.spki_sha256 IS NOT NULL AND l.spki_sha256 <> ''
  GROUP BY l.issuer, l.aki, l.spki_sha256
  HAVING count(DISTINCT l.leaf) >= 2 AND count(DISTINCT d.domain) > max(w.domains)
) t;

CREATE OR REPLACE TEMPORARY VIEW issuer_signs AS
SELECT g.issuer, g.aki,
       CASE WHEN g.minted > 0 AND g.minted * 2 >= g.leaves THEN 1 ELSE 0 END
     + CASE WHEN g.public = 0 AND k.issuer IS NOT NULL THEN 1 ELSE 0 END
     + g.ca_key + g.product + g.spoofed
     + CASE WHEN g.public = 0 AND coalesce(dd.domains, 0) >= 3 AND g.any_trusted = 1
                 AND g.logged = 0 AND g.unknown_issuer = 1 THEN 1 ELSE 0 END AS signs
FROM issuer_group g
LEFT JOIN issuer_domains dd ON dd.issuer = g.issuer AND dd.aki = g.aki
LEFT JOIN issuer_shared_key k ON k.issuer = g.issuer AND k.aki = g.aki
WHERE coalesce(dd.domains, 0) >= 3 OR g.ca_key = 1
   OR (g.minted > 0 AND g.minted * 2 >= g.leaves AND g.contested = 1);

CREATE OR REPLACE TEMPORARY VIEW rule_forging AS
SELECT DISTINCT 'forging_issuer' AS kind,
       CASE WHEN s.signs >= 2 THEN 'high' ELSE 'medium' END AS severity,
       s.issuer || ' / key ' || s.aki AS finding_key, n.name
FROM issuer_signs s
JOIN leaf l ON l.issuer = s.issuer AND l.aki = s.aki
JOIN leaf_name n ON n.leaf = l.leaf
WHERE s.signs > 0;

-- issuer.rs and clients.rs work per name, on connections with a leaf, for
-- names answered by more than one leaf. A chain short of its intermediate
-- (incomplete_chain) counts as verified and public, never as untrusted:
-- browsers complete it.
CREATE OR REPLACE TEMPORARY VIEW name_flow_trust AS
SELECT f.*,
       CASE WHEN f.chain_trusted = false
             AND (f.trust_reason IS NULL OR f.trust_reason <> 'incomplete_chain')
         THEN 1 ELSE 0 END AS untrusted,
       CASE WHEN f.chain_trusted OR f.trust_reason = 'incomplete_chain'
         THEN 1 ELSE 0 END AS verified,
       CASE WHEN f.root_public OR f.trust_reason = 'incomplete_chain'
         THEN 1 ELSE 0 END AS public
FROM name_flow f;

-- issuers: distinct issuer names; keys: distinct (name, authority key id),
-- issuer.rs's issuers (a copy of a CA's name on another key is another).
CREATE OR REPLACE TEMPORARY VIEW multi_leaf_name AS
SELECT name, count(DISTINCT issuer) AS issuers,
       count(DISTINCT issuer || '#' || aki) AS keys
FROM name_flow
GROUP BY name HAVING count(DISTINCT leaf) > 1;

-- clients.rs's sides: per name, issuer name only.
CREATE OR REPLACE TEMPORARY VIEW side AS
SELECT f.name, f.issuer, min(f.ts_start) AS first_ts, max(f.ts_start) AS last_ts,
       max(f.suspect) AS suspect, max(f.unknown_issuer) AS unknown,
       max(f.untrusted) AS untrusted, min(f.verified) AS verified
FROM name_flow_trust f JOIN multi_leaf_name m ON m.name = f.name
GROUP BY f.name, f.issuer;

-- issuer.rs's sides: per name, issuer name and key.
CREATE OR REPLACE TEMPORARY VIEW key_side AS
SELECT f.name, f.issuer, f.aki, min(f.ts_start) AS first_ts, max(f.ts_start) AS last_ts,
       max(f.suspect) AS suspect, max(f.unknown_issuer) AS unknown,
       min(f.self_issued) AS self_issued,
       max(f.untrusted) AS untrusted, min(f.verified) AS verified, min(f.public) AS public
FROM name_flow_trust f JOIN multi_leaf_name m ON m.name = f.name
GROUP BY f.name, f.issuer, f.aki;

CREATE OR REPLACE TEMPORARY VIEW name_verdict AS
SELECT s.name,
       max(s.suspect) AS any_suspect, max(s.untrusted) AS any_untrusted,
       min(s.verified) AS all_verified, max(s.verified) AS any_verified,
       min(s.public) AS all_public, min(s.self_issued) AS all_self_issued,
       max(s.unknown) AS any_unknown,
       max(CASE WHEN s.unknown = 0 AND s.verified = 1 THEN 1 ELSE 0 END) AS known_verified,
       max(CASE WHEN s.first_ts <= s.prev_last THEN 1 ELSE 0 END) AS overlap
FROM (SELECT key_side.*,
             lag(last_ts) OVER (PARTITION BY name ORDER BY first_ts, last_ts) AS prev_last
      FROM key_side) s
GROUP BY s.name;

-- issuer.rs path_change: two sides of a name, one answering only through a
-- CONNECT proxy and the other only direct, or both at one server address
-- with no server TTL in common.
CREATE OR REPLACE TEMPORARY VIEW side_route AS
SELECT name, issuer, aki,
       min(CASE WHEN connect_target IS NULL THEN 0 ELSE 1 END) AS all_proxied,
       max(CASE WHEN connect_target IS NULL THEN 0 ELSE 1 END) AS any_proxied
FROM name_flow GROUP BY name, issuer, aki;

CREATE OR REPLACE TEMPORARY VIEW side_ttl AS
SELECT DISTINCT name, issuer, aki, server_ip, server_port, server_ttl
FROM name_flow WHERE server_ttl IS NOT NULL;

CREATE OR REPLACE TEMPORARY VIEW path_change AS
SELECT DISTINCT a.name
FROM side_route a JOIN side_route b
  ON b.name = a.name AND (b.issuer <> a.issuer OR b.aki <> a.aki)
WHERE a.all_proxied = 1 AND b.any_proxied = 0
UNION
SELECT DISTINCT name FROM (
  SELECT a.name, a.issuer, a.aki, b.issuer AS other, b.aki AS other_aki,
         a.server_ip, a.server_port,
         max(CASE WHEN a.server_ttl = b.server_ttl THEN 1 ELSE 0 END) AS common
  FROM side_ttl a JOIN side_ttl b
    ON b.name = a.name AND b.server_ip = a.server_ip AND b.server_port = a.server_port
   AND (b.issuer <> a.issuer OR b.aki <> a.aki)
  GROUP BY a.name, a.issuer, a.aki, b.issuer, b.aki, a.server_ip, a.server_port
) t WHERE common = 0;

CREATE OR REPLACE TEMPORARY VIEW leaf_anchor AS
SELECT DISTINCT x.leaf, CASE WHEN c.self_signed THEN c.subject ELSE c.issuer END AS anchor
FROM (SELECT leaf_sha256 AS leaf, cert_chain_sha256 AS chain, explode(cert_chain_sha256) AS sha
      FROM conn WHERE leaf_sha256 IS NOT NULL) x
JOIN cert c ON c.sha256 = x.sha
WHERE array_position(x.chain, x.sha) = cardinality(x.chain);

CREATE OR REPLACE TEMPORARY VIEW name_anchors AS
SELECT f.name, count(DISTINCT a.anchor) AS anchors
FROM (SELECT DISTINCT name, leaf FROM name_flow) f
JOIN leaf_anchor a ON a.leaf = f.leaf
GROUP BY f.name;

-- issuer.rs same_issuer: a renewal when each leaf's connections (over all
-- names) all come after the previous leaf's; RSA and ECDSA side by side.
CREATE OR REPLACE TEMPORARY VIEW name_leaves AS
SELECT n.name,
       count(DISTINCT l.key_algorithm) AS algs,
       min(CASE WHEN n.prev_last IS NULL OR n.first_use > n.prev_last THEN 1 ELSE 0 END) AS takeover
FROM (SELECT x.name, x.leaf, u.first_use,
             lag(u.last_use) OVER (PARTITION BY x.name ORDER BY u.first_use, u.last_use) AS prev_last
      FROM (SELECT DISTINCT name, leaf FROM name_flow) x JOIN leaf u ON u.leaf = x.leaf) n
JOIN leaf l ON l.leaf = n.leaf
GROUP BY n.name;

-- issuer.rs diverging, in its order: a suspect side (high), a side of an
-- unknown issuer beside a verified side of a known one (high), only
-- self-issued certificates with none verified and no path change (low),
-- one issuer name on several keys with not all verified (medium), one root
-- (rotation), then untrusted sides, all public, overlap and path change.
CREATE OR REPLACE TEMPORARY VIEW rule_issuer AS
SELECT CASE WHEN m.keys = 1 THEN 'multiple_leaves_same_issuer'
            WHEN v.any_suspect = 1 THEN 'issuer_divergence'
            WHEN v.any_unknown = 1 AND v.known_verified = 1 THEN 'issuer_divergence'
            WHEN v.all_self_issued = 1 AND v.any_verified = 0 AND p.name IS NULL
              THEN 'issuer_divergence'
            WHEN m.keys > m.issuers AND v.all_verified = 0 THEN 'issuer_divergence'
            WHEN a.anchors = 1 THEN 'issuer_rotation'
            ELSE 'issuer_divergence' END AS kind,
       CASE WHEN m.keys = 1 THEN
              CASE WHEN nl.takeover = 1 AND nl.algs <= 1 AND v.any_suspect = 0 THEN 'info' ELSE 'low' END
            WHEN v.any_suspect = 1 THEN 'high'
            WHEN v.any_unknown = 1 AND v.known_verified = 1 THEN 'high'
            WHEN v.all_self_issued = 1 AND v.any_verified = 0 AND p.name IS NULL THEN 'low'
            WHEN m.keys > m.issuers AND v.all_verified = 0 THEN 'medium'
            WHEN a.anchors = 1 THEN 'low'
            WHEN v.any_untrusted = 1 AND r.any_trusted = 0 AND v.overlap = 0
                 AND p.name IS NULL THEN 'low'
            WHEN v.any_untrusted = 1 THEN 'medium'
            WHEN v.all_public = 1 THEN 'low'
            WHEN v.overlap = 1 THEN 'medium'
            WHEN p.name IS NOT NULL THEN 'medium'
            ELSE 'low' END AS severity,
       m.name AS finding_key, m.name
FROM multi_leaf_name m
CROSS JOIN run r
JOIN name_verdict v ON v.name = m.name
JOIN name_leaves nl ON nl.name = m.name
LEFT JOIN name_anchors a ON a.name = m.name
LEFT JOIN path_change p ON p.name = m.name;

-- clients.rs: per name and issuer, clients that only ever got that issuer
-- while other clients got another issuer's certificates at the same time.
-- High when this side is suspect, or its issuer unknown while every other
-- client's chain verified; medium when a chain (this side's or the
-- others') was untrusted; low otherwise. A verified side facing untrusted
-- ones is the reference, not reported.
CREATE OR REPLACE TEMPORARY VIEW side_client AS
SELECT DISTINCT name, issuer, client_ip FROM name_flow;

CREATE OR REPLACE TEMPORARY VIEW side_others AS
SELECT s.name, s.issuer, s.first_ts, s.last_ts, s.suspect, s.unknown, s.untrusted, s.verified,
       count(*) AS others,
       max(CASE WHEN o.ts_start >= s.first_ts AND o.ts_start <= s.last_ts THEN 1 ELSE 0 END) AS inside,
       min(o.ts_start) AS first_other, max(o.ts_start) AS last_other,
       max(o.untrusted) AS others_untrusted,
       min(o.verified) AS others_verified
FROM side s
JOIN name_flow_trust o ON o.name = s.name AND o.issuer <> s.issuer
LEFT JOIN side_client mine
  ON mine.name = s.name AND mine.issuer = s.issuer AND mine.client_ip = o.client_ip
WHERE mine.client_ip IS NULL
GROUP BY s.name, s.issuer, s.first_ts, s.last_ts, s.suspect, s.unknown, s.untrusted, s.verified;

CREATE OR REPLACE TEMPORARY VIEW rule_clients AS
SELECT 'client_scoped_view' AS kind,
       CASE WHEN suspect = 1 OR (unknown = 1 AND others_verified = 1) THEN 'high'
            WHEN untrusted = 1 OR others_untrusted = 1 THEN 'medium'
            ELSE 'low' END AS severity,
       name || ' / ' || issuer AS finding_key, name
FROM side_others
WHERE (inside = 1 OR (first_other < first_ts AND last_other > last_ts))
  AND NOT (suspect = 0 AND verified = 1 AND (untrusted = 1 OR others_untrusted = 1));

CREATE OR REPLACE TEMPORARY VIEW rule_findings AS
SELECT kind, severity, finding_key, name FROM rule_issuer
UNION ALL SELECT kind, severity, finding_key, name FROM rule_key_reuse
UNION ALL SELECT kind, severity, finding_key, name FROM rule_forging
UNION ALL SELECT kind, severity, finding_key, name FROM rule_fresh
UNION ALL SELECT kind, severity, finding_key, name FROM rule_clients;
