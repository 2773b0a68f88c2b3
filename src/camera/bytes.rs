//! Arbitrary bytes as a camera frame, for the fuzzer (`fuzz/fuzz_targets/frames.rs`) and the
//! test that replays what it found: the first byte picks the format, the next four the
//! width and height (up to 65535 each), the rest is the frame's data, as a camera or a
//! folder could hand it over.

use super::{Format, Frame};

/// Every format a frame can arrive in, in the order the first byte picks them.
pub const FORMATS: [Format; 7] = [
    Format::Mjpeg,
    Format::Yuyv,
    Format::Yu12,
    Format::Nv12,
    Format::Rgb3,
    Format::Bgr3,
    Format::File,
];

/// `bytes` as a frame: `[format, width lo, width hi, height lo, height hi, data...]`
/// (missing header bytes count as 0).
pub fn frame_from_bytes(bytes: &[u8]) -> Frame {
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let u16_at = |i: usize| u16::from_le_bytes([at(i), at(i + 1)]) as u32;
    Frame {
        format: FORMATS[at(0) as usize % FORMATS.len()],
        width: u16_at(1),
        height: u16_at(3),
        data: bytes.get(5..).unwrap_or_default().to_vec(),
        sequence: 0,
        origin: "fuzz".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_picks_format_and_size() {
        let f = frame_from_bytes(&[2, 0x40, 0x01, 0xf0, 0x00, 9, 9]);
        assert_eq!((f.format, f.width, f.height), (Format::Yu12, 320, 240));
        assert_eq!(f.data, [9, 9]);
        let f = frame_from_bytes(&[13]);
        assert_eq!((f.format, f.width, f.height), (Format::File, 0, 0));
        assert!(frame_from_bytes(&[]).data.is_empty());
    }
}
