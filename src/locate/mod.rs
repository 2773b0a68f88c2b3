//! The locate stage: frame -> dog boxes (design.md). [`segmenter`] runs a DeepLabV3 PASCAL
//! VOC segmenter through breedcam's own TFLite import and gives its class map.

pub mod segmenter;
