//! Made-up frames for benches and soak tests: a webcam that never stops.

use image::RgbImage;

use super::{Format, Frame, FrameSource};
use crate::Error;

/// Made-up MJPEG frames (smooth colour fields with a moving bright blob), encoded once,
/// delivered at most at a camera's pace (30 fps), like a webcam that never stops.
pub struct Synthetic {
    frames: Vec<Vec<u8>>,
    width: u32,
    height: u32,
    sequence: u64,
    interval: std::time::Duration,
    next_due: std::time::Instant,
}

impl Synthetic {
    pub fn new(count: usize, width: u32, height: u32) -> Result<Synthetic, Error> {
        let mut frames = vec![];
        for i in 0..count.max(1) {
            let cx = width as f32 * (0.3 + 0.4 * (i as f32 / count.max(1) as f32));
            let img = RgbImage::from_fn(width, height, |x, y| {
                let d = ((x as f32 - cx).powi(2) + (y as f32 - height as f32 / 2.0).powi(2)).sqrt();
                let blob = (255.0 - d).clamp(0.0, 255.0) as u8;
                image::Rgb([
                    blob.saturating_add((x % 64) as u8),
                    (y * 255 / height.max(1)) as u8,
                    96u8.wrapping_add((i as u8).wrapping_mul(40)),
                ])
            });
            let mut jpeg = vec![];
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
                .encode_image(&img)
                .map_err(|e| Error::Runtime(format!("encoding a synthetic frame: {e}")))?;
            frames.push(jpeg);
        }
        Ok(Synthetic {
            frames,
            width,
            height,
            sequence: 0,
            interval: std::time::Duration::from_secs(1) / 30,
            next_due: std::time::Instant::now(),
        })
    }
}

impl FrameSource for Synthetic {
    fn next_frame(&mut self) -> Result<Frame, Error> {
        let now = std::time::Instant::now();
        if now < self.next_due {
            std::thread::sleep(self.next_due - now);
        }
        self.next_due = self.next_due.max(now) + self.interval;
        let i = self.sequence as usize % self.frames.len();
        self.sequence += 1;
        Ok(Frame {
            format: Format::Mjpeg,
            width: self.width,
            height: self.height,
            data: self.frames[i].clone(),
            sequence: self.sequence,
            origin: format!("synthetic #{i}"),
        })
    }
    fn describe(&self) -> String {
        format!(
            "synthetic ({} {}x{} MJPEG frames)",
            self.frames.len(),
            self.width,
            self.height
        )
    }
}
