//! V4L2 capture (USB UVC webcams, anything with single-planar video capture) with the `v4l`
//! crate: find and describe devices, negotiate a format, stream through mmap buffers.
//!
//! The decision of which format and size to ask for is [`negotiate`], a pure function of
//! what a device offers, so it is tested without a camera. Its rule:
//! - **Size**, within each format breedcam decodes (RGB3, BGR3, YU12, NV12, YUYV, MJPEG):
//!   the requested size when offered; else the smallest offered size at least as large in
//!   both dimensions (the fewest pixels to decode that still cover the request); else, when
//!   every size is smaller, the largest one. A stepwise or continuous range offers the
//!   request clamped to the range and rounded down to its step. A driver that lists no
//!   sizes is asked for the request, and the driver's answer is used.
//! - **Format**: of those, a size that covers the request beats one that does not; then a
//!   format offering at least 15 fps at its size (or not saying) beats one that is slower
//!   (many USB 2 webcams send large YUYV sizes at a few fps and only MJPEG at full rate);
//!   then the least decoding work, pixels times a per-pixel [`decode_cost`]: packed RGB is a
//!   copy, YUV a few multiplies a pixel, MJPEG an entropy decode and IDCT. A device with
//!   none of the six is an error that names the device and lists what it offers.
//!
//! Errors name the device and the cause. At start-up they are bad input (exit code 2: no
//! such device, permission denied, not a capture device, no usable format); once streaming,
//! a failed read (camera unplugged, no frame for [`FRAME_TIMEOUT`]) is a runtime error the
//! kiosk loop turns into "camera lost" and a reopen every second.
//!
//! The `v4l` crate has no multi-planar capture: Raspberry Pi CSI cameras (unicam, rp1-cfe,
//! behind libcamera) are reached through libcamera's V4L2 compatibility layer instead.
//!
//! | file | part |
//! |---|---|
//! | [`negotiation`] | the format and size rule above ([`negotiate`]) |
//! | [`device`] | device nodes: finding, describing, open errors |
//! | [`stream`] | [`Camera`]: opening at the negotiated format, mmap streaming, packing rows |

pub mod device;
pub mod negotiation;
pub mod stream;

use std::time::Duration;

pub use device::{open_error, probe, video_nodes, DeviceInfo};
pub use negotiation::{
    decode_cost, negotiate, negotiate_among, Choice, FormatOffer, Sizes, FORMATS,
};
pub use stream::{pack_frame, Camera};

/// Buffers mapped for streaming: enough for the driver to fill one while we copy another.
pub const BUFFERS: u32 = 4;

/// A camera that sends no frame for this long is treated as lost (and reopened).
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(3);

/// The size asked for when none is given.
pub const DEFAULT_SIZE: (u32, u32) = (640, 480);
