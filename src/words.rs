//! Counted nouns for the sentences certsift writes (findings, incidents,
//! the summary, the report): one home for "1 name" against "2 names".

/// `""` when `n` is one, else `"s"`: `format!("{n} client{}", plural_s(n))`.
pub fn plural_s<N: PartialEq + From<u8>>(n: N) -> &'static str {
    if n == N::from(1) {
        ""
    } else {
        "s"
    }
}

/// `n` with its noun: `1 connection`, `2 connections`.
pub fn count<N: PartialEq + From<u8> + std::fmt::Display>(n: N, one: &str, many: &str) -> String {
    if n == N::from(1) {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(count(1usize, "name", "names"), "1 name");
        assert_eq!(count(0u64, "name", "names"), "0 names");
        assert_eq!(count(2u64, "name has", "names have"), "2 names have");
        assert_eq!(plural_s(1usize), "");
        assert_eq!(plural_s(3u64), "s");
    }
}
