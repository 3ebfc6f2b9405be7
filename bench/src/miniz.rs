//! `miniz_oxide` as a permessage-deflate sender (bench crate only): one
//! raw DEFLATE stream, a sync flush per message, the 4-byte tail removed
//! (RFC 7692 §7.2.1). The load generator compresses its requests with it
//! and the `deflate` benchmark compares plainws's compressor with it.

use miniz_oxide::MZFlush;
use miniz_oxide::deflate::core::{CompressorOxide, create_comp_flags_from_zip_params};
use plainws::sansio::deflate::TAIL;

/// A raw DEFLATE compressor at `level` (1 fastest .. 9), window 2^15.
pub fn compressor(level: i32) -> Box<CompressorOxide> {
    let flags = create_comp_flags_from_zip_params(level, -15, 0);
    Box::new(CompressorOxide::new(flags))
}

/// Compresses `payload` as one message, appending to `out` the DEFLATE
/// data up to the sync flush with its `00 00 ff ff` removed. `buf` is
/// scratch space for miniz_oxide's output.
pub fn compress_message(
    compressor: &mut CompressorOxide,
    buf: &mut [u8],
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let start = out.len();
    let mut input = payload;
    loop {
        let r = miniz_oxide::deflate::stream::deflate(compressor, input, buf, MZFlush::Sync);
        r.status
            .map_err(|e| format!("miniz_oxide deflate: {e:?}"))?;
        input = &input[r.bytes_consumed..];
        out.extend_from_slice(&buf[..r.bytes_written]);
        // miniz_oxide may return with the input consumed and part of the
        // flush still held (large incompressible messages): call again
        // until the sync flush's tail is out.
        if input.is_empty() && out[start..].ends_with(&TAIL) {
            break;
        }
        if r.bytes_consumed == 0 && r.bytes_written == 0 {
            return Err("miniz_oxide deflate made no progress".into());
        }
    }
    out.truncate(out.len() - TAIL.len());
    Ok(())
}
