//! Element-wise ops on f32 tensors: [`ClampF32`] (fused activations on float graphs) and
//! [`UnaryF32`] (the float forms of LOGISTIC, TANH, HARD_SWISH).

use tract_core::internal::*;

/// Clamp an f32 tensor (fused activations on float graphs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClampF32 {
    pub lo_bits: u32,
    pub hi_bits: u32,
}

impl ClampF32 {
    pub fn new(lo: Option<f32>, hi: Option<f32>) -> ClampF32 {
        ClampF32 {
            lo_bits: lo.unwrap_or(f32::NEG_INFINITY).to_bits(),
            hi_bits: hi.unwrap_or(f32::INFINITY).to_bits(),
        }
    }
}

impl Op for ClampF32 {
    fn name(&self) -> StaticName {
        "breedcam.ClampF32".into()
    }
    op_as_typed_op!();
}

impl EvalOp for ClampF32 {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let (lo, hi) = (f32::from_bits(self.lo_bits), f32::from_bits(self.hi_bits));
        let mut t = x.into_tensor();
        t.try_as_plain_ram_mut()?
            .as_slice_mut::<f32>()?
            .iter_mut()
            .for_each(|v| *v = v.max(lo).min(hi));
        Ok(tvec!(t.into_tvalue()))
    }
}

impl TypedOp for ClampF32 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(inputs[0].clone().without_value()))
    }
    as_op!();
}

/// Element-wise functions on f32 tensors (the float forms of LOGISTIC, TANH, HARD_SWISH).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryF32 {
    Logistic,
    Tanh,
    HardSwish,
}

impl UnaryF32 {
    pub fn apply(self, x: f32) -> f32 {
        match self {
            UnaryF32::Logistic => 1.0 / (1.0 + (-x).exp()),
            UnaryF32::Tanh => x.tanh(),
            UnaryF32::HardSwish => x * (x + 3.0).clamp(0.0, 6.0) / 6.0,
        }
    }
}

impl Op for UnaryF32 {
    fn name(&self) -> StaticName {
        format!("breedcam.{self:?}").into()
    }
    op_as_typed_op!();
}

impl EvalOp for UnaryF32 {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let mut t = x.into_tensor();
        t.try_as_plain_ram_mut()?
            .as_slice_mut::<f32>()?
            .iter_mut()
            .for_each(|v| *v = self.apply(*v));
        Ok(tvec!(t.into_tvalue()))
    }
}

impl TypedOp for UnaryF32 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs[0].datum_type == f32::datum_type());
        Ok(tvec!(inputs[0].clone().without_value()))
    }
    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_swish_matches_its_definition() {
        assert_eq!(UnaryF32::HardSwish.apply(-4.0), 0.0);
        assert_eq!(UnaryF32::HardSwish.apply(1.0), 1.0 * 4.0 / 6.0);
        assert_eq!(UnaryF32::HardSwish.apply(5.0), 5.0);
    }
}
