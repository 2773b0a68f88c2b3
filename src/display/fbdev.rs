//! The Linux framebuffer (`/dev/fbN`): screen geometry and pixel layout from the
//! FBIOGET_VSCREENINFO / FBIOGET_FSCREENINFO ioctls, pixels written through a shared
//! memory map. 16-bit (RGB565) and 32-bit (XRGB8888) layouts, or any layout the kernel
//! describes with channel offsets and lengths in 16 or 32 bits per pixel.
//!
//! [`Framebuffer::with_info`] maps an ordinary file with a given [`ScreenInfo`], which is
//! how the tests stand in for the device.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use super::Display;
use crate::overlay::Canvas;
use crate::Error;

/// One colour channel's place in a pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Channel {
    pub offset: u32,
    pub length: u32,
}

/// What the kernel says about the screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScreenInfo {
    pub width: u32,
    pub height: u32,
    pub bits_per_pixel: u32,
    /// Bytes from one row to the next.
    pub line_length: u32,
    pub red: Channel,
    pub green: Channel,
    pub blue: Channel,
}

impl ScreenInfo {
    /// RGB565, the usual SPI TFT layout.
    pub fn rgb565(width: u32, height: u32) -> ScreenInfo {
        ScreenInfo {
            width,
            height,
            bits_per_pixel: 16,
            line_length: width * 2,
            red: Channel {
                offset: 11,
                length: 5,
            },
            green: Channel {
                offset: 5,
                length: 6,
            },
            blue: Channel {
                offset: 0,
                length: 5,
            },
        }
    }

    /// XRGB8888, the usual HDMI layout.
    pub fn xrgb8888(width: u32, height: u32) -> ScreenInfo {
        ScreenInfo {
            width,
            height,
            bits_per_pixel: 32,
            line_length: width * 4,
            red: Channel {
                offset: 16,
                length: 8,
            },
            green: Channel {
                offset: 8,
                length: 8,
            },
            blue: Channel {
                offset: 0,
                length: 8,
            },
        }
    }

    fn check(&self) -> Result<(), String> {
        let channels_ok = [self.red, self.green, self.blue]
            .iter()
            .all(|c| c.length >= 1 && c.length <= 8 && c.offset + c.length <= self.bits_per_pixel);
        if !matches!(self.bits_per_pixel, 16 | 32) || !channels_ok {
            return Err(format!(
                "unsupported pixel layout: {self:?} (16 or 32 bits per pixel)"
            ));
        }
        if self.width == 0
            || self.height == 0
            || self.line_length < self.width * self.bits_per_pixel / 8
        {
            return Err(format!("bad screen geometry: {self:?}"));
        }
        Ok(())
    }

    /// The pixel value of an RGB colour.
    pub fn pack(&self, r: u8, g: u8, b: u8) -> u32 {
        let ch = |v: u8, c: Channel| ((v as u32) >> (8 - c.length)) << c.offset;
        ch(r, self.red) | ch(g, self.green) | ch(b, self.blue)
    }
}

#[repr(C)]
#[derive(Default)]
struct FbBitfield {
    offset: u32,
    length: u32,
    msb_right: u32,
}

#[repr(C)]
#[derive(Default)]
struct FbVarScreeninfo {
    xres: u32,
    yres: u32,
    xres_virtual: u32,
    yres_virtual: u32,
    xoffset: u32,
    yoffset: u32,
    bits_per_pixel: u32,
    grayscale: u32,
    red: FbBitfield,
    green: FbBitfield,
    blue: FbBitfield,
    transp: FbBitfield,
    rest: [u32; 20],
}

#[repr(C)]
#[derive(Default)]
struct FbFixScreeninfo {
    id: [u8; 16],
    smem_start: libc::c_ulong,
    smem_len: u32,
    type_: u32,
    type_aux: u32,
    visual: u32,
    xpanstep: u16,
    ypanstep: u16,
    ywrapstep: u16,
    line_length: u32,
    mmio_start: libc::c_ulong,
    mmio_len: u32,
    accel: u32,
    capabilities: u16,
    reserved: [u16; 2],
}

const FBIOGET_VSCREENINFO: libc::c_ulong = 0x4600;
const FBIOGET_FSCREENINFO: libc::c_ulong = 0x4602;

/// A memory-mapped framebuffer.
pub struct Framebuffer {
    path: PathBuf,
    info: ScreenInfo,
    map: *mut u8,
    len: usize,
    _file: File,
    /// Packed pixels of the last frame, written to the map in one copy.
    back: Vec<u8>,
}

// SAFETY: `map` is the only pointer to a mapping this value owns (made in `map`, unmapped
// in `drop`); it is written only through `&mut self`, and a mapping is not tied to the
// thread that made it, so moving the value to another thread is sound.
unsafe impl Send for Framebuffer {}

impl Framebuffer {
    /// Opens a framebuffer device and asks the kernel for its geometry.
    pub fn open(path: &Path) -> Result<Framebuffer, Error> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let mut var = FbVarScreeninfo::default();
        let mut fix = FbFixScreeninfo::default();
        let fd = file.as_raw_fd();
        // SAFETY: `fd` stays open for both calls (`file` is alive). FBIOGET_VSCREENINFO and
        // FBIOGET_FSCREENINFO write one `fb_var_screeninfo` / `fb_fix_screeninfo`, which
        // `FbVarScreeninfo` / `FbFixScreeninfo` mirror field for field (`#[repr(C)]`, same
        // size), through pointers to live, exclusively borrowed locals. On a file that is
        // not a framebuffer the ioctl fails (ENOTTY) and writes nothing.
        let ok = unsafe {
            libc::ioctl(
                fd,
                FBIOGET_VSCREENINFO as _,
                &mut var as *mut FbVarScreeninfo,
            ) == 0
                && libc::ioctl(
                    fd,
                    FBIOGET_FSCREENINFO as _,
                    &mut fix as *mut FbFixScreeninfo,
                ) == 0
        };
        if !ok {
            let e = std::io::Error::last_os_error();
            return Err(Error::BadInput {
                path: path.into(),
                msg: format!("not a framebuffer device: {e}"),
            });
        }
        let ch = |b: &FbBitfield| Channel {
            offset: b.offset,
            length: b.length,
        };
        let info = ScreenInfo {
            width: var.xres,
            height: var.yres,
            bits_per_pixel: var.bits_per_pixel,
            line_length: fix.line_length,
            red: ch(&var.red),
            green: ch(&var.green),
            blue: ch(&var.blue),
        };
        Framebuffer::map(path, file, info)
    }

    /// Maps `path` (an ordinary file, sized here) as a framebuffer with the given geometry.
    pub fn with_info(path: &Path, info: ScreenInfo) -> Result<Framebuffer, Error> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        file.set_len(info.line_length as u64 * info.height as u64)
            .map_err(|e| Error::io(path, e))?;
        Framebuffer::map(path, file, info)
    }

    fn map(path: &Path, file: File, info: ScreenInfo) -> Result<Framebuffer, Error> {
        info.check().map_err(|msg| Error::BadInput {
            path: path.into(),
            msg,
        })?;
        let len = info.line_length as usize * info.height as usize;
        // SAFETY: a new mapping (null address hint, so nothing existing is replaced) of
        // `len` bytes, non-zero because `check` refused empty geometry, of a file open for
        // reading and writing. The result is compared with MAP_FAILED before any use.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            let e = std::io::Error::last_os_error();
            return Err(Error::BadInput {
                path: path.into(),
                msg: format!("cannot map the framebuffer: {e}"),
            });
        }
        Ok(Framebuffer {
            path: path.into(),
            info,
            map: map as *mut u8,
            len,
            _file: file,
            back: vec![0; len],
        })
    }

    pub fn info(&self) -> ScreenInfo {
        self.info
    }
}

impl Drop for Framebuffer {
    fn drop(&mut self) {
        // SAFETY: `self.map` and `self.len` are exactly the mapping `map` made, nothing else
        // unmaps it, and no reference into it outlives `self`.
        unsafe {
            libc::munmap(self.map as *mut libc::c_void, self.len);
        }
    }
}

impl Display for Framebuffer {
    fn size(&self) -> (u32, u32) {
        (self.info.width, self.info.height)
    }

    fn present(&mut self, canvas: &Canvas) -> Result<(), Error> {
        let info = self.info;
        let bpp = (info.bits_per_pixel / 8) as usize;
        let (w, h) = (
            canvas.image.width().min(info.width) as usize,
            canvas.image.height().min(info.height) as usize,
        );
        let stride = info.line_length as usize;
        let src = canvas.image.as_raw();
        let src_stride = canvas.image.width() as usize * 3;
        for y in 0..h {
            let row = &mut self.back[y * stride..y * stride + w * bpp];
            let from = &src[y * src_stride..y * src_stride + w * 3];
            for (px, rgb) in row.chunks_exact_mut(bpp).zip(from.chunks_exact(3)) {
                let v = info.pack(rgb[0], rgb[1], rgb[2]);
                px.copy_from_slice(&v.to_le_bytes()[..bpp]);
            }
        }
        // SAFETY: `self.map` points to `self.len` writable bytes (mapped read-write in `map`,
        // alive until drop); `self.back` has exactly `self.len` bytes; a heap buffer and a
        // file mapping never overlap. Bytes need no alignment.
        unsafe { std::ptr::copy_nonoverlapping(self.back.as_ptr(), self.map, self.len) };
        Ok(())
    }

    fn describe(&self) -> String {
        format!(
            "fb:{} {}x{} {}bpp",
            self.path.display(),
            self.info.width,
            self.info.height,
            self.info.bits_per_pixel
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SAFETY of the ioctls rests on these mirrors having the kernel's sizes
    /// (linux/fb.h: `fb_var_screeninfo` is 40 `__u32`; `fb_fix_screeninfo` holds two
    /// `unsigned long`s, 68 bytes on 32-bit and 80 on 64-bit targets).
    #[test]
    fn the_ioctl_structs_have_the_kernels_sizes() {
        assert_eq!(std::mem::size_of::<FbVarScreeninfo>(), 160);
        let fix = if cfg!(target_pointer_width = "64") {
            80
        } else {
            68
        };
        assert_eq!(std::mem::size_of::<FbFixScreeninfo>(), fix);
    }

    fn canvas() -> Canvas {
        let mut c = Canvas::new(4, 2);
        c.image.put_pixel(0, 0, image::Rgb([255, 0, 0]));
        c.image.put_pixel(1, 0, image::Rgb([0, 255, 0]));
        c.image.put_pixel(2, 0, image::Rgb([0, 0, 255]));
        c.image.put_pixel(3, 1, image::Rgb([255, 255, 255]));
        c
    }

    #[test]
    fn rgb565_pixels_land_in_the_mapped_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fb0");
        // A stride wider than the visible row, as many drivers have.
        let info = ScreenInfo {
            line_length: 16,
            ..ScreenInfo::rgb565(4, 2)
        };
        let mut fb = Framebuffer::with_info(&path, info).unwrap();
        fb.present(&canvas()).unwrap();
        drop(fb);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 32);
        let px = |x: usize, y: usize| {
            u16::from_le_bytes([bytes[y * 16 + 2 * x], bytes[y * 16 + 2 * x + 1]])
        };
        assert_eq!(
            [px(0, 0), px(1, 0), px(2, 0), px(3, 0)],
            [0xF800, 0x07E0, 0x001F, 0x0000]
        );
        assert_eq!(px(3, 1), 0xFFFF);
    }

    #[test]
    fn xrgb8888_pixels_land_in_the_mapped_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fb1");
        let mut fb = Framebuffer::with_info(&path, ScreenInfo::xrgb8888(4, 2)).unwrap();
        assert_eq!(fb.size(), (4, 2));
        fb.present(&canvas()).unwrap();
        drop(fb);
        let bytes = std::fs::read(&path).unwrap();
        let px = |x: usize, y: usize| {
            u32::from_le_bytes(
                bytes[(y * 4 + x) * 4..(y * 4 + x) * 4 + 4]
                    .try_into()
                    .unwrap(),
            )
        };
        assert_eq!(
            [px(0, 0), px(1, 0), px(2, 0)],
            [0x00FF_0000, 0x0000_FF00, 0x0000_00FF]
        );
        assert_eq!(px(3, 1), 0x00FF_FFFF);
    }

    #[test]
    fn missing_device_and_non_framebuffers_are_clear_errors() {
        let e = Framebuffer::open(Path::new("/dev/fb-does-not-exist"))
            .err()
            .unwrap();
        let e = crate::error::Report(&e).to_string();
        assert!(
            e.contains("/dev/fb-does-not-exist") && e.contains("No such file"),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, [0u8; 64]).unwrap();
        let e = Framebuffer::open(&plain).err().unwrap().to_string();
        assert!(e.contains("not a framebuffer device"), "{e}");
        let bad = ScreenInfo {
            bits_per_pixel: 24,
            ..ScreenInfo::xrgb8888(4, 2)
        };
        assert!(Framebuffer::with_info(&plain, bad).is_err());
    }
}
