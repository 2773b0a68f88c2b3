//! TEMPORARY stand-in for i22-engine's segmenter (replaced by the merge of i22-engine).

use image::RgbImage;

use crate::model::ModelSource;
use crate::Error;

pub struct Segmenter;

pub struct ClassMap {
    pub width: usize,
    pub height: usize,
    pub classes: usize,
    pub data: Vec<u8>,
    pub scale: f32,
    pub zero_point: i32,
}

impl ClassMap {
    pub fn argmax(&self, x: usize, y: usize) -> usize {
        let cell = &self.data[(y * self.width + x) * self.classes..][..self.classes];
        let mut best = 0;
        for (i, &v) in cell.iter().enumerate() {
            if v > cell[best] {
                best = i;
            }
        }
        best
    }
}

impl Segmenter {
    pub fn open(source: &ModelSource) -> Result<Segmenter, Error> {
        Err(Error::Runtime(format!(
            "{}: the segmenter runtime is not merged yet",
            source.path().display()
        )))
    }
    pub fn class_map(&self, _frame: &RgbImage) -> Result<ClassMap, Error> {
        Err(Error::Runtime("no segmenter".into()))
    }
}
