//! Hostile and unusual image files built in code, for the tests (unit and `tests/it`) and
//! the fuzz seed maker (`examples/make_fuzz_seeds.rs`): an EXIF orientation tag, PNG chunks.

/// `img` encoded as `format`.
pub fn encode(img: &image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = vec![];
    img.write_to(&mut std::io::Cursor::new(&mut out), format)
        .expect("encoding to memory");
    out
}

/// `jpeg` with an EXIF block (APP1) right after its start marker whose only tag is
/// Orientation = `o` (6: turn 90 degrees clockwise to show).
pub fn with_orientation(jpeg: &[u8], o: u16) -> Vec<u8> {
    // Little-endian TIFF header, one IFD entry: tag 0x0112, type SHORT, count 1, value `o`.
    let mut app1 =
        b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00".to_vec();
    app1.extend_from_slice(&o.to_le_bytes());
    app1.extend_from_slice(&[0; 6]); // value padding, no next IFD
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&(app1.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Appends a PNG chunk (length, type, data, CRC-32) to `png`.
pub fn png_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let mut c = !0u32;
    for &b in &png[start..] {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    png.extend_from_slice(&(!c).to_be_bytes());
}

/// A PNG signature and IHDR for a `w`x`h` picture of colour type `colour` (0 grey, 2 RGB)
/// at 8 bits; the caller adds IDAT and IEND.
pub fn png_header(w: u32, h: u32, colour: u8) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, colour, 0, 0, 0]);
    png_chunk(&mut png, b"IHDR", &ihdr);
    png
}
