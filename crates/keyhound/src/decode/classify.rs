//! What the bytes of a 64-byte block are, as bitmasks: base64 characters (either alphabet:
//! `A-Z a-z 0-9 + / - _`), and `%` and `\`, where percent-encoding and string escapes start.
//! It is the inner loop of the search for encoded text and touches every byte scanned, so on
//! x86-64 it uses AVX2 (when the CPU has it, detected at run time: a table lookup per nibble)
//! or SSE2 (always there: range comparisons); elsewhere a portable loop the compiler vectorises.
//!
//! This is the crate's only `unsafe`: calling a `#[target_feature]` function, after checking
//! that the CPU has the feature, and unaligned loads from a `&[u8; 64]`. The tests check every
//! byte value at every position against the portable definition.

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

/// Blocks classified per call of the vectorised loop.
const BATCH: usize = 64;

/// Calls `f(k, block, masks)` for each block `k` of `blocks` in order. Masks are computed a
/// batch of blocks at a time by a loop compiled for the CPU's vector unit; `f` (the caller's
/// bookkeeping) runs outside it.
#[inline]
pub(crate) fn for_each_block(blocks: &[[u8; 64]], mut f: impl FnMut(usize, &[u8; 64], Masks)) {
    let mut masks = [Masks::default(); BATCH];
    for (b, batch) in blocks.chunks(BATCH).enumerate() {
        let masks = &mut masks[..batch.len()];
        fill(batch, masks);
        for (i, (block, &m)) in batch.iter().zip(masks.iter()).enumerate() {
            f(b * BATCH + i, block, m);
        }
    }
}

/// The masks of one block (for the short last block, padded).
pub(crate) fn block_masks(block: &[u8; 64]) -> Masks {
    let mut masks = [Masks::default(); 1];
    fill(std::slice::from_ref(block), &mut masks);
    masks[0]
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

/// `masks[k]` = the masks of `blocks[k]`.
fn fill(blocks: &[[u8; 64]], masks: &mut [Masks]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked on the line above.
            unsafe { x86::fill_avx2(blocks, masks) }
        } else {
            // SAFETY: SSE2 is part of the x86-64 baseline.
            unsafe { x86::fill_sse2(blocks, masks) }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    for (block, m) in blocks.iter().zip(masks) {
        *m = portable(block);
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
    use super::Masks;
    use std::arch::x86_64::*;

    /// Lanes of `x` in `lo..lo + n` (unsigned): `x - lo` wraps below `lo`, so one unsigned
    /// comparison tests both ends.
    macro_rules! in_range {
        ($sub:ident, $min:ident, $eq:ident, $set1:ident, $x:expr, $lo:expr, $n:expr) => {{
            let t = $sub($x, $set1($lo as i8));
            $eq($min(t, $set1(($n - 1) as i8)), t)
        }};
    }

    /// The base64 lanes of `x` as 0xFF, others 0.
    macro_rules! classify {
        ($or:ident, $sub:ident, $min:ident, $eq:ident, $set1:ident, $x:expr) => {{
            let x = $x;
            let letters = in_range!($sub, $min, $eq, $set1, $or(x, $set1(0x20)), b'a', 26u8);
            let digits = in_range!($sub, $min, $eq, $set1, x, b'0', 10u8);
            let signs = $or(
                $or($eq(x, $set1(b'+' as i8)), $eq(x, $set1(b'/' as i8))),
                $or($eq(x, $set1(b'-' as i8)), $eq(x, $set1(b'_' as i8))),
            );
            $or($or(letters, digits), signs)
        }};
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
            let b64 = classify!(
                _mm_or_si128,
                _mm_sub_epi8,
                _mm_min_epu8,
                _mm_cmpeq_epi8,
                _mm_set1_epi8,
                x
            );
            let esc = _mm_or_si128(
                _mm_cmpeq_epi8(x, _mm_set1_epi8(b'%' as i8)),
                _mm_cmpeq_epi8(x, _mm_set1_epi8(b'\\' as i8)),
            );
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
            let u = in_range!(
                _mm256_sub_epi8,
                _mm256_min_epu8,
                _mm256_cmpeq_epi8,
                _mm256_set1_epi8,
                x,
                b'A',
                26u8
            );
            let l = in_range!(
                _mm256_sub_epi8,
                _mm256_min_epu8,
                _mm256_cmpeq_epi8,
                _mm256_set1_epi8,
                x,
                b'a',
                26u8
            );
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
            let u = in_range!(
                _mm_sub_epi8,
                _mm_min_epu8,
                _mm_cmpeq_epi8,
                _mm_set1_epi8,
                x,
                b'A',
                26u8
            );
            let l = in_range!(
                _mm_sub_epi8,
                _mm_min_epu8,
                _mm_cmpeq_epi8,
                _mm_set1_epi8,
                x,
                b'a',
                26u8
            );
            upper |= u64::from(_mm_movemask_epi8(u) as u16) << (16 * quarter);
            lower |= u64::from(_mm_movemask_epi8(l) as u16) << (16 * quarter);
        }
        (upper, lower)
    }

    /// [`super::fill`] with AVX2. Callers make sure the CPU has it.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn fill_avx2(blocks: &[[u8; 64]], masks: &mut [Masks]) {
        for (block, m) in blocks.iter().zip(masks) {
            *m = masks_avx2(block);
        }
    }

    /// [`super::fill`] with SSE2.
    #[target_feature(enable = "sse2")]
    pub(super) unsafe fn fill_sse2(blocks: &[[u8; 64]], masks: &mut [Masks]) {
        for (block, m) in blocks.iter().zip(masks) {
            *m = masks_sse2(block);
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
}
