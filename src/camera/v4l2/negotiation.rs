//! Which format and size to ask a device for: a pure function of what it offers (the rule
//! is in the [`super`] module's documentation), so it is tested without a camera.

use std::fmt;

use crate::camera::Format;

/// The capture formats breedcam decodes, cheapest first.
pub const FORMATS: [Format; 6] = [
    Format::Rgb3,
    Format::Bgr3,
    Format::Yu12,
    Format::Nv12,
    Format::Yuyv,
    Format::Mjpeg,
];

/// Relative decoding work per pixel (1 = a byte copy), for [`negotiate`]: measured order,
/// not exact ratios (an MJPEG frame costs roughly 5-10x a YUV one of the same size).
pub fn decode_cost(format: Format) -> u64 {
    match format {
        Format::Rgb3 => 3,
        Format::Bgr3 => 4,
        Format::Yu12 | Format::Nv12 | Format::Yuyv => 10,
        Format::Mjpeg => 60,
        Format::File => u64::MAX / (1 << 40),
    }
}

/// Below this many frames per second a format's size counts as slow.
const SLOW_FPS: f64 = 15.0;

/// Frame sizes a device offers for one format.
#[derive(Clone, Debug, PartialEq)]
pub enum Sizes {
    /// One size, with the frame rates offered at it (frames per second, may be empty).
    Discrete {
        width: u32,
        height: u32,
        fps: Vec<f64>,
    },
    /// Any size in a range, in steps (continuous ranges have steps of 1).
    Stepwise {
        min: (u32, u32),
        max: (u32, u32),
        step: (u32, u32),
    },
}

impl fmt::Display for Sizes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sizes::Discrete { width, height, fps } => {
                write!(f, "{width}x{height}")?;
                if !fps.is_empty() {
                    let list: Vec<String> = fps.iter().map(|r| format!("{r:.4}")).collect();
                    let list: Vec<&str> = list
                        .iter()
                        .map(|s| s.trim_end_matches('0').trim_end_matches('.'))
                        .collect();
                    write!(f, " ({} fps)", list.join("/"))?;
                }
                Ok(())
            }
            Sizes::Stepwise { min, max, step } => write!(
                f,
                "{}x{} to {}x{} in steps of {}x{}",
                min.0, min.1, max.0, max.1, step.0, step.1
            ),
        }
    }
}

/// One pixel format a device offers, with its sizes.
#[derive(Clone, Debug, PartialEq)]
pub struct FormatOffer {
    pub fourcc: [u8; 4],
    /// The driver's name for it ("Motion-JPEG").
    pub description: String,
    pub sizes: Vec<Sizes>,
}

impl FormatOffer {
    pub fn fourcc_str(&self) -> String {
        String::from_utf8_lossy(&self.fourcc).trim_end().to_string()
    }
}

/// What to ask the device for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    pub format: Format,
    pub width: u32,
    pub height: u32,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}x{}", self.format.name(), self.width, self.height)
    }
}

/// Picks the format and size to ask `device` for, given what it offers (see the module
/// docs for the rule). The error names the device and lists every format it offers.
pub fn negotiate(device: &str, offers: &[FormatOffer], want: (u32, u32)) -> Result<Choice, String> {
    negotiate_among(device, offers, want, &FORMATS)
}

/// [`negotiate`] among `formats` only (`--camera-format`): the error says when the device
/// offers none of them.
pub fn negotiate_among(
    device: &str,
    offers: &[FormatOffer],
    want: (u32, u32),
    formats: &[Format],
) -> Result<Choice, String> {
    let area = |s: (u32, u32)| s.0 as u64 * s.1 as u64;
    let best = formats
        .iter()
        .filter_map(|&format| {
            let offer = offers.iter().find(|o| Some(o.fourcc) == format.fourcc())?;
            let size = pick_size(&offer.sizes, want);
            let covers = size.0 >= want.0 && size.1 >= want.1;
            let slow = fps_at(&offer.sizes, size).is_some_and(|r| r < SLOW_FPS);
            // Covering sizes: least work first; smaller ones: the largest first.
            let work = if covers {
                area(size) * decode_cost(format)
            } else {
                u64::MAX - area(size)
            };
            Some(((!covers, slow, work, decode_cost(format)), format, size))
        })
        .min_by_key(|c| c.0);
    match best {
        Some((_, format, (width, height))) => Ok(Choice {
            format,
            width,
            height,
        }),
        None if offers.is_empty() => Err(format!("{device}: offers no capture formats at all")),
        None if formats.len() < FORMATS.len() => {
            let names: Vec<&str> = formats.iter().map(|f| f.name()).collect();
            let list: Vec<String> = offers.iter().map(|o| o.fourcc_str()).collect();
            Err(format!(
                "{device}: does not offer {}; it offers {}",
                names.join(" or "),
                list.join(", ")
            ))
        }
        None => {
            let list: Vec<String> = offers.iter().map(describe_offer).collect();
            Err(format!(
                "{device}: no capture format breedcam decodes (RGB3, BGR3, YU12, NV12, YUYV, \
                 MJPEG); it offers {}",
                list.join("; ")
            ))
        }
    }
}

/// The highest frame rate a discrete `size` lists (`None`: not listed or a range).
fn fps_at(sizes: &[Sizes], size: (u32, u32)) -> Option<f64> {
    sizes.iter().find_map(|s| match s {
        Sizes::Discrete { width, height, fps } if (*width, *height) == size && !fps.is_empty() => {
            Some(fps.iter().copied().fold(0.0, f64::max))
        }
        _ => None,
    })
}

/// "YUYV (YUYV 4:2:2) 640x480, 1280x720" for messages.
fn describe_offer(o: &FormatOffer) -> String {
    let mut s = o.fourcc_str();
    if !o.description.is_empty() {
        s += &format!(" ({})", o.description);
    }
    if !o.sizes.is_empty() {
        let sizes: Vec<String> = o
            .sizes
            .iter()
            .map(|s| match s {
                Sizes::Discrete { width, height, .. } => format!("{width}x{height}"),
                other => other.to_string(),
            })
            .collect();
        s += &format!(" {}", sizes.join(", "));
    }
    s
}

fn pick_size(sizes: &[Sizes], want: (u32, u32)) -> (u32, u32) {
    let fit = |v: u32, min: u32, max: u32, step: u32| {
        let v = v.clamp(min, max.max(min));
        min + (v - min) / step.max(1) * step.max(1)
    };
    let candidates: Vec<(u32, u32)> = sizes
        .iter()
        .map(|s| match *s {
            Sizes::Discrete { width, height, .. } => (width, height),
            Sizes::Stepwise { min, max, step } => (
                fit(want.0, min.0, max.0, step.0),
                fit(want.1, min.1, max.1, step.1),
            ),
        })
        .collect();
    if candidates.is_empty() || candidates.contains(&want) {
        return want;
    }
    let area = |s: &(u32, u32)| s.0 as u64 * s.1 as u64;
    candidates
        .iter()
        .filter(|s| s.0 >= want.0 && s.1 >= want.1)
        .min_by_key(|s| (area(s), s.0))
        .or_else(|| candidates.iter().max_by_key(|s| (area(s), s.0)))
        .copied()
        .unwrap_or(want)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discrete(sizes: &[(u32, u32)]) -> Vec<Sizes> {
        sizes
            .iter()
            .map(|&(width, height)| Sizes::Discrete {
                width,
                height,
                fps: vec![30.0],
            })
            .collect()
    }

    fn offer(fourcc: &[u8; 4], description: &str, sizes: Vec<Sizes>) -> FormatOffer {
        FormatOffer {
            fourcc: *fourcc,
            description: description.into(),
            sizes,
        }
    }

    const WEBCAM: [(u32, u32); 5] = [(160, 120), (320, 240), (640, 480), (800, 600), (1280, 720)];

    fn with_fps(sizes: &[(u32, u32, f64)]) -> Vec<Sizes> {
        sizes
            .iter()
            .map(|&(width, height, fps)| Sizes::Discrete {
                width,
                height,
                fps: vec![fps],
            })
            .collect()
    }

    #[test]
    fn the_cheapest_decode_at_the_requested_size_wins() {
        let offers = [
            offer(b"MJPG", "Motion-JPEG", discrete(&WEBCAM)),
            offer(b"YUYV", "YUYV 4:2:2", discrete(&WEBCAM)),
        ];
        let c = negotiate("/dev/video0", &offers, (640, 480)).unwrap();
        assert_eq!(
            c,
            Choice {
                format: Format::Yuyv,
                width: 640,
                height: 480
            }
        );
        assert_eq!(c.to_string(), "YUYV 640x480");
        // What libcamera's V4L2 layer offers a Pi CSI camera: packed RGB is a copy.
        let offers = [
            offer(b"YU12", "Planar YUV 4:2:0", discrete(&WEBCAM)),
            offer(b"NV12", "Y/UV 4:2:0", discrete(&WEBCAM)),
            offer(b"BGR3", "24-bit BGR 8-8-8", discrete(&WEBCAM)),
            offer(b"RGB3", "24-bit RGB 8-8-8", discrete(&WEBCAM)),
        ];
        let c = negotiate("/dev/video0", &offers, (640, 480)).unwrap();
        assert_eq!(c.to_string(), "RGB3 640x480");
        let c = negotiate("/dev/video0", &offers[..3], (640, 480)).unwrap();
        assert_eq!(c.to_string(), "BGR3 640x480");
        let c = negotiate("/dev/video0", &offers[..2], (640, 480)).unwrap();
        assert_eq!(c.to_string(), "YU12 640x480");
        let c = negotiate("/dev/video0", &offers[1..2], (640, 480)).unwrap();
        assert_eq!(c.to_string(), "NV12 640x480");
    }

    #[test]
    fn mjpeg_wins_where_the_raw_format_is_slow_or_too_large() {
        // A USB 2 webcam: YUYV 1280x720 at 10 fps, MJPEG at 30.
        let offers = [
            offer(
                b"YUYV",
                "YUYV 4:2:2",
                with_fps(&[(640, 480, 30.0), (1280, 720, 10.0)]),
            ),
            offer(
                b"MJPG",
                "Motion-JPEG",
                with_fps(&[(640, 480, 30.0), (1280, 720, 30.0)]),
            ),
        ];
        let c = negotiate("cam", &offers, (1280, 720)).unwrap();
        assert_eq!(c.to_string(), "MJPEG 1280x720");
        assert_eq!(
            negotiate("cam", &offers, (640, 480)).unwrap().to_string(),
            "YUYV 640x480"
        );
        // RGB3 only far larger than asked: 1920x1080 copied costs more than 640x480 YUYV.
        let offers = [
            offer(b"RGB3", "", discrete(&[(1920, 1080)])),
            offer(b"YUYV", "", discrete(&[(640, 480)])),
        ];
        let c = negotiate("cam", &offers, (640, 480)).unwrap();
        assert_eq!(c.to_string(), "YUYV 640x480");
        // A size that covers the request beats a cheaper format that cannot.
        let offers = [
            offer(b"RGB3", "", discrete(&[(320, 240)])),
            offer(b"MJPG", "", discrete(&[(640, 480)])),
        ];
        let c = negotiate("cam", &offers, (640, 480)).unwrap();
        assert_eq!(c.to_string(), "MJPEG 640x480");
    }

    #[test]
    fn a_chosen_format_is_the_only_candidate() {
        let offers = [
            offer(b"RGB3", "", discrete(&WEBCAM)),
            offer(b"NV12", "", discrete(&WEBCAM)),
        ];
        let c = negotiate_among("cam", &offers, (640, 480), &[Format::Nv12]).unwrap();
        assert_eq!(c.to_string(), "NV12 640x480");
        let e = negotiate_among("cam", &offers, (640, 480), &[Format::Mjpeg]).unwrap_err();
        assert_eq!(e, "cam: does not offer MJPEG; it offers RGB3, NV12");
    }

    #[test]
    fn yuyv_is_taken_when_nothing_else_decodes() {
        let offers = [
            offer(b"GREY", "8-bit Greyscale", discrete(&[(640, 480)])),
            offer(b"YUYV", "YUYV 4:2:2", discrete(&WEBCAM)),
        ];
        let c = negotiate("/dev/video0", &offers, (1280, 720)).unwrap();
        assert_eq!((c.format, c.width, c.height), (Format::Yuyv, 1280, 720));
    }

    #[test]
    fn size_is_exact_else_the_smallest_that_covers_else_the_largest() {
        let offers = [offer(b"MJPG", "", discrete(&WEBCAM))];
        let size = |want| {
            let c = negotiate("cam", &offers, want).unwrap();
            (c.width, c.height)
        };
        assert_eq!(size((320, 240)), (320, 240));
        // Not offered: the smallest size covering both dimensions.
        assert_eq!(size((600, 400)), (640, 480));
        assert_eq!(size((700, 500)), (800, 600));
        // Wider than 800x600 but not taller: only 1280x720 covers it.
        assert_eq!(size((1000, 500)), (1280, 720));
        // Larger than anything offered: the largest.
        assert_eq!(size((1920, 1080)), (1280, 720));
    }

    #[test]
    fn stepwise_ranges_clamp_and_round_to_their_step() {
        let range = Sizes::Stepwise {
            min: (48, 32),
            max: (1920, 1080),
            step: (16, 8),
        };
        let offers = [offer(b"YUYV", "", vec![range])];
        let size = |want| {
            let c = negotiate("cam", &offers, want).unwrap();
            (c.width, c.height)
        };
        assert_eq!(size((640, 480)), (640, 480));
        // 650 = 48 + 37*16 + 10: rounded down to 640; 485 -> 480.
        assert_eq!(size((650, 485)), (640, 480));
        assert_eq!(size((4000, 3000)), (1920, 1080));
        assert_eq!(size((10, 10)), (48, 32));
        // A driver that lists no sizes is asked for the request.
        let bare = [offer(b"MJPG", "", vec![])];
        let c = negotiate("cam", &bare, (640, 480)).unwrap();
        assert_eq!((c.width, c.height), (640, 480));
    }

    #[test]
    fn no_usable_format_names_the_device_and_what_it_offers() {
        let offers = [
            offer(
                b"GREY",
                "8-bit Greyscale",
                discrete(&[(640, 480), (320, 240)]),
            ),
            offer(b"RGGB", "8-bit Bayer RGRG/GBGB", discrete(&[(1920, 1080)])),
        ];
        let e = negotiate("/dev/video3", &offers, (640, 480)).unwrap_err();
        assert_eq!(
            e,
            "/dev/video3: no capture format breedcam decodes (RGB3, BGR3, YU12, NV12, YUYV, \
             MJPEG); it offers GREY (8-bit Greyscale) 640x480, 320x240; RGGB (8-bit Bayer \
             RGRG/GBGB) 1920x1080"
        );
        let e = negotiate("/dev/video3", &[], (640, 480)).unwrap_err();
        assert_eq!(e, "/dev/video3: offers no capture formats at all");
    }

    #[test]
    fn sizes_print_with_their_frame_rates() {
        let s = Sizes::Discrete {
            width: 640,
            height: 480,
            fps: vec![30.0, 15.0, 7.5],
        };
        assert_eq!(s.to_string(), "640x480 (30/15/7.5 fps)");
        let r = Sizes::Stepwise {
            min: (2, 2),
            max: (640, 480),
            step: (2, 2),
        };
        assert_eq!(r.to_string(), "2x2 to 640x480 in steps of 2x2");
    }
}
