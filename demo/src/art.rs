//! The first bytes of images of any dimensions, as the demo site serves artwork (and tests
//! build it): enough header for a reader of dimensions, nothing more.

/// A PNG signature and `IHDR` chunk for an RGB image of `width` × `height`.
pub fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type RGB, no interlace; the chunk's CRC is not checked by readers of
    // dimensions.
    bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

/// A JPEG start, a JFIF segment and a baseline frame header for `width` × `height` (at most
/// 65,535 each).
pub fn jpeg_header(width: u32, height: u32) -> Vec<u8> {
    let [w1, w0] = u16::try_from(width).unwrap_or(u16::MAX).to_be_bytes();
    let [h1, h0] = u16::try_from(height).unwrap_or(u16::MAX).to_be_bytes();
    let mut bytes = vec![0xFF, 0xD8];
    bytes.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
    bytes.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08, h1, h0, w1, w0, 0x03]);
    bytes.extend_from_slice(&[0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
    bytes
}

/// The show's cover art: a 1,400 px square PNG (the smallest size Apple Podcasts takes).
pub fn cover_png() -> Vec<u8> {
    const SIZE: u32 = 1400;
    let mut pixels = Vec::with_capacity((SIZE * SIZE * 3) as usize);
    for y in 0..SIZE {
        for x in 0..SIZE {
            let ring = ((x as i32 - 700).pow(2) + (y as i32 - 700).pow(2)) as u32 / 9000 % 2;
            pixels.extend_from_slice(&[(20 + y / 10) as u8, (40 + ring * 120) as u8, (90 + x / 12) as u8]);
        }
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, SIZE, SIZE);
    encoder.set_color(png::ColorType::Rgb);
    let mut writer = encoder.write_header().expect("writing a PNG to a Vec cannot fail");
    writer.write_image_data(&pixels).expect("writing a PNG to a Vec cannot fail");
    drop(writer);
    png
}
