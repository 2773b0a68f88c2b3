//! CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: float convolutions become tract's `Conv`,
//! quantized ones a [`QConv`], which picks how it runs.

use tract_core::internal::*;
use tract_core::ops::cnn::{Conv, KernelFormat};
use tract_tflite::tflite::{self, ActivationFunctionType};

use super::importer::{
    clamp_bounds, kernel_scales, options_missing, padding, pair, Call, Importer, TInfo,
};
use super::{invalid, tract_err, ImportError, Result};
use crate::engine::ops::conv::nhwc_pool_spec;
use crate::engine::ops::{activation_range, QConv, RequantSpec, Q8};

impl Importer<'_> {
    /// The quantization inputs of tract's `Conv` for input `x`, kernel `k`, output `y`.
    fn conv_q_inputs(
        &mut self,
        call: &Call,
        x: &TInfo,
        k: &TInfo,
        y: &TInfo,
    ) -> Result<Option<Vec<OutletId>>> {
        let (Some(xq), Some(kq), Some(yq)) = (x.q, k.q, y.q) else {
            if x.dt.is_float() && k.dt.is_float() {
                return Ok(None);
            }
            return invalid("mixes quantized and float tensors (hybrid models are not supported)");
        };
        let scales = kernel_scales(k, kq)?;
        let kscale = if k.per_axis.is_some() {
            tensor1(&scales)
        } else {
            tensor0(scales[0])
        };
        let ins = vec![
            self.konst(call, "x0", tensor0(xq.zero_point))?,
            self.konst(call, "xscale", tensor0(xq.scale))?,
            self.konst(call, "k0", tensor0(kq.zero_point))?,
            self.konst(call, "kscale", kscale)?,
            self.konst(call, "y0", tensor0(yq.zero_point))?,
            self.konst(call, "yscale", tensor0(yq.scale))?,
        ];
        Ok(Some(ins))
    }

    /// Wires tract's `Conv` with an OHWI kernel.
    #[allow(clippy::too_many_arguments)]
    fn conv(
        &mut self,
        call: &Call,
        x: OutletId,
        xi: &TInfo,
        kernel: Tensor,
        ki: &TInfo,
        strides: (usize, usize),
        dilations: (usize, usize),
        same: bool,
        group: usize,
        act: ActivationFunctionType,
    ) -> Result<OutletId> {
        let y = self.tensor(call.output())?;
        let ks = kernel.shape().to_vec();
        // tract's OHWI kernel for `group` groups is [O / group, H, W, I] with I all input
        // channels; the output has O = ks[0] * group channels, group-major.
        let (o, kh, kw, i) = (ks[0] * group, ks[1], ks[2], ks[3]);
        if strides.0 == 0 || strides.1 == 0 || dilations.0 == 0 || dilations.1 == 0 {
            return invalid("zero stride or dilation");
        }
        if xi.shape.len() != 4 {
            return invalid(format!("input must be NHWC, got shape {:?}", xi.shape));
        }
        let in_channels = xi.shape[3];
        if i != in_channels || (group > 1 && i != group) {
            return invalid(format!(
                "kernel {ks:?} does not fit input {:?} (groups {group})",
                xi.shape
            ));
        }
        let bias = match call.optional_input(2) {
            Some(b) => {
                let bi = self.tensor(b)?;
                let t = self.const_tensor(&bi)?;
                if t.len() != o {
                    return invalid(format!(
                        "bias has {} values for {o} output channels",
                        t.len()
                    ));
                }
                let t = t.into_shape(&[o]).map_err(|e| tract_err(&e))?;
                if xi.q.is_some() {
                    // The i32 accumulator bias, plain (scale = input scale * kernel scale).
                    t.cast_to::<i32>().map_err(|e| tract_err(&e))?.into_owned()
                } else {
                    t.cast_to::<f32>().map_err(|e| tract_err(&e))?.into_owned()
                }
            }
            None if xi.q.is_some() => Tensor::zero::<i32>(&[o]).map_err(|e| tract_err(&e))?,
            None => Tensor::zero::<f32>(&[o]).map_err(|e| tract_err(&e))?,
        };
        if let Some(wire) = self.quantized_conv(
            call, x, xi, &kernel, ki, &bias, strides, dilations, same, group, act,
        )? {
            return Ok(wire);
        }
        let q = self.conv_q_inputs(call, xi, ki, &y)?;
        let pool_spec = nhwc_pool_spec((kh, kw), strides, dilations, same, in_channels, o);
        let conv = Conv {
            pool_spec,
            kernel_fmt: KernelFormat::OHWI,
            group,
            q_params: q.as_ref().map(|_| y.dt),
        };
        let mut inputs = vec![
            x,
            self.konst(call, "kernel", kernel)?,
            self.konst(call, "bias", bias)?,
        ];
        inputs.extend(q.into_iter().flatten());
        let y = self.node(call, "", conv, &inputs)?;
        self.activation(call, y, act)
    }

    /// An 8-bit convolution: the requantization (with the fused activation's clamp) stated
    /// here, the implementation chosen by [`QConv`]. `None` when the tensors are not all
    /// 8-bit quantized.
    #[allow(clippy::too_many_arguments)]
    fn quantized_conv(
        &mut self,
        call: &Call,
        x: OutletId,
        xi: &TInfo,
        kernel: &Tensor,
        ki: &TInfo,
        bias: &Tensor,
        strides: (usize, usize),
        dilations: (usize, usize),
        same: bool,
        group: usize,
        act: ActivationFunctionType,
    ) -> Result<Option<OutletId>> {
        let y = self.tensor(call.output())?;
        let (Some(xq), Some(kq), Some(yq)) = (xi.q, ki.q, y.q) else {
            return Ok(None);
        };
        let (Some(xq8), Some(kq8), Some(yq8)) = (Q8::of(xi.dt), Q8::of(ki.dt), Q8::of(y.dt)) else {
            return Ok(None);
        };
        let o = kernel.shape()[0] * group;
        let kernel_scales = kernel_scales(ki, kq)?;
        // TANH is a table after the requantization; clamps fold into it.
        let (lo, hi) = if act == ActivationFunctionType::TANH {
            (yq8.min(), yq8.max())
        } else {
            let (l, h) = clamp_bounds(act)?;
            activation_range(yq8, yq, l, h)
        };
        let requant = RequantSpec::new(
            &kernel_scales,
            xq.scale,
            yq.scale,
            o,
            yq.zero_point,
            (lo, hi),
            y.dt,
        )
        .map_err(|e| tract_err(&e))?;
        let bias: Vec<i32> = bias
            .try_as_plain_ram()
            .and_then(|b| Ok(b.as_slice::<i32>()?.to_vec()))
            .map_err(|e| tract_err(&e))?;
        let input: [usize; 4] = xi.shape[..]
            .try_into()
            .map_err(|_| ImportError::Invalid(format!("input must be NHWC, got {:?}", xi.shape)))?;
        let conv = QConv {
            input,
            x: xq8,
            x0: xq.zero_point,
            kernel,
            k: kq8,
            k0: kq.zero_point,
            bias,
            strides,
            dilations,
            same,
            group,
            requant,
        };
        let name = format!("op{}.{}", call.index, call.name);
        let consts = format!("op{}", call.index);
        let wire = conv
            .wire(&mut self.model, &name, &consts, x)
            .map_err(|e| tract_err(&e))?;
        if act == ActivationFunctionType::TANH {
            return self.activation(call, wire, act).map(Some);
        }
        Ok(Some(wire))
    }
}

pub(super) fn conv_2d(im: &mut Importer, call: &Call) -> Result<()> {
    let Some(o) = call.op.builtin_options_as_conv_2_doptions() else {
        return options_missing();
    };
    let xi = im.tensor(call.input(0)?)?;
    let ki = im.tensor(call.input(1)?)?;
    let x = im.wire(call.input(0)?)?;
    let kernel = im.const_tensor(&ki)?;
    if kernel.rank() != 4 {
        return invalid(format!("kernel shape {:?} is not OHWI", kernel.shape()));
    }
    let group = if kernel.shape()[3] == 0 {
        0
    } else {
        xi.shape.get(3).copied().unwrap_or(0) / kernel.shape()[3]
    };
    if group != 1 {
        return invalid("grouped CONV_2D is not supported");
    }
    let strides = pair(o.stride_h(), o.stride_w(), "stride")?;
    let dil = pair(o.dilation_h_factor(), o.dilation_w_factor(), "dilation")?;
    let y = im.conv(
        call,
        x,
        &xi,
        kernel,
        &ki,
        strides,
        dil,
        padding(o.padding())?,
        1,
        o.fused_activation_function(),
    )?;
    im.produce(call, y)
}

pub(super) fn depthwise_conv_2d(im: &mut Importer, call: &Call) -> Result<()> {
    let Some(o) = call.op.builtin_options_as_depthwise_conv_2_doptions() else {
        return options_missing();
    };
    let xi = im.tensor(call.input(0)?)?;
    let ki = im.tensor(call.input(1)?)?;
    let x = im.wire(call.input(0)?)?;
    let kernel = im.const_tensor(&ki)?;
    // TFLite's depthwise kernel is [1, H, W, C * M] (output channel c * M + m); tract's
    // grouped OHWI wants [M, H, W, C] with group-major outputs, the same order.
    let ks = kernel.shape().to_vec();
    if ks.len() != 4 || ks[0] != 1 {
        return invalid(format!("depthwise kernel shape {ks:?}"));
    }
    let channels = *xi
        .shape
        .get(3)
        .ok_or_else(|| ImportError::Invalid("input is not NHWC".into()))?;
    if channels == 0 || ks[3] % channels != 0 {
        return invalid(format!(
            "depthwise kernel {ks:?} does not fit {channels} input channels"
        ));
    }
    let m = ks[3] / channels;
    let kernel = kernel
        .into_shape(&[ks[1] * ks[2], channels, m])
        .and_then(|t| t.permute_axes(&[2, 0, 1]))
        .and_then(|t| t.into_shape(&[m, ks[1], ks[2], channels]))
        .map_err(|e| tract_err(&e))?;
    let strides = pair(o.stride_h(), o.stride_w(), "stride")?;
    let dil = pair(o.dilation_h_factor(), o.dilation_w_factor(), "dilation")?;
    let y = im.conv(
        call,
        x,
        &xi,
        kernel,
        &ki,
        strides,
        dil,
        padding(o.padding())?,
        channels,
        o.fused_activation_function(),
    )?;
    im.produce(call, y)
}

pub(super) fn fully_connected(im: &mut Importer, call: &Call) -> Result<()> {
    let Some(o) = call.op.builtin_options_as_fully_connected_options() else {
        return options_missing();
    };
    if o.weights_format() != tflite::FullyConnectedOptionsWeightsFormat::DEFAULT {
        return invalid("shuffled weights are not supported");
    }
    let xi = im.tensor(call.input(0)?)?;
    let ki = im.tensor(call.input(1)?)?;
    let yi = im.tensor(call.output())?;
    let kernel = im.const_tensor(&ki)?;
    if kernel.rank() != 2 {
        return invalid(format!("weights shape {:?}", kernel.shape()));
    }
    let (outs, ins) = (kernel.shape()[0], kernel.shape()[1]);
    let volume: usize = xi.shape.iter().product();
    if ins == 0 || !volume.is_multiple_of(ins) {
        return invalid(format!(
            "input {:?} does not fit weights {:?}",
            xi.shape,
            kernel.shape()
        ));
    }
    // A 1x1 convolution over an [N, 1, 1, in] image: tract's quantized conv path.
    let batch = volume / ins;
    let kernel = kernel
        .into_shape(&[outs, 1, 1, ins])
        .map_err(|e| tract_err(&e))?;
    let x = im.wire(call.input(0)?)?;
    let x = im.reshape(call, x, &[batch, 1, 1, ins])?;
    let x_as_image = TInfo {
        shape: vec![batch, 1, 1, ins],
        ..xi
    };
    let act = o.fused_activation_function();
    let y = im.conv(
        call,
        x,
        &x_as_image,
        kernel,
        &ki,
        (1, 1),
        (1, 1),
        false,
        1,
        act,
    )?;
    let y = im.reshape(call, y, &yi.shape)?;
    im.produce(call, y)
}
