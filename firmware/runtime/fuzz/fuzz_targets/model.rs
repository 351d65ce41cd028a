//! Feeds arbitrary bytes to `Model::from_bytes` and runs whatever it
//! accepts. Panics, out-of-bounds reads and arithmetic overflow are bugs.
//!
//! The bytes are tried twice: as given (exercising the magic, version,
//! length and CRC checks), and with a freshly computed CRC, so that the
//! fuzzer's mutations reach the validation of the tables and records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lowbit_runtime::Model;

/// CRC-32/ISO-HDLC, as the format specifies it.
const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Arenas and buffers larger than this are not allocated (the run then
/// fails with `ArenaTooSmall`), which also bounds the work of one run.
const CAP: usize = 1 << 16;

fn exercise(bytes: &[u8]) {
    let Ok(model) = Model::from_bytes(bytes) else { return };
    let mut arena = vec![0x5a; model.arena_size().min(CAP)];
    let (lo, hi) = model.input().quant.range();
    let span = (hi - lo + 1) as usize;
    let input: Vec<u8> = (0..model.input_len().min(CAP))
        .map(|i| (lo + (i * 7 % span) as i32) as u8)
        .collect();
    let mut output = vec![0; model.output_len().min(CAP)];
    let _ = model.run(&mut arena, &input, &mut output);
    let _ = model.run(&mut arena, &vec![0x80; input.len()], &mut output);
}

fuzz_target!(|data: &[u8]| {
    exercise(data);
    if data.len() >= 16 {
        let mut bytes = data.to_vec();
        let stated = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
        let len = stated.min(bytes.len());
        bytes[8..12].fill(0);
        let crc = CRC32.checksum(&bytes[..len]);
        bytes[8..12].copy_from_slice(&crc.to_le_bytes());
        exercise(&bytes);
    }
});
