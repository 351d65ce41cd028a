//! The portable definitions against hand-computed instruction results (the
//! ARMv7-M Architecture Reference Manual's pseudocode), and the word views.

use super::*;

/// A 32-bit word from two `i16` lanes.
fn lanes(lo: i16, hi: i16) -> u32 {
    u32::from(lo as u16) | u32::from(hi as u16) << 16
}

#[test]
fn multiply_accumulates_read_signed_lanes_and_wrap() {
    assert_eq!(smlad(lanes(-2, 3), lanes(5, 2), 10), 6, "10 + (-2)·5 + 3·2");
    assert_eq!(
        smlad(lanes(-32768, -32768), lanes(-32768, -32768), 0),
        i32::MIN,
        "2^31 wraps"
    );
    assert_eq!(smlad(lanes(7, 0), lanes(7, 0), i32::MAX), i32::MIN + 48);
    assert_eq!(smlabb(lanes(-3, 100), lanes(4, 100), 1), -11);
    assert_eq!(smlabt(lanes(-3, 100), lanes(100, 4), 1), -11);
}

#[test]
fn extensions_pick_bytes_0_and_2_or_1_and_3() {
    let x = 0x80_7f_01_ffu32; // bytes (low first): ff 01 7f 80
    assert_eq!(sxtb16(x), lanes(-1, 127));
    assert_eq!(sxtb16_ror8(x), lanes(1, -128));
    assert_eq!(uxtb16(x), lanes(255, 127));
    assert_eq!(uxtb16_ror8(x), lanes(1, 128));
}

#[test]
fn widening_puts_bytes_0_2_then_1_3_into_lanes_for_as_many_words_as_fit() {
    let x = [[0xff, 0x01, 0x7f, 0x80], [2, 0xfe, 3, 0x81], [9, 9, 9, 9]];
    let mut patch = [[0u32; 2]; 3];
    widen_bytes(&x, true, &mut patch);
    assert_eq!(patch[0], [lanes(-1, 127), lanes(1, -128)]);
    assert_eq!(patch[1], [lanes(2, 3), lanes(-2, -127)]);
    assert_eq!(patch[2], [lanes(9, 9), lanes(9, 9)]);
    widen_bytes(&x[..2], false, &mut patch);
    assert_eq!(patch[0], [lanes(255, 127), lanes(1, 128)]);
    assert_eq!(patch[1], [lanes(2, 3), lanes(254, 129)]);
    assert_eq!(patch[2], [lanes(9, 9), lanes(9, 9)], "only two words were given");
}

#[test]
fn nibble_rows_interleave_in_groups_of_four_and_pair_lanes_j_and_j_plus_4() {
    let mut state = 0x1234_5678_9abc_def0u64;
    // Every group size, a full row of 32 words (whose sums reach the 2^19
    // bound the scaling leaves room for) and a short one.
    for (rows, words, signed) in [(7, 3, true), (7, 3, false), (5, 32, false), (3, 32, true)] {
        let w: Vec<u8> = (0..4 * rows * words).map(|_| xorshift(&mut state) as u8).collect();
        let lane = |v: u64| {
            if signed {
                v as u8 as i8 as i16 as u16
            } else {
                v as u8 as u16
            }
        };
        let p: Vec<[u32; 4]> = (0..words)
            .map(|_| {
                core::array::from_fn(|_| {
                    let v = xorshift(&mut state);
                    u32::from(lane(v)) | u32::from(lane(v >> 8)) << 16
                })
            })
            .collect();
        let mut sums = vec![-5; rows];
        assert!(dot_rows_u4(&w, words, &p, &mut sums));
        for (r, &sum) in sums.iter().enumerate() {
            let (group, in_group) = (r / 4, r % 4);
            let size = 4.min(rows - 4 * group);
            let mut expected = 0;
            for (k, chunk) in p.iter().enumerate() {
                let at = 4 * (4 * group * words + k * size + in_group);
                let word = u32::from_le_bytes(w[at..at + 4].try_into().unwrap());
                for (j, &x) in chunk.iter().enumerate() {
                    // Two's complement nibbles.
                    let nibble = |bit: usize| (((word >> bit) & 0xf) as i32 ^ 8) - 8;
                    let (lo, hi) = (i32::from(x as u16 as i16), i32::from((x >> 16) as u16 as i16));
                    expected += nibble(4 * j) * lo + nibble(16 + 4 * j) * hi;
                }
            }
            assert_eq!(sum, expected, "row {r} of {rows}, {words} words");
        }
    }
    let (w, p) = (vec![0u8; 4 * 33], vec![[0u32; 4]; 33]);
    let mut sums = vec![0; 1];
    assert!(dot_rows_u4(&w, 32, &p, &mut sums));
    assert!(!dot_rows_u4(&w, 33, &p, &mut sums), "rows too long");
    assert!(!dot_rows_u4(&w[5..], 32, &p, &mut sums), "rows too short");
    assert!(!dot_rows_u4(&w, 32, &p[2..], &mut sums), "patch too short");
}

#[test]
fn saturations_clamp_to_eight_bits() {
    for (x, s, u) in [
        (0, 0, 0),
        (-129, -128, 0),
        (128, 127, 128),
        (300, 127, 255),
        (i32::MIN, -128, 0),
        (i32::MAX, 127, 255),
    ] {
        assert_eq!((ssat8(x), usat8(x)), (s, u), "x = {x}");
    }
}

#[test]
fn packs_take_the_named_halves() {
    assert_eq!(pkhbt(lanes(1, 2), lanes(3, 4)), lanes(1, 3));
    assert_eq!(pkhtb(lanes(1, 2), lanes(3, 4)), lanes(4, 2));
}

#[test]
fn word_views_start_at_the_first_aligned_byte() {
    let mut buf = [0u8; 23];
    for start in 0..4 {
        let len = buf.len() - start;
        let view = words_mut(&mut buf[start..]);
        assert!(view.len() >= (len - 3) / 4);
        assert_eq!(view.as_ptr().addr() % 4, 0);
        view.fill(0x0102_0304);
        assert_eq!(
            words(&buf[start..]).len(),
            (len - (buf[start..].as_ptr().addr().wrapping_neg() % 4)) / 4
        );
    }
    assert!(words(&[]).is_empty());
    let mut w = [0x0004_0003u32, 0x0102_0001];
    assert_eq!(halves_mut(&mut w), [3, 4, 1, 0x0102]);
    halves_mut(&mut w)[1] = 0xffff;
    assert_eq!(w[0], 0xffff_0003);
    bytes_mut(&mut w)[7] = 0x7f;
    assert_eq!(w[1], 0x7f02_0001);
    assert!(words(&buf[..2]).is_empty() || buf[..2].as_ptr().addr() % 4 == 0);
}

/// The weights of a word of `bits`-bit two's complement values, plain
/// order (value `k` in bits `k·bits ..`).
fn unpack(word: u32, bits: u32) -> Vec<i32> {
    (0..32 / bits)
        .map(|k| ((word << (32 - bits - k * bits)) as i32) >> (32 - bits))
        .collect()
}

/// Patch values `k` of a chunk in lane order: the value index of every
/// halfword, from the table in `dot`'s docs.
fn lane_order(bits: u32) -> Vec<usize> {
    match bits {
        8 => vec![0, 2, 1, 3],
        4 => vec![0, 4, 2, 6, 1, 5, 3, 7],
        _ => (0..4).flat_map(|f| [f, 8 + f, 4 + f, 12 + f]).collect(),
    }
}

/// A small deterministic generator.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn dot_products_follow_the_documented_lane_order_and_scale() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for bits in [8u32, 4, 2] {
        let per_word = (32 / bits) as usize;
        let order = lane_order(bits);
        let scale = [1, 16, 64][[8, 4, 2].iter().position(|&b| b == bits).unwrap()];
        for n in 0..6usize {
            let words: Vec<u32> = (0..3 * n + 1).map(|_| xorshift(&mut state) as u32).collect();
            // Natural-order values of 4 pixels (and of one dense patch).
            let x: Vec<Vec<i16>> = (0..4)
                .map(|_| (0..n * per_word).map(|_| xorshift(&mut state) as i16 >> 7).collect())
                .collect();
            let weights = |row: usize| -> Vec<i32> { (0..n).flat_map(|j| unpack(words[row * n + j], bits)).collect() };
            let dot = |row: usize, q: usize| -> i32 {
                weights(row)
                    .iter()
                    .zip(&x[q])
                    .map(|(&w, &v)| w * i32::from(v))
                    .sum::<i32>()
                    * scale
            };
            // The pairs of each chunk in lane order, pixels interleaved pair by pair.
            let pairs = |q: usize, j: usize| -> Vec<u32> {
                order
                    .chunks(2)
                    .map(|p| lanes(x[q][j * per_word + p[0]], x[q][j * per_word + p[1]]))
                    .collect()
            };
            let interleaved: Vec<u32> = (0..n)
                .flat_map(|j| {
                    let all: Vec<Vec<u32>> = (0..4).map(|q| pairs(q, j)).collect();
                    (0..per_word / 4).flat_map(move |f| {
                        (0..4).flat_map({
                            let all = all.clone();
                            move |q| [all[q][2 * f], all[q][2 * f + 1]]
                        })
                    })
                })
                .collect();
            let w_row0: Vec<[u8; 4]> = words[..n].iter().map(|w| w.to_le_bytes()).collect();
            let want: [i32; 4] = core::array::from_fn(|q| dot(0, q));
            let got = match bits {
                8 => dot_1x4_s8(&w_row0, interleaved.as_chunks().0),
                4 => dot_1x4_s4(&w_row0, interleaved.as_chunks().0),
                _ => dot_1x4_s2(&w_row0, interleaved.as_chunks().0),
            };
            assert_eq!(got, want, "1x4, {bits} bits, {n} words");
            // Rows 0.. of 4 bytes · n words, one word of slack between rows.
            let stride = 4 * n + 4;
            let mut bytes = vec![0u8; 4 * stride];
            for r in 0..3 {
                for j in 0..n {
                    bytes[r * stride + 4 * j..][..4].copy_from_slice(&words[r * n + j].to_le_bytes());
                }
            }
            let patch: Vec<u32> = (0..n).flat_map(|j| pairs(0, j)).collect();
            let want_rows: Vec<i32> = (0..3).map(|r| dot(r, 0)).collect();
            let all: Vec<Vec<i32>> = match bits {
                8 => vec![
                    dot_4x1_s8(&bytes, stride, patch.as_chunks().0).unwrap().to_vec(),
                    dot_2x1_s8(&bytes, stride, patch.as_chunks().0).unwrap().to_vec(),
                ],
                4 => vec![
                    dot_3x1_s4(&bytes, stride, patch.as_chunks().0).unwrap().to_vec(),
                    dot_2x1_s4(&bytes, stride, patch.as_chunks().0).unwrap().to_vec(),
                ],
                _ => vec![dot_2x1_s2(&bytes, stride, patch.as_chunks().0).unwrap().to_vec()],
            };
            for got_rows in all {
                let rows = got_rows.len().min(3);
                assert_eq!(got_rows[..rows], want_rows[..rows], "rows, {bits} bits, {n} words");
            }
        }
    }
    assert_eq!(dot_4x1_s8(&[0; 15], 4, &[[0, 0]]), None, "the fourth row does not fit");
}

#[test]
fn windows_sum_nine_taps_over_unsigned_bytes() {
    // A 3-row plane of width 6 (stride 6): windows 0..3 of that row.
    let plane: Vec<u8> = (0..6 * 3 + 3).map(|i| (i * 37 % 256) as u8).collect();
    let w = [[1, -2, 3], [-128, 127, 0], [5, -7, 9]];
    let taps = Taps3x3::new(&w);
    let mut sums = [0i32; 3];
    assert!(window_3x3_row(&plane, 6, &taps, &mut sums));
    for (j, &s) in sums.iter().enumerate() {
        let expected: i32 = (0..3)
            .flat_map(|r| (0..3).map(move |c| (r, c)))
            .map(|(r, c)| i32::from(w[r][c]) * i32::from(plane[6 * r + j + c]))
            .sum();
        assert_eq!(s, expected, "window {j}");
    }
    // Window 0 by hand: bytes 0 37 74 / 222 3 40 / 188 225 6.
    assert_eq!(
        sums[0],
        37 * -2 + 74 * 3 + 222 * -128 + 3 * 127 + 188 * 5 + 225 * -7 + 6 * 9
    );
    // The loop reads the word at each window's start: 2·6 + 3 + 3 bytes.
    assert!(!window_3x3_row(&plane[..17], 6, &taps, &mut sums));
}

#[test]
fn popcounts_count_the_combined_bits_of_each_row() {
    // Two rows of two words: row 0 = ffff_ffff 0000_000f, row 1 = 0 8000_0001.
    let w: Vec<u8> = [0xffff_ffffu32, 0xf, 0, 0x8000_0001]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let s = [0x0000_ffffu32, 0x3];
    let mut counts = [0u32; 2];
    assert!(popcount_rows(&w, &s, BitOp::Xor, &mut counts));
    assert_eq!(counts, [16 + 2, 16 + 2]);
    assert!(popcount_rows(&w, &s, BitOp::And, &mut counts));
    assert_eq!(counts, [16 + 2, 1]);
    assert!(!popcount_rows(&w[..15], &s, BitOp::And, &mut counts));
}

#[test]
fn popcounts_of_eight_word_rows_reach_every_bit() {
    // Rows of eight words (the unrolled Armv7E-M loop): all bits differing,
    // none, and one bit per word, against an input of alternating words.
    let s = [0u32, !0, 0, !0, 0, !0, 0, !0];
    let rows: [[u32; 8]; 3] = [
        [!0, 0, !0, 0, !0, 0, !0, 0],
        s,
        core::array::from_fn(|j| s[j] ^ 1 << (4 * j)),
    ];
    let w: Vec<u8> = rows.iter().flatten().flat_map(|v| v.to_le_bytes()).collect();
    let mut counts = [0u32; 3];
    assert!(popcount_rows(&w, &s, BitOp::Xor, &mut counts));
    assert_eq!(counts, [256, 0, 8]);
    assert!(popcount_rows(&w, &s, BitOp::And, &mut counts));
    assert_eq!(counts, [0, 128, 124]);
}

#[test]
fn max_2x2_planes_take_the_largest_of_each_window() {
    let mut state = 0x0bad_5eed_1234_5678u64;
    // Even and odd output widths, inputs with a spare column and row.
    for (h, w, ow) in [(2, 2, 1), (4, 4, 2), (4, 9, 4), (5, 8, 3), (6, 11, 5), (8, 8, 4)] {
        let oh = h / 2;
        let plane: Vec<u8> = (0..h * w).map(|_| xorshift(&mut state) as u8).collect();
        for signed in [false, true] {
            let value = |b: u8| if signed { i32::from(b as i8) } else { i32::from(b) };
            let mut out = vec![0xa5; oh * ow];
            assert!(max_2x2_plane(&plane, w, signed, &mut out, ow));
            for (k, &o) in out.iter().enumerate() {
                let (y, x) = (2 * (k / ow), 2 * (k % ow));
                let window = [
                    plane[y * w + x],
                    plane[y * w + x + 1],
                    plane[(y + 1) * w + x],
                    plane[(y + 1) * w + x + 1],
                ];
                let best = window.into_iter().max_by_key(|&b| value(b));
                assert_eq!(Some(o), best, "{h}x{w} -> ow {ow}, signed {signed}, output {k}");
            }
        }
    }
    // -128 against 127 and 0 against 255: the order depends on `signed`.
    let mut out = [0u8; 1];
    assert!(max_2x2_plane(&[0x80, 0x7f, 0x00, 0xff], 2, true, &mut out, 1));
    assert_eq!(out, [0x7f]);
    assert!(max_2x2_plane(&[0x80, 0x7f, 0x00, 0xff], 2, false, &mut out, 1));
    assert_eq!(out, [0xff]);
    assert!(!max_2x2_plane(&[0; 7], 4, false, &mut [0; 2], 2), "a row too short");
    assert!(
        !max_2x2_plane(&[0; 8], 4, false, &mut [0; 3], 3),
        "windows past the row"
    );
}

#[test]
fn gathers_put_each_value_in_its_group_slot() {
    let input: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37)).collect();
    let offsets: Vec<u32> = vec![3, 0, 39, 7, 12, 12, 1, 30];
    let table = GatherTable::new(&offsets);
    for (g, pixels, q) in [(4, 4, 0), (4, 4, 3), (4, 2, 1), (8, 4, 2)] {
        for signed in [false, true] {
            let mut block = vec![0xeeeeu16; offsets.len() * pixels];
            assert!(table.gather(&input, signed, g, q, pixels, &mut block));
            for (s, &o) in offsets.iter().enumerate() {
                let b = input[o as usize];
                let want = if signed { b as i8 as u16 } else { u16::from(b) };
                assert_eq!(
                    block[s / g * g * pixels + q * g + s % g],
                    want,
                    "g {g}, q {q}, slot {s}"
                );
            }
            // The other pixels' slots are left alone.
            let written = (0..offsets.len())
                .map(|s| s / g * g * pixels + q * g + s % g)
                .collect::<Vec<_>>();
            assert!(
                block
                    .iter()
                    .enumerate()
                    .all(|(i, &v)| written.contains(&i) || v == 0xeeee)
            );
        }
    }
    let mut block = vec![0u16; 32];
    assert!(
        !table.gather(&input[..39], false, 4, 0, 4, &mut block),
        "offset 39 outside"
    );
    assert!(!table.gather(&input, false, 4, 4, 4, &mut block), "pixel 4 of 4");
    assert!(
        !table.gather(&input, false, 3, 0, 4, &mut block),
        "no whole groups of 3"
    );
    assert!(
        !table.gather(&input, false, 4, 0, 8, &mut block[..31]),
        "block too short"
    );
}

#[test]
fn selections_list_the_set_bits_or_the_clear_ones_padded_with_the_zero_column() {
    // 40 inputs, columns of 2 words (8 bytes): offset 8·(i + 1).
    let mut bits = [0b1001_0110u32, 0xffff_ff01];
    let mut list = [0u32; 32];
    let sel = select(&mut bits, 40, 2, &mut list).unwrap();
    assert_eq!(
        (sel.set(), sel.inverted()),
        (4 + 1, false),
        "bits 1 2 4 7 32; 33.. are past 40"
    );
    let mut expected = vec![16, 24, 40, 64, 8 * 33];
    expected.resize(8, 8 * 41);
    assert_eq!(columns::offsets(&sel), &expected[..]);
    assert_eq!(bits, [0b1001_0110, 1], "the bits past the limit are cleared");

    let mut bits = [!0b1001_0110u32, 0xff];
    let sel = select(&mut bits, 40, 1, &mut list).unwrap();
    assert_eq!((sel.set(), sel.inverted()), (28 + 8, true));
    let expected = [8, 12, 20, 32];
    assert_eq!(
        columns::offsets(&sel),
        &expected[..],
        "the clear bits 1 2 4 7, no padding"
    );
    assert_eq!(bits, [0b1001_0110, 0]);

    // 21 columns picked of 64 need 24 entries.
    let mut bits = [0x001f_ffffu32, 0];
    assert!(select(&mut bits, 64, 1, &mut list[..23]).is_none());
    assert_eq!(
        columns::offsets(&select(&mut bits, 64, 1, &mut list).unwrap()).len(),
        24
    );
    assert!(
        select(&mut bits, 65, 1, &mut list).is_none(),
        "65 bits need three words"
    );
}

#[test]
fn column_sums_count_each_lane_of_the_listed_columns_in_bit_planes() {
    // 600 inputs (so more than one part of 240 columns), 3 words a column,
    // pseudo-random bits, and the input bits of a third of the columns.
    let (limit, stride) = (600usize, 3usize);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u32
    };
    let mut cols: Vec<u32> = (0..stride * limit).map(|_| next()).collect();
    cols.extend([0; 3]);
    let bytes: Vec<u8> = cols.iter().flat_map(|w| w.to_le_bytes()).collect();
    let shifted: Vec<u8> = [0].into_iter().chain(bytes.iter().copied()).collect();
    for ones_in_three in [1u32, 2] {
        let mut bits: Vec<u32> = (0..limit.div_ceil(32))
            .map(|_| (0..32).fold(0, |w, b| w | u32::from(next() % 3 < ones_in_three) << b))
            .collect();
        let picked: Vec<usize> = (0..limit)
            .filter(|&i| (bits[i / 32] >> (i % 32) & 1 == 1) != (ones_in_three == 2))
            .collect();
        let mut list = vec![0u32; 320];
        let sel = select(&mut bits, limit, stride, &mut list).unwrap();
        assert_eq!(sel.inverted(), ones_in_three == 2);
        let parts: Vec<Selection<'_>> = sel.parts().collect();
        assert_eq!(parts.len(), picked.len().div_ceil(PART));
        for group in 0..stride {
            let mut counts = [0u32; 32];
            for part in &parts {
                let mut bytes_of = [0u32; 8];
                assert!(sum_columns(&bytes, part, group, &mut bytes_of));
                // The same from an odd address.
                let mut odd = [0u32; 8];
                assert!(sum_columns(&shifted[1..], part, group, &mut odd));
                assert_eq!(odd, bytes_of);
                for (lane, c) in counts.iter_mut().enumerate() {
                    *c += bytes_of[lane % 8] >> (8 * (lane / 8)) & 0xff;
                }
            }
            let expected: [u32; 32] =
                core::array::from_fn(|lane| picked.iter().map(|&i| cols[stride * i + group] >> lane & 1).sum());
            assert_eq!(counts, expected, "group {group}");
        }
        let mut planes = [0u32; 8];
        assert!(!sum_columns(&bytes, &parts[0], stride, &mut planes), "no word 3");
        assert!(
            !sum_columns(&bytes[..bytes.len() - 1], &parts[0], 0, &mut planes),
            "no zero column"
        );
        assert!(!sum_columns(&bytes, &sel, 0, &mut planes) || sel.parts().count() == 1);
    }
}

#[test]
fn gather8_collects_the_low_bit_of_each_byte() {
    for v in 0..256u32 {
        let spread = |bits: u32| (0..4).fold(0xfefe_fefe, |w, k| w | (bits >> k & 1) << (8 * k));
        assert_eq!(bits::gather8(spread(v), spread(v >> 4)), v, "{v:#x}");
    }
}

#[test]
fn packing_takes_bit_0_or_7_of_each_byte_in_order() {
    // 70 bytes: two whole words and six bytes; bit 7 set at inputs 3k,
    // bit 0 at inputs 5k.
    let x: Vec<u8> = (0..70)
        .map(|i| if i % 3 == 0 { 0x80 } else { 0x7e } | u8::from(i % 5 == 0))
        .collect();
    let expect = |every: usize| -> Vec<u32> {
        (0..3)
            .map(|w| {
                (0..32)
                    .filter(|b| 32 * w + b < 70 && (32 * w + b) % every == 0)
                    .fold(0, |m, b| m | 1 << b)
            })
            .collect()
    };
    let mut bits = [0u32; 3];
    assert!(pack_bits(&x, 7, &mut bits));
    assert_eq!(bits.to_vec(), expect(3));
    assert!(pack_bits(&x, 0, &mut bits));
    assert_eq!(bits.to_vec(), expect(5));
    assert!(!pack_bits(&x[..64], 0, &mut bits), "two words");
}

#[test]
fn bit_planes_transpose_into_byte_counts() {
    // Lane L = 8c + q counts 7L + 3 (mod 256), so every plane is busy.
    let count = |lane: u32| (7 * lane + 3) & 0xff;
    let planes: [u32; 8] = core::array::from_fn(|k| (0..32).fold(0, |p, lane| p | (count(lane) >> k & 1) << lane));
    let bytes = columns::planes_to_bytes(planes);
    for lane in 0..32u32 {
        assert_eq!(
            bytes[lane as usize % 8] >> (8 * (lane / 8)) & 0xff,
            count(lane),
            "lane {lane}"
        );
    }
}

#[test]
fn column_sums_add_a_term_and_a_count_per_output_with_factors() {
    // Counts: output o counts o + 1 (byte o % 4 of word o / 4); terms in
    // quad order 0 2 1 3: output o has term 100 - 7·o (some negative).
    let counts: [u32; 8] =
        core::array::from_fn(|q| u32::from_le_bytes(core::array::from_fn(|c| (4 * q + c + 1) as u8)));
    let term = |o: usize| 100 - 7 * o as i16;
    let terms: Vec<u8> = (0..8)
        .flat_map(|q| [0, 2, 1, 3].map(|c| term(4 * q + c)))
        .flat_map(i16::to_le_bytes)
        .collect();
    let mut sums = [0i32; 32];
    assert!(column_sums(&counts, &terms, -5, (-2, 4), &mut sums));
    let expected: [i32; 32] = core::array::from_fn(|o| -5 - 2 * i32::from(term(o)) + 4 * (o as i32 + 1));
    assert_eq!(sums, expected);
    // Seven outputs: two quads of terms.
    let mut seven = [0i32; 7];
    assert!(column_sums(&counts, &terms[..16], 3, (2, -2), &mut seven));
    assert_eq!(
        seven,
        core::array::from_fn(|o| 3 + 2 * i32::from(term(o)) - 2 * (o as i32 + 1))
    );
    assert!(!column_sums(&counts, &terms[..15], 3, (2, -2), &mut seven));
}

#[test]
fn fixed_outputs_shift_and_saturate() {
    // Output o counts o (byte o % 4 of word o / 4).
    let counts: [u32; 8] = core::array::from_fn(|q| u32::from_le_bytes(core::array::from_fn(|c| (4 * q + c) as u8)));
    // v = 10 - 2·o; (v·768 - 128) >> 8 = 3v - 1 (an arithmetic shift: floor).
    let multipliers: Vec<u8> = (0..32).flat_map(|_| (3i32 << 8).to_le_bytes()).collect();
    let offsets: Vec<u8> = (0..32).flat_map(|_| (-128i32).to_le_bytes()).collect();
    let run = |terms, signed, out: &mut [u8]| {
        let stage = Fixed {
            multipliers: &multipliers,
            offsets: &offsets,
            terms,
            shift: 8,
            signed,
        };
        columns::fixed_outputs(&counts, &stage, out);
    };
    let mut out = [0u8; 32];
    run((10, -2), true, &mut out);
    let v = |o: usize| 10 - 2 * o as i32;
    assert_eq!(out, core::array::from_fn(|o| (3 * v(o) - 1).clamp(-128, 127) as u8));
    let mut five = [0u8; 5];
    run((10, -2), false, &mut five);
    assert_eq!(five, [29, 23, 17, 11, 5]);
    run((100, 2), false, &mut five);
    assert_eq!(five, [255; 5]);
}

#[test]
fn fixed_dense_requantizes_the_counts_of_every_group() {
    // 70 inputs, 70 outputs (3 words a column, the last one partial):
    // input i has the lanes of outputs i % 70 and (i + 1) % 70 set, and
    // the even inputs are listed.
    let (limit, stride, outputs) = (70usize, 3usize, 70usize);
    let mut cols = vec![0u32; stride * (limit + 1)];
    for i in 0..limit {
        for o in [i % outputs, (i + 1) % outputs] {
            // Output o is lane 8·(o % 4) + (o % 32) / 4 of word o / 32.
            cols[stride * i + o / 32] |= 1 << (8 * (o % 4) + (o % 32) / 4);
        }
    }
    let bytes: Vec<u8> = cols.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut bits: Vec<u32> = vec![0x5555_5555, 0x5555_5555, 0x5555_5555];
    let mut list = vec![0u32; 40];
    let sel = select(&mut bits, limit, stride, &mut list).unwrap();
    assert!(!sel.inverted());
    // M_o = 64·(o + 1), P_o = 3·256: out = ((5 - 2·1)·M_o + P_o) >> 8.
    let words = |f: &dyn Fn(usize) -> i32| -> Vec<u8> { (0..outputs).flat_map(|o| f(o).to_le_bytes()).collect() };
    let (multipliers, offsets) = (words(&|o| 64 * (o as i32 + 1)), words(&|_| 3 << 8));
    let stage = Fixed {
        multipliers: &multipliers,
        offsets: &offsets,
        terms: (5, -2),
        shift: 8,
        signed: false,
    };
    let mut out = vec![0u8; outputs];
    let mut seen = Vec::new();
    let then = |g: usize, counts: &[u32; 8], out: &mut [u8]| {
        seen.push((
            g,
            out.len(),
            (0..out.len())
                .map(|o| counts[o / 4] >> (8 * (o % 4)) & 0xff)
                .collect::<Vec<_>>(),
        ));
        true
    };
    assert!(fixed_dense(&bytes, &sel, &stage, &mut out, then));
    let expected: Vec<u8> = (0..outputs)
        .map(|o| ((3 * 64 * (o as i32 + 1) + (3 << 8)) >> 8) as u8)
        .collect();
    assert_eq!(out, expected);
    let groups: Vec<(usize, usize)> = seen.iter().map(|(g, n, _)| (*g, *n)).collect();
    assert_eq!(groups, [(0, 32), (1, 32), (2, 6)]);
    // Each output has exactly one even input among i = o and i = o - 1.
    assert!(seen.iter().all(|(_, _, counts)| counts.iter().all(|&x| x == 1)));
    // Rejected, computing nothing: a shift of 32, a missing offset, a
    // missing column word; and stopped by `then`.
    let mut untouched = vec![7u8; outputs];
    let shift_32 = Fixed { shift: 32, ..stage };
    assert!(!fixed_dense(&bytes, &sel, &shift_32, &mut untouched, |_, _, _| true));
    let short = Fixed {
        offsets: &offsets[..4 * outputs - 1],
        ..stage
    };
    assert!(!fixed_dense(&bytes, &sel, &short, &mut untouched, |_, _, _| true));
    assert!(!fixed_dense(
        &bytes[..bytes.len() - 1],
        &sel,
        &stage,
        &mut untouched,
        |_, _, _| true
    ));
    assert_eq!(untouched, vec![7u8; outputs]);
    let mut calls = 0;
    assert!(!fixed_dense(&bytes, &sel, &stage, &mut untouched, |_, _, _| {
        calls += 1;
        false
    }));
    assert_eq!(calls, 1);
}
