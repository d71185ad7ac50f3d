//! What the bytes of a 64-byte block are, as bitmasks: base64 characters (either alphabet:
//! `A-Z a-z 0-9 + / - _`), and `%` and `\`, where percent-encoding and string escapes start;
//! and from the base64 masks, where runs long enough to be encoded data start. It is the inner
//! loop of the search for encoded text and touches every byte scanned, so on x86-64 it uses
//! AVX2 (when the CPU has it, detected at run time: a table lookup per nibble, run starts four
//! blocks at a time) or SSE2 (always there: range comparisons); elsewhere portable loops.
//!
//! This is the crate's only `unsafe`: calling a `#[target_feature]` function, after checking
//! that the CPU has the feature, and unaligned loads and stores inside a `&[u8; 64]` or a
//! batch's arrays. The tests check every byte value at every position, and the marking of
//! random batches, against the portable definitions.

#![allow(unsafe_code)]

/// Whether `b` is a base64 character of the standard or the URL-safe alphabet.
#[inline(always)]
pub(crate) fn is_b64(b: u8) -> bool {
    ((b | 0x20).wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'0') < 10)
        | (b == b'+')
        | (b == b'/')
        | (b == b'-')
        | (b == b'_')
}

/// Whether `b` may start an escape: `%` (percent-encoding) or `\` (string escapes).
#[inline(always)]
pub(crate) fn is_escape(b: u8) -> bool {
    b == b'%' || b == b'\\'
}

/// The masks of one block: bit `i` describes byte `i`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Masks {
    /// Base64 characters.
    pub(crate) b64: u64,
    /// `%` and `\`.
    pub(crate) escape: u64,
}

/// A block that holds the start of a long base64 run or an escape.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Marked {
    /// Offset of the block in the content.
    pub(crate) offset: usize,
    /// The base64 mask of the block and, in the high half, of the next one (a run can start
    /// near the end of a block).
    pub(crate) b64: u128,
    /// Bit `i` set when a base64 run of at least [`RUN`] characters starts at byte `i` (a
    /// longer run sets the bits of its first `len - RUN + 1` bytes).
    pub(crate) starts: u64,
    /// `%` and `\`.
    pub(crate) escapes: u64,
}

/// Blocks classified per call of the vectorised loop.
const BATCH: usize = 64;

/// Shortest base64 run worth looking at: 19 decoded bytes, shorter than any key (an AWS
/// access key id, 20 bytes, is 27 characters).
pub(crate) const MIN_B64_RUN: usize = 26;

/// Shortest base64 run whose starts [`Marked::starts`] shows.
const RUN: usize = MIN_B64_RUN;
const _: () = assert!(RUN > 16 && RUN <= 32);

/// Bit `i` set when bits `i..i + RUN` of `x` are all set: where in a block (the low half; the
/// high half is the next block) a run of at least `RUN` starts.
#[inline(always)]
fn run_starts(x: u128) -> u64 {
    let mut r = x & (x >> 1);
    r &= r >> 2;
    r &= r >> 4;
    r &= r >> 8;
    (r & (r >> (RUN - 16))) as u64
}

/// The masks of a batch of blocks, laid out for the vector unit.
struct Batch {
    /// Base64 masks: `n` blocks, then the block after the batch, then zeros.
    b64: [u64; BATCH + 1],
    escape: [u64; BATCH],
    starts: [u64; BATCH],
}

/// Calls `f` for each 64-byte block of `content` (the last one padded) that holds the start of
/// a base64 run of at least [`RUN`] characters or a `%` or `\`. Masks are computed a batch of
/// blocks at a time by loops compiled for the CPU's vector unit, which also tell which blocks
/// are marked; most blocks of source code are not, and cost nothing more.
pub(crate) fn for_each_marked(content: &[u8], mut f: impl FnMut(&Marked)) {
    let (blocks, rest) = content.as_chunks::<64>();
    let mut padded = [0u8; 64];
    padded[..rest.len()].copy_from_slice(rest);
    let tail: &[[u8; 64]] = if rest.is_empty() {
        &[]
    } else {
        std::slice::from_ref(&padded)
    };
    let mut batch = Batch {
        b64: [0; BATCH + 1],
        escape: [0; BATCH],
        starts: [0; BATCH],
    };
    for (part, start, next) in [(blocks, 0, tail.first()), (tail, blocks.len() * 64, None)] {
        for (b, chunk) in part.chunks(BATCH).enumerate() {
            let n = chunk.len();
            fill(chunk, &mut batch.b64[..n], &mut batch.escape[..n]);
            let after = part.get((b + 1) * BATCH).or(next);
            batch.b64[n] = after.map_or(0, |block| block_masks(block).b64);
            if n < BATCH {
                batch.b64[n + 1..].fill(0);
                batch.escape[n..].fill(0);
            }
            let mut marked = mark(&mut batch);
            if n < BATCH {
                marked &= (1u64 << n) - 1;
            }
            let base = start + b * BATCH * 64;
            while marked != 0 {
                let k = marked.trailing_zeros() as usize;
                marked &= marked - 1;
                f(&Marked {
                    offset: base + k * 64,
                    b64: u128::from(batch.b64[k]) | (u128::from(batch.b64[k + 1]) << 64),
                    starts: batch.starts[k],
                    escapes: batch.escape[k],
                });
            }
        }
    }
}

/// Fills `batch.starts` from `batch.b64`; bit `k` of the result is set when block `k` has
/// starts or escapes.
fn mark(batch: &mut Batch) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked on the line above.
        return unsafe { x86::mark_avx2(batch) };
    }
    mark_portable(batch)
}

/// [`mark`] in plain Rust.
fn mark_portable(batch: &mut Batch) -> u64 {
    let mut marked = 0u64;
    for k in 0..BATCH {
        let b64 = u128::from(batch.b64[k]) | (u128::from(batch.b64[k + 1]) << 64);
        batch.starts[k] = run_starts(b64);
        marked |= u64::from(batch.starts[k] | batch.escape[k] != 0) << k;
    }
    marked
}

/// The masks of one block.
fn block_masks(block: &[u8; 64]) -> Masks {
    let (mut b64, mut escape) = ([0u64], [0u64]);
    fill(std::slice::from_ref(block), &mut b64, &mut escape);
    Masks {
        b64: b64[0],
        escape: escape[0],
    }
}

/// Upper-case (`A-Z`) and lower-case (`a-z`) bitmasks of a block.
pub(crate) fn case_masks(block: &[u8; 64]) -> (u64, u64) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked on the line above.
            unsafe { x86::case_avx2(block) }
        } else {
            // SAFETY: SSE2 is part of the x86-64 baseline.
            unsafe { x86::case_sse2(block) }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        case_portable(block)
    }
}

/// [`case_masks`] in plain Rust.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(crate) fn case_portable(block: &[u8; 64]) -> (u64, u64) {
    let (mut upper, mut lower) = (0u64, 0u64);
    for (i, &c) in block.iter().enumerate() {
        upper |= u64::from(c.wrapping_sub(b'A') < 26) << i;
        lower |= u64::from(c.wrapping_sub(b'a') < 26) << i;
    }
    (upper, lower)
}

/// `b64[k]` and `escape[k]` = the masks of `blocks[k]`.
fn fill(blocks: &[[u8; 64]], b64: &mut [u64], escape: &mut [u64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked on the line above.
            unsafe { x86::fill_avx2(blocks, b64, escape) }
        } else {
            // SAFETY: SSE2 is part of the x86-64 baseline.
            unsafe { x86::fill_sse2(blocks, b64, escape) }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    for ((block, b), e) in blocks.iter().zip(b64).zip(escape) {
        let m = portable(block);
        (*b, *e) = (m.b64, m.escape);
    }
}

/// The definition, in plain Rust (vectorised by the compiler as far as it can).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(crate) fn portable(block: &[u8; 64]) -> Masks {
    let mut b64 = [0u8; 64];
    let mut escape = [0u8; 64];
    for ((b, e), &c) in b64.iter_mut().zip(escape.iter_mut()).zip(block) {
        *b = u8::from(is_b64(c));
        *e = u8::from(is_escape(c));
    }
    Masks {
        b64: pack(&b64),
        escape: pack(&escape),
    }
}

/// Bit `i` set when `bits[i]` (0 or 1) is 1.
#[inline(always)]
pub(crate) fn pack(bits: &[u8; 64]) -> u64 {
    let mut mask = 0u64;
    for (j, eight) in bits.chunks_exact(8).enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(eight);
        // Gathers the low bit of each byte into the top byte.
        let packed = u64::from_le_bytes(w).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        mask |= packed << (j * 8);
    }
    mask
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Batch, Masks, BATCH, RUN};
    use std::arch::x86_64::*;

    /// Lanes of `x` in `lo..lo + n` (unsigned) as 0xFF, others 0: `x - lo` wraps below `lo`, so
    /// one unsigned comparison tests both ends.
    #[target_feature(enable = "sse2")]
    #[inline]
    fn in_range_sse2(x: __m128i, lo: u8, n: u8) -> __m128i {
        let t = _mm_sub_epi8(x, _mm_set1_epi8(lo as i8));
        _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8((n - 1) as i8)), t)
    }

    /// [`in_range_sse2`] on 32 lanes.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn in_range_avx2(x: __m256i, lo: u8, n: u8) -> __m256i {
        let t = _mm256_sub_epi8(x, _mm256_set1_epi8(lo as i8));
        _mm256_cmpeq_epi8(_mm256_min_epu8(t, _mm256_set1_epi8((n - 1) as i8)), t)
    }

    /// Class bits of a byte's low nibble (`LO`) and high nibble (`HI`); a byte is in a class
    /// when both of its nibbles have the class's bit. Classes: `+ - /`, digits, `A-O a-o`,
    /// `P-Z p-z`, `_` (together: base64, [`B64_BITS`]); `%`, `\` ([`ESCAPE_BITS`]).
    const LO: [u8; 16] = [
        0x0A, 0x0E, 0x0E, 0x0E, 0x0E, 0x2E, 0x0E, 0x0E, // 0-7
        0x0E, 0x0E, 0x0C, 0x05, 0x44, 0x05, 0x04, 0x15, // 8-F
    ];
    const HI: [u8; 16] = [
        0x00, 0x00, 0x21, 0x02, 0x04, 0x58, 0x04, 0x08, // 0-7
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 8-F
    ];
    const B64_BITS: i8 = 0x1F;
    const ESCAPE_BITS: i8 = 0x60;

    #[target_feature(enable = "avx2")]
    #[inline]
    fn masks_avx2(block: &[u8; 64]) -> Masks {
        // SAFETY: the tables are 16 bytes long.
        let (lo_t, hi_t) = unsafe {
            (
                _mm256_broadcastsi128_si256(_mm_loadu_si128(LO.as_ptr().cast::<__m128i>())),
                _mm256_broadcastsi128_si256(_mm_loadu_si128(HI.as_ptr().cast::<__m128i>())),
            )
        };
        let nibble = _mm256_set1_epi8(0x0F);
        let zero = _mm256_setzero_si256();
        let p = block.as_ptr();
        let mut m = Masks::default();
        for half in 0..2 {
            // SAFETY: bytes `32 * half .. 32 * half + 32` are inside the 64-byte block.
            let x = unsafe { _mm256_loadu_si256(p.add(32 * half).cast::<__m256i>()) };
            let lo = _mm256_and_si256(x, nibble);
            let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(x), nibble);
            let t = _mm256_and_si256(_mm256_shuffle_epi8(lo_t, lo), _mm256_shuffle_epi8(hi_t, hi));
            let not_b64 = _mm256_cmpeq_epi8(_mm256_and_si256(t, _mm256_set1_epi8(B64_BITS)), zero);
            let not_esc =
                _mm256_cmpeq_epi8(_mm256_and_si256(t, _mm256_set1_epi8(ESCAPE_BITS)), zero);
            m.b64 |= u64::from(!(_mm256_movemask_epi8(not_b64) as u32)) << (32 * half);
            m.escape |= u64::from(!(_mm256_movemask_epi8(not_esc) as u32)) << (32 * half);
        }
        m
    }

    #[target_feature(enable = "sse2")]
    #[inline]
    fn masks_sse2(block: &[u8; 64]) -> Masks {
        let p = block.as_ptr();
        let mut m = Masks::default();
        for quarter in 0..4 {
            // SAFETY: bytes `16 * quarter .. 16 * quarter + 16` are inside the 64-byte block.
            let x = unsafe { _mm_loadu_si128(p.add(16 * quarter).cast::<__m128i>()) };
            let eq = |c: u8| _mm_cmpeq_epi8(x, _mm_set1_epi8(c as i8));
            let letters = in_range_sse2(_mm_or_si128(x, _mm_set1_epi8(0x20)), b'a', 26);
            let digits = in_range_sse2(x, b'0', 10);
            let signs = _mm_or_si128(
                _mm_or_si128(eq(b'+'), eq(b'/')),
                _mm_or_si128(eq(b'-'), eq(b'_')),
            );
            let b64 = _mm_or_si128(_mm_or_si128(letters, digits), signs);
            let esc = _mm_or_si128(eq(b'%'), eq(b'\\'));
            m.b64 |= u64::from(_mm_movemask_epi8(b64) as u16) << (16 * quarter);
            m.escape |= u64::from(_mm_movemask_epi8(esc) as u16) << (16 * quarter);
        }
        m
    }

    /// [`super::case_masks`] with AVX2. Callers make sure the CPU has it.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn case_avx2(block: &[u8; 64]) -> (u64, u64) {
        let p = block.as_ptr();
        let (mut upper, mut lower) = (0u64, 0u64);
        for half in 0..2 {
            // SAFETY: bytes `32 * half .. 32 * half + 32` are inside the 64-byte block.
            let x = unsafe { _mm256_loadu_si256(p.add(32 * half).cast::<__m256i>()) };
            let (u, l) = (in_range_avx2(x, b'A', 26), in_range_avx2(x, b'a', 26));
            upper |= u64::from(_mm256_movemask_epi8(u) as u32) << (32 * half);
            lower |= u64::from(_mm256_movemask_epi8(l) as u32) << (32 * half);
        }
        (upper, lower)
    }

    /// [`super::case_masks`] with SSE2.
    #[target_feature(enable = "sse2")]
    pub(super) unsafe fn case_sse2(block: &[u8; 64]) -> (u64, u64) {
        let p = block.as_ptr();
        let (mut upper, mut lower) = (0u64, 0u64);
        for quarter in 0..4 {
            // SAFETY: bytes `16 * quarter .. 16 * quarter + 16` are inside the 64-byte block.
            let x = unsafe { _mm_loadu_si128(p.add(16 * quarter).cast::<__m128i>()) };
            let (u, l) = (in_range_sse2(x, b'A', 26), in_range_sse2(x, b'a', 26));
            upper |= u64::from(_mm_movemask_epi8(u) as u16) << (16 * quarter);
            lower |= u64::from(_mm_movemask_epi8(l) as u16) << (16 * quarter);
        }
        (upper, lower)
    }

    /// [`super::fill`] with AVX2. Callers make sure the CPU has it.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn fill_avx2(blocks: &[[u8; 64]], b64: &mut [u64], escape: &mut [u64]) {
        for ((block, b), e) in blocks.iter().zip(b64).zip(escape) {
            let m = masks_avx2(block);
            (*b, *e) = (m.b64, m.escape);
        }
    }

    /// [`super::mark`] with AVX2, four blocks at a time. Callers make sure the CPU has it.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn mark_avx2(batch: &mut Batch) -> u64 {
        /// `x` (four 64-bit lanes) shifted right by `S` bits, with the low bits of the
        /// following block's lanes `next` shifted in: the low halves of 128-bit shifts.
        macro_rules! shr {
            ($x:expr, $next:expr, $s:literal) => {
                _mm256_or_si256(
                    _mm256_srli_epi64::<$s>($x),
                    _mm256_slli_epi64::<{ 64 - $s }>($next),
                )
            };
        }
        let zero = _mm256_setzero_si256();
        let mut marked = 0u64;
        for k in (0..BATCH).step_by(4) {
            // SAFETY: `k + 4 <= BATCH` and `b64` has `BATCH + 1` entries (the last load reads
            // `b64[k + 1..k + 5]`, at most up to index `BATCH`), so every load and
            // store stays inside its array.
            let (lo, hi, esc) = unsafe {
                (
                    _mm256_loadu_si256(batch.b64.as_ptr().add(k).cast::<__m256i>()),
                    _mm256_loadu_si256(batch.b64.as_ptr().add(k + 1).cast::<__m256i>()),
                    _mm256_loadu_si256(batch.escape.as_ptr().add(k).cast::<__m256i>()),
                )
            };
            // As `run_starts` on the 128-bit lanes `lo | hi << 64`; the bits of `hi` shifted
            // out at the top are never needed (a run start needs `RUN` bits above it).
            let (mut lo, mut hi) = (lo, hi);
            lo = _mm256_and_si256(lo, shr!(lo, hi, 1));
            hi = _mm256_and_si256(hi, _mm256_srli_epi64::<1>(hi));
            lo = _mm256_and_si256(lo, shr!(lo, hi, 2));
            hi = _mm256_and_si256(hi, _mm256_srli_epi64::<2>(hi));
            lo = _mm256_and_si256(lo, shr!(lo, hi, 4));
            hi = _mm256_and_si256(hi, _mm256_srli_epi64::<4>(hi));
            lo = _mm256_and_si256(lo, shr!(lo, hi, 8));
            hi = _mm256_and_si256(hi, _mm256_srli_epi64::<8>(hi));
            const _: () = assert!(RUN - 16 == 10);
            let starts = _mm256_and_si256(lo, shr!(lo, hi, 10));
            // SAFETY: as above.
            unsafe { _mm256_storeu_si256(batch.starts.as_mut_ptr().add(k).cast(), starts) };
            let empty = _mm256_cmpeq_epi64(_mm256_or_si256(starts, esc), zero);
            let bits = !_mm256_movemask_pd(_mm256_castsi256_pd(empty)) & 0xF;
            marked |= u64::from(bits as u32) << k;
        }
        marked
    }

    /// [`super::fill`] with SSE2.
    #[target_feature(enable = "sse2")]
    pub(super) unsafe fn fill_sse2(blocks: &[[u8; 64]], b64: &mut [u64], escape: &mut [u64]) {
        for ((block, b), e) in blocks.iter().zip(b64).zip(escape) {
            let m = masks_sse2(block);
            (*b, *e) = (m.b64, m.escape);
        }
    }

    #[cfg(test)]
    pub(super) fn both(block: &[u8; 64]) -> [Option<Masks>; 2] {
        // SAFETY: each runs only where the CPU has its feature.
        let avx2 = std::is_x86_feature_detected!("avx2").then(|| unsafe { masks_avx2(block) });
        let sse2 = Some(unsafe { masks_sse2(block) });
        [avx2, sse2]
    }

    #[cfg(test)]
    pub(super) fn both_cases(block: &[u8; 64]) -> [Option<(u64, u64)>; 2] {
        // SAFETY: each runs only where the CPU has its feature.
        let avx2 = std::is_x86_feature_detected!("avx2").then(|| unsafe { case_avx2(block) });
        let sse2 = Some(unsafe { case_sse2(block) });
        [avx2, sse2]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(block: &[u8; 64]) {
        let want = portable(block);
        assert_eq!(block_masks(block), want, "{block:?}");
        #[cfg(target_arch = "x86_64")]
        for got in x86::both(block).into_iter().flatten() {
            assert_eq!(got, want, "{block:?}");
        }
        let cases = case_portable(block);
        assert_eq!(case_masks(block), cases, "{block:?}");
        #[cfg(target_arch = "x86_64")]
        for got in x86::both_cases(block).into_iter().flatten() {
            assert_eq!(got, cases, "{block:?}");
        }
    }

    #[test]
    fn every_byte_at_every_position() {
        for b in 0..=255u8 {
            for at in 0..64 {
                let mut block = [b' '; 64];
                block[at] = b;
                check(&block);
                let mut block = [b'A'; 64];
                block[at] = b;
                check(&block);
            }
        }
        let mut block = [0u8; 64];
        for start in 0..=255u8 {
            for (i, b) in block.iter_mut().enumerate() {
                *b = start.wrapping_add(i as u8);
            }
            check(&block);
        }
    }

    #[test]
    fn the_alphabets() {
        let all: Vec<u8> = (0..=255u8).filter(|&b| is_b64(b)).collect();
        let mut want: Vec<u8> =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_".to_vec();
        want.sort_unstable();
        assert_eq!(all, want);
        let escapes: Vec<u8> = (0..=255u8).filter(|&b| is_escape(b)).collect();
        assert_eq!(escapes, b"%\\");
    }

    #[test]
    fn run_starts_across_blocks() {
        // A run of exactly RUN characters starting at each position of a block.
        for at in 0..64 {
            let run = ((1u128 << RUN) - 1) << at;
            assert_eq!(run_starts(run), 1u64 << at, "at {at}");
            // One character short: no start.
            assert_eq!(run_starts((run >> 1) & run), 0, "at {at}");
        }
        assert_eq!(run_starts(u128::MAX), u64::MAX);
    }

    #[test]
    fn vector_marking_matches_the_definition() {
        for seed in 0..200u64 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut batch = Batch {
                b64: [0; BATCH + 1],
                escape: [0; BATCH],
                starts: [0; BATCH],
            };
            // Masks with long runs of set bits, as base64 text gives.
            for m in batch.b64.iter_mut().take(BATCH + 1) {
                let (a, b) = (rng.u32(0..64), rng.u32(0..64));
                *m = match rng.u8(..4) {
                    0 => u64::MAX,
                    1 => 0,
                    2 => rng.u64(..),
                    _ => (u64::MAX << a.min(b)) & (u64::MAX >> (63 - a.max(b))),
                };
            }
            for e in batch.escape.iter_mut() {
                *e = if rng.u8(..8) == 0 {
                    1 << rng.u32(0..64)
                } else {
                    0
                };
            }
            let mut want = Batch { ..batch };
            let marked = mark_portable(&mut want);
            let got = mark(&mut batch);
            assert_eq!((got, batch.starts), (marked, want.starts), "seed {seed}");
        }
    }
}
