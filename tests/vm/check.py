#!/usr/bin/env python3
"""Host side of tests/vm: photo preparation and the checks of one guest run.

check.py photos GUEST_DIR HOST_DIR PHOTO...   each photo letterboxed to 1280x720 (vivid's
                                              HDMI input) as GUEST_DIR/NAME.ppm + HOST_DIR/NAME.png
check.py check RESULTS_DIR ARCH               the scenarios; one line per failure, exit 1 if any

The checks never assume where the picture lands: each reads the rectangle breedcam logged
with the view ("picture": [x, y, w, h], from overlay::picture_rect) and looks there.
"""
import json
import os
import re
import sys

from PIL import Image

LOOP_SIZE = (1280, 720)
# vivid's default test pattern, 75% colour bars, left to right: which of R, G, B are on.
BARS = ["111", "110", "011", "010", "101", "100", "001", "000"]
BAR_NAMES = ["white", "yellow", "cyan", "green", "magenta", "red", "blue", "black"]
ORANGE = (255, 176, 0)  # the overlay's probability bars


def photos(guest_dir, host_dir, paths):
    os.makedirs(guest_dir, exist_ok=True)
    os.makedirs(host_dir, exist_ok=True)
    for p in paths:
        img = Image.open(p).convert("RGB")
        scale = min(LOOP_SIZE[0] / img.width, LOOP_SIZE[1] / img.height)
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        canvas = Image.new("RGB", LOOP_SIZE)
        canvas.paste(img.resize(size, Image.LANCZOS),
                     ((LOOP_SIZE[0] - size[0]) // 2, (LOOP_SIZE[1] - size[1]) // 2))
        name = os.path.splitext(os.path.basename(p))[0]
        canvas.save(os.path.join(guest_dir, name + ".ppm"))
        canvas.save(os.path.join(host_dir, name + ".png"))


class Run:
    def __init__(self, res, arch):
        self.res, self.arch = res, arch
        self.failures, self.notes = [], []
        self.serial = self.read("serial.log") or ""

    def read(self, name):
        try:
            with open(os.path.join(self.res, name), errors="replace") as f:
                return f.read()
        except OSError:
            return None

    def views(self, name):
        text = self.read(name) or ""
        out = []
        for line in text.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def shot(self, name):
        try:
            return Image.open(os.path.join(self.res, name + ".ppm")).convert("RGB")
        except OSError:
            return None

    def fail(self, scenario, why):
        self.failures.append(f"{self.arch} {scenario}: {why}")

    def marks(self):
        return {m.group(1): float(m.group(2))
                for m in re.finditer(r"^@@T (\S+) ([\d.]+)", self.serial, re.M)}

    def rc(self, text):
        m = re.search(r"^rc=(\d+)", text or "", re.M)
        return int(m.group(1)) if m else None


def patch(img, x, y, r=3):
    px = [img.getpixel((min(max(i, 0), img.width - 1), min(max(j, 0), img.height - 1)))
          for i in range(x - r, x + r + 1) for j in range(y - r, y + r + 1)]
    return tuple(sum(c[k] for c in px) // len(px) for k in range(3))


def bars_problem(img, rect):
    """None when the picture rectangle shows vivid's eight colour bars, else why not."""
    x, y, w, h = rect
    row = y + int(h * 0.6)
    seen = []
    for i, want in enumerate(BARS):
        c = patch(img, x + int((i + 0.5) * w / 8), row)
        bits = "".join("1" if v > 120 else "0" if v < 60 else "?" for v in c)
        seen.append(c)
        if bits != want:
            return f"bar {i + 1} should be {BAR_NAMES[i]}, screen shows {c} at row {row}"
    # The picture starts where the log says: black letterbox left of it, white bar at it.
    if x >= 3 and max(patch(img, x - 3, row, 1)) > 40:
        return f"not black left of the logged picture edge x={x}: {patch(img, x - 3, row, 1)}"
    if min(patch(img, x + 2, row, 1)) < 120:
        return f"no white bar at the logged picture edge x={x}: {patch(img, x + 2, row, 1)}"
    return None


def overlay_problem(img, view):
    """None when the list under the picture (the whole screen without one) shows what the
    view says: bars for breeds, text otherwise. Where the picture is comes from the log."""
    screen_w, screen_h = img.size
    top = 0
    if view.get("picture"):
        x, y, w, h = view["picture"]
        top = y + h
    if top >= screen_h:
        return f"the logged picture {view.get('picture')} leaves no room for the list"
    panel = img.crop((0, top, screen_w, screen_h)).getdata()
    orange = sum(1 for p in panel if abs(p[0] - 255) < 8 and abs(p[1] - 176) < 8 and p[2] < 8)
    white = sum(1 for p in panel if min(p) > 240)
    if view.get("headline"):
        if orange:
            return f"headline {view['headline']!r} logged, but {orange} bar pixels on screen"
        if white < 50:
            return f"headline {view['headline']!r} logged, no text on screen"
    else:
        p = view["breeds"][0][1] if view.get("breeds") else 0
        if p >= 0.02 and orange < 20:
            return f"breeds {view.get('breeds')} logged, no probability bars on screen"
        if white < 50:
            return "breeds logged, no text on screen"
    return None


def check(res, arch):
    r = Run(res, arch)
    if "@@DONE" not in r.serial:
        tail = [l for l in r.serial.splitlines() if l.strip()][-3:]
        r.fail("boot", f"the guest did not finish its scenarios (last lines: {tail})")
    marks = r.marks()
    fbs = {m.group(1): m.groups() for m in re.finditer(
        r"^@@FB (\S+) (\S+) (\d+) (\S+) (\d+)", r.serial, re.M)}

    # a. cameras
    a = r.read("a-cameras") or ""
    want_lines = ["/dev/video0: vivid (vivid, platform:vivid-000)",
                  "breedcam decodes: RGB3, BGR3, YU12, NV12, YUYV",
                  "breedcam run --camera /dev/video0 captures RGB3 640x480"]
    for line in want_lines:
        if line not in a:
            r.fail("a cameras", f"no line {line!r} in `breedcam cameras`")
    for fourcc in ["YUYV", "YU12", "NV12", "RGB3", "BGR3"]:
        if not re.search(rf"^\s+{fourcc}\s", a, re.M):
            r.fail("a cameras", f"format {fourcc} not listed")
    if r.rc(a) != 0:
        r.fail("a cameras", f"exit code {r.rc(a)}")

    # b. each pixel format on the framebuffer
    formats = ["YU12", "NV12", "YUYV", "RGB3", "BGR3"]
    per_frame = []
    for fmt in formats:
        name = f"b-{fmt}"
        out = r.read(name + ".out") or ""
        views = r.views(name + ".jsonl")
        img = r.shot(name)
        if r.rc(out) != 0:
            r.fail(name, f"breedcam run exit code {r.rc(out)}: {out.strip().splitlines()[-2:]}")
            continue
        if f"capturing {fmt} 640x480" not in out:
            r.fail(name, f"did not capture {fmt} 640x480: {out.strip().splitlines()[:3]}")
        if not views or img is None:
            r.fail(name, "no views log or no screendump")
            continue
        last = views[-1]
        if tuple(last["screen"]) != img.size:
            r.fail(name, f"views log screen {last['screen']} != screendump {img.size}")
            continue
        if not last.get("picture"):
            r.fail(name, "the last view has no picture")
            continue
        why = bars_problem(img, last["picture"]) or overlay_problem(img, last)
        if why:
            r.fail(name, why)
        load = re.search(r"loaded \S+ in (\d+) ms", out)
        if f"{name}-start" in marks and f"{name}-end" in marks and load:
            run_s = marks[f"{name}-end"] - marks[f"{name}-start"]
            per_frame.append((run_s, int(load.group(1)) / 1e3, len(views)))

    # e. the real fbdev: 32-bit XRGB8888, and 16-bit where the machine has it
    fb0 = fbs.get("fb0")
    if not fb0:
        r.fail("e fbdev", "no /dev/fb0 in the guest")
    elif fb0[2] != "32":
        r.fail("e fbdev", f"fb0 {fb0[1]} is {fb0[2]} bpp, expected 32")
    else:
        r.notes.append(f"fb0: {fb0[1]} {fb0[3]} {fb0[2]} bpp stride {fb0[4]}")
    fb1 = fbs.get("fb1")
    if arch == "x86_64":
        out = r.read("e-565.out") or ""
        views = r.views("e-565.jsonl")
        img = r.shot("e-565")
        if not fb1 or fb1[2] != "16":
            r.fail("e rgb565", f"fb1 (cirrus) is not a 16-bit framebuffer: {fb1}")
        elif r.rc(out) != 0 or not views or img is None:
            r.fail("e rgb565", f"run on fb1 failed: {out.strip().splitlines()[-2:]}")
        else:
            r.notes.append(f"fb1: {fb1[1]} {fb1[3]} {fb1[2]} bpp stride {fb1[4]}")
            last = views[-1]
            if tuple(last["screen"]) != img.size:
                r.fail("e rgb565", f"views log screen {last['screen']} != screendump {img.size}")
            else:
                why = bars_problem(img, last["picture"]) or overlay_problem(img, last)
                if why:
                    r.fail("e rgb565", why)

    # d. faults
    out = r.read("d-absent.out") or ""
    if r.rc(out) != 2 or "/dev/video7" not in out:
        r.fail("d absent", f"expected exit 2 naming /dev/video7, got {r.rc(out)}: {out.strip()[:200]}")
    out = r.read("d.out") or ""
    views = r.views("d.jsonl")
    kinds = ["lost" if (v.get("headline") or "").startswith("camera lost") else
             "frame" if v.get("picture") else "other" for v in views]
    first_lost = kinds.index("lost") if "lost" in kinds else None
    if first_lost is None:
        r.fail("d disconnect", "no \"camera lost\" view after the simulated disconnect")
    else:
        if "frame" not in kinds[:first_lost]:
            r.fail("d disconnect", "no frames before the disconnect")
        if "d-unloaded" not in marks:
            r.fail("d disconnect", "vivid could not be unloaded: something kept the unplugged camera open")
        if "frame" not in kinds[first_lost:]:
            r.fail("d disconnect", "no frames again after the module was reloaded")
        img = r.shot("d-lost")
        lost_view = views[first_lost]
        if img is None:
            r.fail("d disconnect", "no screendump of \"camera lost\"")
        else:
            why = overlay_problem(img, lost_view)
            x, y = img.width // 2, img.height // 3
            if why or max(patch(img, x, y)) > 40:
                r.fail("d disconnect", why or f"the lost screen still shows a picture at {x},{y}")
        back = [v for v in views[first_lost:] if v.get("picture")]
        img = r.shot("d-back")
        if back and img is not None:
            why = bars_problem(img, back[-1]["picture"])
            if why:
                r.fail("d disconnect", f"after the reload: {why}")
    m = re.search(r"(\d+) driver error buffers skipped, (\d+) frames missed by the driver, "
                  r"(\d+) reopens", out)
    if not m:
        r.fail("d faults", f"no final statistics line: {out.strip().splitlines()[-2:]}")
    else:
        errors, missed, reopens = map(int, m.groups())
        r.notes.append(f"d: {errors} error buffers, {missed} missed frames, {reopens} reopens")
        if errors < 1:
            r.fail("d error buffers", "no buffer flagged as an error was counted")
        if missed < 1:
            r.fail("d dropped buffers", "no dropped buffer was counted")
        if reopens < 1:
            r.fail("d disconnect", "no reopen counted")
    if r.rc(out) != 0:
        r.fail("d faults", f"the kiosk exited with {r.rc(out)} (expected 0 after SIGINT)")
    drop = [int(m.group(1)) for m in re.finditer(r"^@@DROP-(?:START|END) (\d+)", r.serial, re.M)]
    if len(drop) != 2 or drop[1] <= drop[0]:
        r.fail("d dropped buffers", f"no screens while half the buffers were dropped: {drop}")
    else:
        r.notes.append(f"d: {drop[1] - drop[0]} screens in the 8 s of 50% dropped buffers")

    # c. photos through the output -> capture loop
    classified = {}
    for line in (r.read("classify.jsonl") or "").splitlines():
        try:
            v = json.loads(line)
        except ValueError:
            continue
        classified[os.path.splitext(os.path.basename(v["image"]))[0]] = v
    if not classified:
        r.fail("c loop", "breedcam classify gave nothing for the photos")
    for name, want in sorted(classified.items()):
        tag = f"c {name}"
        out = r.read(f"c-{name}.out") or ""
        views = r.views(f"c-{name}.jsonl")
        img = r.shot(f"c-{name}")
        if r.rc(out) != 0 or not views or img is None:
            r.fail(tag, f"run failed (exit {r.rc(out)}): {out.strip().splitlines()[-2:]}")
            continue
        last = views[-1]
        if want.get("dog"):
            expect = want["breeds"][0]["name"]
            got = last["breeds"][0][0] if last.get("breeds") else last.get("headline")
        else:
            expect, got = "No dog in view", last.get("headline")
        if got != expect:
            r.fail(tag, f"kiosk shows {got!r}, breedcam classify says {expect!r}")
        why = overlay_problem(img, last)
        if why:
            r.fail(tag, why)
        # The photo itself is on the screen, where the log says.
        try:
            photo = Image.open(os.path.join(res, "photos", name + ".png")).convert("RGB")
            x, y, w, h = last["picture"]
            seen = img.crop((x, y, x + w, y + h)).resize((64, 32))
            ref = photo.resize((w, h)).resize((64, 32))
            diff = sum(abs(a - b) for p, q in zip(seen.getdata(), ref.getdata())
                       for a, b in zip(p, q)) / (64 * 32 * 3)
            r.notes.append(f"c {name}: {got!r}, screen vs photo mean difference {diff:.1f}")
            if diff > 12:
                r.fail(tag, f"the screen does not show the photo (mean difference {diff:.1f})")
        except (OSError, KeyError, TypeError) as e:
            r.fail(tag, f"cannot compare the screen with the photo: {e}")

    if "init" in marks:
        r.notes.append(f"boot to /init: {marks['init']:.1f} s (guest uptime)")
    for fmt, (run_s, load_s, n) in zip(formats, per_frame):
        r.notes.append(f"b {fmt}: run {run_s:.1f} s = model load {load_s:.1f} s + {n} screens, "
                       f"{(run_s - load_s) / max(1, n):.1f} s a screen (capture start included)")
    for n in r.notes:
        print(f"vm {arch}: {n}")
    for f in r.failures:
        print(f"FAIL {f}")
    if not r.failures:
        print(f"vm {arch}: all scenarios passed")
    return 1 if r.failures else 0


if __name__ == "__main__":
    if sys.argv[1] == "photos":
        photos(sys.argv[2], sys.argv[3], sys.argv[4:])
        sys.exit(0)
    sys.exit(check(sys.argv[2], sys.argv[3]))
