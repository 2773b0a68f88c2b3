#!/usr/bin/env python3
"""Host side of tests/appliance: the stand-in's frames, and the checks of one guest run.

check.py frames PHOTO DIR W H   the photo at WxH as DIR/frame-WxH.yuv420 (I420, BT.601
                                limited range, rows padded to 64 bytes as rpicam-vid pads
                                them) and DIR/frame-WxH.mjpeg (one JPEG)
check.py check RESULTS_DIR ARCH the scenarios (tests/appliance/guest.sh); one line per
                                failure, exit 1 if any

The screen checks are tests/vm/check.py's (vivid's colour bars where the views log says the
picture is, the overlay's bars and text under it), imported, not copied.
"""
import io
import os
import re
import sys

from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))
from check import Run, bars_problem, overlay_problem  # noqa: E402  (tests/vm/check.py)

MAX_EXPOSURE = 2.0


def frames(photo, out, w, h):
    img = Image.open(photo).convert("RGB").resize((w, h), Image.BILINEAR)
    px = img.load()
    stride = (w + 63) // 64 * 64
    cs = stride // 2
    y_plane = bytearray(stride * h)
    u_plane = bytearray(cs * (h // 2))
    v_plane = bytearray(cs * (h // 2))
    clamp = lambda v: max(0, min(255, int(round(v))))
    for y in range(h):
        for x in range(w):
            r, g, b = px[x, y]
            y_plane[y * stride + x] = clamp(16 + (65.738 * r + 129.057 * g + 25.064 * b) / 256)
    for cy in range(h // 2):
        for cx in range(w // 2):
            quad = [px[2 * cx + dx, 2 * cy + dy] for dx in (0, 1) for dy in (0, 1)]
            r, g, b = (sum(p[k] for p in quad) / 4 for k in range(3))
            u_plane[cy * cs + cx] = clamp(128 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256)
            v_plane[cy * cs + cx] = clamp(128 + (112.439 * r - 94.154 * g - 18.285 * b) / 256)
    base = os.path.join(out, f"frame-{w}x{h}")
    with open(base + ".yuv420", "wb") as f:
        f.write(y_plane + u_plane + v_plane)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    with open(base + ".mjpeg", "wb") as f:
        f.write(buf.getvalue())


def props(text):
    return dict(re.findall(r"(\w+)=(\S*)", text or ""))


def check(res, arch):
    r = Run(res, arch)
    out = os.path.join(res, "share", "out")
    rd = lambda name: r.read(os.path.join("share", "out", name)) or ""
    views = lambda name: r.views(os.path.join("share", "out", name))
    marks = r.marks()
    if "@@DONE" not in r.serial:
        tail = [l for l in r.serial.splitlines() if l.strip()][-3:]
        r.fail("boot", f"the guest did not finish its scenarios (last lines: {tail})")

    def screen(tag, shot, view, want_bars=True):
        img = r.shot(shot)
        if img is None or view is None:
            r.fail(tag, f"no screendump {shot} or no view")
            return
        if tuple(view["screen"]) != img.size:
            r.fail(tag, f"views log screen {view['screen']} != screendump {img.size}")
            return
        why = (bars_problem(img, view["picture"]) if want_bars and view.get("picture") else
               None if not want_bars else "the view has no picture")
        why = why or overlay_problem(img, view)
        if why:
            r.fail(tag, f"screen {shot}: {why}")

    log1 = views("views-1.jsonl")
    pictures = [v for v in log1 if v.get("picture")]
    install = rd("install.log")
    if r.rc(install) != 0:
        r.fail("install", f"apt-get install exit {r.rc(install)}: {install.strip().splitlines()[-3:]}")
    sec = re.search(r"Overall exposure level for breedcam.service: ([\d.]+)", rd("security.txt"))
    if not sec or float(sec.group(1)) > MAX_EXPOSURE:
        r.fail("a hardened", f"systemd-analyze security: {sec.group(0) if sec else rd('security.txt')[-300:]}")
    else:
        r.notes.append(f"installed unit: {sec.group(0)}")

    # a. the service shows the camera with the overlay
    st = props(rd("a-state.txt"))
    if st.get("SubState") != "running" or "a-screens" not in marks:
        r.fail("a service", f"not running with screens: {rd('a-state.txt').strip()}")
    screen("a service", "a", pictures[0] if pictures else None)

    # b. SIGKILL: restarted by systemd, screens back
    b = rd("b-pids.txt")
    m = re.match(r"before (\d+) after (\d+)", b)
    if not m or m.group(1) == m.group(2) or "b-back" not in marks:
        r.fail("b kill", f"not restarted with screens back: {b.strip()}")
    screen("b kill", "b", pictures[-1] if pictures else None)

    # c. SIGSTOP: the watchdog restarts it
    c = rd("c-pids.txt")
    m = re.match(r"before (\d+) after (\d+)", c)
    journal = rd("journal-1.txt")
    if not m or m.group(1) == m.group(2) or "c-back" not in marks:
        r.fail("c watchdog", f"not restarted with screens back: {c.strip()}")
    if "Watchdog timeout" not in journal:
        r.fail("c watchdog", "no 'Watchdog timeout' in the journal")
    elif "c-stop" in marks and "c-restarted" in marks:
        r.notes.append(f"c: stopped kiosk replaced after {marks['c-restarted'] - marks['c-stop']:.0f} s")

    # d. camera unplugged, module reloaded: camera lost, frames again, same process
    d = rd("d-pids.txt")
    m = re.match(r"before (\d+) after (\d+) lines (\d+)", d)
    if not m or m.group(1) != m.group(2):
        r.fail("d camera", f"not the same process: {d.strip()}")
    else:
        after = log1[int(m.group(3)):]
        lost = [i for i, v in enumerate(after) if (v.get("headline") or "").startswith("camera lost")]
        if not lost:
            r.fail("d camera", "no camera lost screen")
        elif not any(v.get("picture") for v in after[lost[0]:]):
            r.fail("d camera", "no picture after camera lost")
        else:
            screen("d camera", "d-lost", after[lost[0]], want_bars=False)
    if "d-unloaded" not in marks:
        r.fail("d camera", "vivid could not be unloaded: something kept the unplugged camera open")
    if "d-back" not in marks:
        r.fail("d camera", "frames did not come back")
    screen("d camera", "d-back", pictures[-1] if pictures else None)

    # e. reboot: back on screen with nobody logged in
    log2 = views("views-2.jsonl")
    if "e-screens" not in marks or not any(v.get("picture") for v in log2):
        r.fail("e reboot", f"no screens after the reboot: {rd('e-state.txt').strip()}")
    else:
        screen("e reboot", "e", [v for v in log2 if v.get("picture")][-1])

    # f. the stand-in rpicam-vid
    log3 = views("views-3.jsonl")
    j2 = rd("journal-2.txt")
    if "stand-in rpicam-vid: 320x240 yuv420 at 30 fps, extra options: --hflip" not in j2:
        r.fail("f rpicam", "the stand-in's stderr line is not in the journal")
    # (each start of breedcam begins the views log anew)
    if "f-screens" not in marks or not any(v.get("picture") for v in log3):
        r.fail("f rpicam", f"no screens from rpicam-vid: {rd('f-state.txt').strip()}")
    else:
        view = [v for v in log3 if v.get("picture")][-1]
        img = r.shot("f")
        try:
            photo = Image.open(os.path.join(out, "..", "frame-320x240.mjpeg")).convert("RGB")
            x, y, w, h = view["picture"]
            seen = img.crop((x, y, x + w, y + h)).resize((64, 48))
            ref = photo.resize((64, 48))
            diff = sum(abs(a - b) for p, q in zip(seen.getdata(), ref.getdata())
                       for a, b in zip(p, q)) / (64 * 48 * 3)
            r.notes.append(f"f: screen vs photo mean difference {diff:.1f}")
            if diff > 12:
                r.fail("f rpicam", f"the screen does not show the photo (mean difference {diff:.1f})")
            why = overlay_problem(img, view)
            if why:
                r.fail("f rpicam", why)
        except (OSError, KeyError, TypeError, AttributeError) as e:
            r.fail("f rpicam", f"cannot compare the screen with the photo: {e}")
    if "rpicam: /usr/local/bin/rpicam-vid" not in rd("f-cameras.txt"):
        r.fail("f rpicam", f"breedcam cameras: {rd('f-cameras.txt').strip()[-200:]}")

    # g. purge
    g = rd("g-left.txt").strip()
    if r.rc(rd("purge.log")) != 0 or g != "checked":
        r.fail("g purge", f"apt purge exit {r.rc(rd('purge.log'))}; {g}")

    for a, b in [("a-start", "a-screens"), ("b-kill", "b-back"), ("c-stop", "c-back"),
                 ("d-disconnect", "d-back"), ("f-start", "f-screens")]:
        if a in marks and b in marks:
            r.notes.append(f"{a} -> {b}: {marks[b] - marks[a]:.1f} s")
    boots = re.findall(r"@@T up ([\d.]+)", r.serial)
    for i, t in enumerate(boots):
        r.notes.append(f"boot {i + 1}: systemd 'running' at {float(t):.1f} s (guest uptime)")
    # the same on the host's clock: seconds since qemu started (tests/vm/boot.py)
    host = [l.split() for l in (r.read("host-times.txt") or "").splitlines()]
    ups = [float(t[0]) for t in host if t[1:3] == ["@@T", "up"]]
    if ups:
        r.notes.append("systemd 'running' at " + ", ".join(f"{t:.0f} s" for t in ups)
                       + " after qemu started (host clock; boot 1, boot 2)")
    wall = r.read("wall.txt")
    if wall:
        r.notes.append(f"guest wall time: {wall.strip()} s")
    for n in r.notes:
        print(f"appliance {arch}: {n}")
    for f in r.failures:
        print(f"FAIL {f}")
    if not r.failures:
        print(f"appliance {arch}: all scenarios passed")
    return 1 if r.failures else 0


if __name__ == "__main__":
    if sys.argv[1] == "frames":
        frames(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
        sys.exit(0)
    sys.exit(check(sys.argv[2], sys.argv[3]))
