//! The input normalisation stored in a model's TFLite metadata (`TFLITE_METADATA`, the
//! `metadata_schema.fbs` flatbuffer that TFLite's ImageClassifier reads).
//!
//! Only one path of that schema matters to us:
//! `ModelMetadata.subgraph_metadata[0].input_tensor_metadata[0].process_units[i]` whose
//! option is `NormalizationOptions { mean: [float], std: [float] }`. The bytes come from
//! the model file, so this is a small bounds-checked flatbuffer reader: every read returns
//! `None` instead of panicking on a malformed buffer.

/// Per-channel `x = (p - mean) / std`, as the model's metadata states it.
#[derive(Clone, Debug, PartialEq)]
pub struct Normalization {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

#[derive(Clone, Copy)]
struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn u16_at(buf: &[u8], pos: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        buf.get(pos..pos.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn u32_at(buf: &[u8], pos: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        buf.get(pos..pos.checked_add(4)?)?.try_into().ok()?,
    ))
}
fn i32_at(buf: &[u8], pos: usize) -> Option<i32> {
    Some(u32_at(buf, pos)? as i32)
}

impl<'a> Table<'a> {
    fn root(buf: &'a [u8]) -> Option<Table<'a>> {
        let pos = u32_at(buf, 0)? as usize;
        (pos < buf.len()).then_some(Table { buf, pos })
    }

    /// Absolute position of field `index`'s inline value, if present.
    fn field(&self, index: usize) -> Option<usize> {
        let vtable = (self.pos as i64).checked_sub(i32_at(self.buf, self.pos)? as i64)?;
        let vtable = usize::try_from(vtable).ok()?;
        let vsize = u16_at(self.buf, vtable)? as usize;
        let slot = 4 + 2 * index;
        if slot + 2 > vsize {
            return None;
        }
        match u16_at(self.buf, vtable + slot)? {
            0 => None,
            off => Some(self.pos + off as usize),
        }
    }

    fn indirect(&self, at: usize) -> Option<usize> {
        let target = at.checked_add(u32_at(self.buf, at)? as usize)?;
        (target < self.buf.len()).then_some(target)
    }

    fn table(&self, index: usize) -> Option<Table<'a>> {
        let pos = self.indirect(self.field(index)?)?;
        Some(Table { buf: self.buf, pos })
    }

    fn u8_field(&self, index: usize) -> Option<u8> {
        self.buf.get(self.field(index)?).copied()
    }

    /// (position of the first element, element count) of a vector field.
    fn vector(&self, index: usize) -> Option<(usize, usize)> {
        let at = self.indirect(self.field(index)?)?;
        let len = u32_at(self.buf, at)? as usize;
        Some((at + 4, len))
    }

    fn tables(&self, index: usize) -> Vec<Table<'a>> {
        let Some((start, len)) = self.vector(index) else {
            return vec![];
        };
        (0..len.min(self.buf.len() / 4))
            .filter_map(|i| {
                let at = start + 4 * i;
                Some(Table {
                    buf: self.buf,
                    pos: self.indirect(at)?,
                })
            })
            .collect()
    }

    fn floats(&self, index: usize) -> Option<Vec<f32>> {
        let (start, len) = self.vector(index)?;
        if len > self.buf.len() / 4 {
            return None;
        }
        (0..len)
            .map(|i| Some(f32::from_bits(u32_at(self.buf, start + 4 * i)?)))
            .collect()
    }
}

// Field indices in metadata_schema.fbs.
const MODEL_SUBGRAPH_METADATA: usize = 3;
const SUBGRAPH_INPUT_TENSOR_METADATA: usize = 2;
const TENSOR_PROCESS_UNITS: usize = 4;
const PROCESS_UNIT_OPTIONS_TYPE: usize = 0;
const PROCESS_UNIT_OPTIONS: usize = 1;
const OPTIONS_NORMALIZATION: u8 = 1;
const NORMALIZATION_MEAN: usize = 0;
const NORMALIZATION_STD: usize = 1;

/// The first input's normalisation, if the metadata buffer states one.
pub fn input_normalization(buf: &[u8]) -> Option<Normalization> {
    let model = Table::root(buf)?;
    let subgraph = *model.tables(MODEL_SUBGRAPH_METADATA).first()?;
    let input = *subgraph.tables(SUBGRAPH_INPUT_TENSOR_METADATA).first()?;
    input
        .tables(TENSOR_PROCESS_UNITS)
        .into_iter()
        .find_map(|unit| {
            if unit.u8_field(PROCESS_UNIT_OPTIONS_TYPE)? != OPTIONS_NORMALIZATION {
                return None;
            }
            let opts = unit.table(PROCESS_UNIT_OPTIONS)?;
            let mean = opts.floats(NORMALIZATION_MEAN)?;
            let std = opts.floats(NORMALIZATION_STD)?;
            let valid = !mean.is_empty()
                && !std.is_empty()
                && mean.iter().all(|m| m.is_finite())
                && std.iter().all(|s| s.is_finite() && *s != 0.0);
            valid.then_some(Normalization { mean, std })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_never_panics() {
        let mut state = 0x2545_f491_u32;
        for len in 0..200 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    (state % 7) as u8 // small values make plausible offsets
                })
                .collect();
            let _ = input_normalization(&bytes);
        }
        assert_eq!(input_normalization(&[]), None);
    }
}
