//! Where in a text the keyword walk has to look: a bitmap with one bit per byte, computed 32 bytes
//! at a time with AVX2, so the keyword automaton (`keywords.rs`) steps only the few bytes where a
//! keyword can start instead of every byte of recorded output.
//!
//! Bit `i` of the bitmap of a text `b` is set when
//! - `b[i]` starts something the view removes ([`is_invisible_start`]): the walk stops there;
//! - `b[i..i + 3]` passes the trigram test: a Teddy-style nibble test (Teddy is Hyperscan's
//!   SIMD literal matcher; aho-corasick's `packed` module describes it) that every keyword's first
//!   three bytes pass in any ASCII case, along with some other trigrams (false positives only).
//!
//! So every keyword occurrence in the view starts at a set bit, or within the two bytes before an
//! invisible byte or the end of a run (where its first three view bytes are not adjacent in the
//! text): what the walk does there, and why what it skips cannot matter, is in `keywords.rs`
//! (`KeywordScan::skipping_run`).
//!
//! The test, for a trigram `(x, y, z)` with case folded by `| 0x20`: some bucket `k` of 8 has
//! the low and high nibble of `x | 0x20` among those of its first bytes, the same for `y` and `z`,
//! i.e. `lo[0][x & 15] & hi[0][x >> 4] & lo[1][y & 15] & … != 0`. Folding only sets bit 1 of the
//! high nibble, so it is applied to the tables (`hi[k][h]` is the folded table at `h | 2`), not
//! to the text. `| 0x20` maps more than the letters together (`_` and DEL, `\x1a` and `:`), which
//! only adds false positives: two bytes aho-corasick's ASCII-case-insensitive search equates have
//! the same fold.

use super::visible::is_invisible_start;

/// Buckets of the nibble test (bits of a table entry).
const BUCKETS: usize = 8;

/// The trigram test's tables for a set of keywords; see the module docs.
#[derive(Debug, Clone)]
pub(crate) struct Trigrams {
    /// `lo[k][n]`: the buckets having a trigram whose byte `k` (folded) has low nibble `n`.
    lo: [[u8; 16]; 3],
    /// `hi[k][h]`: the buckets having a trigram whose byte `k` folded has the high nibble of a
    /// byte with high nibble `h` folded.
    hi: [[u8; 16]; 3],
}

impl Trigrams {
    /// The tables for `keywords`; `None` when one is shorter than three bytes (the walk then steps
    /// every byte).
    pub(crate) fn new<K: AsRef<[u8]>>(keywords: &[K]) -> Option<Trigrams> {
        let mut trigrams: Vec<[u8; 3]> = keywords
            .iter()
            .map(|k| k.as_ref().first_chunk::<3>().map(|t| t.map(|b| b | 0x20)))
            .collect::<Option<_>>()?;
        trigrams.sort_unstable();
        trigrams.dedup();
        // Each trigram goes to the bucket it widens least: a bucket passes every combination of
        // the nibbles it has at each position, so the product of their counts is what it passes.
        let mut lo = [[0u8; 16]; 3];
        let mut folded_hi = [[0u8; 16]; 3];
        let passed = |lo: &[[u8; 16]; 3], hi: &[[u8; 16]; 3], bucket: u8| -> u32 {
            (0..3)
                .map(|k| {
                    let count = |t: &[u8; 16]| t.iter().filter(|e| *e & bucket != 0).count() as u32;
                    count(&lo[k]) * count(&hi[k])
                })
                .product()
        };
        for trigram in &trigrams {
            let bucket = (0..BUCKETS)
                .map(|b| 1u8 << b)
                .min_by_key(|&bucket| {
                    let (mut lo, mut hi) = (lo, folded_hi);
                    let before = passed(&lo, &hi, bucket);
                    for (k, &b) in trigram.iter().enumerate() {
                        lo[k][usize::from(b & 15)] |= bucket;
                        hi[k][usize::from(b >> 4)] |= bucket;
                    }
                    passed(&lo, &hi, bucket) - before
                })
                .unwrap_or(1);
            for (k, &b) in trigram.iter().enumerate() {
                lo[k][usize::from(b & 15)] |= bucket;
                folded_hi[k][usize::from(b >> 4)] |= bucket;
            }
        }
        let hi = folded_hi.map(|table| std::array::from_fn(|h| table[h | 2]));
        Some(Trigrams { lo, hi })
    }

    /// Whether the trigram `t` passes the test (see the module docs).
    fn passes(&self, t: [u8; 3]) -> bool {
        let mut buckets = u8::MAX;
        for (k, b) in t.into_iter().enumerate() {
            buckets &= self.lo[k][usize::from(b & 15)] & self.hi[k][usize::from(b >> 4)];
        }
        buckets != 0
    }

    /// The bitmap of `text` (bit `i % 64` of word `i / 64`), 32 bytes at a time with AVX2; `None`
    /// where AVX2 is not available (the walk then steps every byte).
    pub(crate) fn bitmap(&self, text: &[u8]) -> Option<Vec<u64>> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let mut bitmap = vec![0; text.len().div_ceil(64)];
            // SAFETY: AVX2 is available (checked just above).
            let done = unsafe { avx2::blocks(self, text, &mut bitmap) };
            self.tail(text, done, &mut bitmap);
            return Some(bitmap);
        }
        None
    }

    /// The bitmap of `text` a byte at a time: what [`Trigrams::bitmap`] computes (the reference
    /// the tests hold it to, and a bitmap on any machine for the walk's tests).
    #[cfg(test)]
    pub(crate) fn bitmap_scalar(&self, text: &[u8]) -> Vec<u64> {
        let mut bitmap = vec![0; text.len().div_ceil(64)];
        self.tail(text, 0, &mut bitmap);
        bitmap
    }

    /// Sets the bits of the positions from `from` on.
    fn tail(&self, text: &[u8], from: usize, bitmap: &mut [u64]) {
        for i in from..text.len() {
            let trigram = text.get(i..).and_then(<[u8]>::first_chunk::<3>);
            if is_invisible_start(text[i]) || trigram.is_some_and(|t| self.passes(*t)) {
                bitmap[i / 64] |= 1 << (i % 64);
            }
        }
    }
}

/// The first set position of `bitmap` in `from..to`, or `to`.
pub(crate) fn next_set(bitmap: &[u64], from: usize, to: usize) -> usize {
    let mut w = from / 64;
    let mut word = match bitmap.get(w) {
        Some(word) => word & (u64::MAX << (from % 64)),
        None => return to,
    };
    loop {
        if word != 0 {
            return (w * 64 + word.trailing_zeros() as usize).min(to);
        }
        w += 1;
        if w * 64 >= to {
            return to;
        }
        match bitmap.get(w) {
            Some(next) => word = *next,
            None => return to,
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::Trigrams;

    /// The bits of every 32-byte block whose three loads stay inside `text` (positions
    /// `0..done`, `done` returned, a multiple of 32).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn blocks(trigrams: &Trigrams, text: &[u8], bitmap: &mut [u64]) -> usize {
        let table = |t: &[u8; 16]| {
            // SAFETY: reads the 16 bytes of `t`.
            _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(t.as_ptr().cast()) })
        };
        let lo = trigrams.lo.each_ref().map(table);
        let hi = trigrams.hi.each_ref().map(table);
        let nibble = _mm256_set1_epi8(0x0f);
        let lookup = |v: __m256i, k: usize| {
            let low = _mm256_shuffle_epi8(lo[k], _mm256_and_si256(v, nibble));
            let high =
                _mm256_shuffle_epi8(hi[k], _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble));
            _mm256_and_si256(low, high)
        };
        let (c0, tab, lf, cr, del) = (
            _mm256_set1_epi8(0x1f),
            _mm256_set1_epi8(b'\t' as i8),
            _mm256_set1_epi8(b'\n' as i8),
            _mm256_set1_epi8(b'\r' as i8),
            _mm256_set1_epi8(0x7f),
        );
        let (zero, ones) = (_mm256_setzero_si256(), _mm256_set1_epi8(-1));
        let mut at = 0;
        while at + 34 <= text.len() {
            // SAFETY: `at + 2 + 32 <= text.len()`, so all three 32-byte loads are inside `text`.
            let (v0, v1, v2) = unsafe {
                let p = text.as_ptr().add(at);
                (
                    _mm256_loadu_si256(p.cast()),
                    _mm256_loadu_si256(p.add(1).cast()),
                    _mm256_loadu_si256(p.add(2).cast()),
                )
            };
            let buckets = _mm256_and_si256(
                _mm256_and_si256(lookup(v0, 0), lookup(v1, 1)),
                lookup(v2, 2),
            );
            let failed = _mm256_cmpeq_epi8(buckets, zero);
            // Invisible: at most 0x1f but not tab, LF or CR; or DEL.
            let control = _mm256_cmpeq_epi8(_mm256_min_epu8(v0, c0), v0);
            let kept = _mm256_or_si256(
                _mm256_or_si256(_mm256_cmpeq_epi8(v0, tab), _mm256_cmpeq_epi8(v0, lf)),
                _mm256_cmpeq_epi8(v0, cr),
            );
            let removed = _mm256_or_si256(
                _mm256_andnot_si256(kept, control),
                _mm256_cmpeq_epi8(v0, del),
            );
            let set =
                _mm256_movemask_epi8(_mm256_or_si256(removed, _mm256_xor_si256(failed, ones)));
            // `at` is a multiple of 32: the block is the low or high half of a word.
            bitmap[at / 64] |= u64::from(set as u32) << (at % 64);
            at += 32;
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::secrets::rules::RULES;

    fn builtin() -> Trigrams {
        let keywords: Vec<&str> = RULES
            .iter()
            .flat_map(|r| r.keywords.iter().copied())
            .collect();
        Trigrams::new(&keywords).expect("every built-in keyword has three bytes or more")
    }

    fn bit(bitmap: &[u64], i: usize) -> bool {
        bitmap[i / 64] >> (i % 64) & 1 == 1
    }

    #[test]
    fn every_keyword_in_any_case_and_every_invisible_byte_is_a_candidate() {
        let trigrams = builtin();
        let keywords = RULES.iter().flat_map(|r| r.keywords.iter());
        for keyword in keywords {
            for text in [
                format!("zz{keyword}zz"),
                format!("zz{}zz", keyword.to_ascii_uppercase()),
            ] {
                assert!(bit(&trigrams.bitmap_scalar(text.as_bytes()), 2), "{text:?}");
            }
        }
        let text = b"plain words\x1b[1mbold\x07x\x7fy and more plain words";
        let bitmap = trigrams.bitmap_scalar(text);
        for (i, b) in text.iter().enumerate() {
            if is_invisible_start(*b) {
                assert!(bit(&bitmap, i), "{i}");
            }
        }
        // Ordinary words mostly fail the test (the point of it).
        let plain = b"the quick brown fox jumps over the lazy dog; compiling module step 1234";
        let bitmap = trigrams.bitmap_scalar(plain);
        let set = (0..plain.len() - 2).filter(|i| bit(&bitmap, *i)).count();
        assert!(set * 10 < plain.len(), "{set} of {} set", plain.len());
    }

    #[test]
    fn a_keyword_shorter_than_three_bytes_gives_no_tables() {
        assert!(Trigrams::new(&["key", "ab"]).is_none());
    }

    #[test]
    fn next_set_finds_the_first_set_position_in_range() {
        let bitmap = [1u64 << 5, 0, 1 << 1];
        assert_eq!(next_set(&bitmap, 0, 192), 5);
        assert_eq!(next_set(&bitmap, 5, 192), 5);
        assert_eq!(next_set(&bitmap, 6, 192), 129);
        assert_eq!(next_set(&bitmap, 6, 100), 100);
        assert_eq!(next_set(&bitmap, 130, 192), 192);
        assert_eq!(next_set(&bitmap, 500, 600), 600);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// The AVX2 bitmap equals the byte-at-a-time one, at every length and alignment.
        #[test]
        fn simd_bitmap_equals_the_scalar_one(
            bytes in proptest::collection::vec(prop_oneof![
                4 => proptest::sample::select(b"keyKEYtokenTOKENsecret_ghp://.eyAKIAakia3t-".to_vec()),
                2 => 0x20u8..0x7f,
                1 => proptest::sample::select(vec![0x1bu8, 0x07, b'\t', b'\n', b'\r', 0x7f, 0x00, 0x1f, 0x20]),
                1 => any::<u8>(),
            ], 0..300),
            skip in 0usize..40,
        ) {
            let trigrams = builtin();
            let text = &bytes[skip.min(bytes.len())..];
            if let Some(simd) = trigrams.bitmap(text) {
                prop_assert_eq!(simd, trigrams.bitmap_scalar(text));
            }
        }
    }
}
