#!/bin/sh
# /init of the test guest (busybox sh): loads vivid and the DRM driver, runs the scenarios and
# talks to the host through the serial console:
#   @@SHOT name        the host takes a QMP screendump now (the screen holds still for 2 s)
#   @@FILE name ... @@END   a file's contents (breedcam's output, views logs)
#   @@T name seconds   a time mark (guest uptime)
#   @@DONE             all scenarios ran
# The checks themselves run on the host (tests/vm/check.py).
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
. /etc/vm.conf # ARCH, FB_MODULES, FRAMES, RGB565_MODULES
B="/bin/breedcam -v"
MODEL=/models/efficientnet_lite0_int8io.tflite
# --locate off on every run: these guests test the drivers and the picture path (the kiosk's
# screen against `breedcam classify` of the same photo); the locate stage is tested by the
# suite on x86 and under qemu-user, and under TCG (qemu64 has no AVX2) it made a screen 11 s.
export RUST_LOG=info

up() { cut -d' ' -f1 /proc/uptime; }
mark() { echo "@@T $1 $(up)"; }
shot() { echo "@@SHOT $*"; sleep 2; }
putfile() { echo "@@FILE $1"; cat "$2"; echo "@@END"; }
# waits up to $2 seconds for grep pattern $3 in file $1
waitfor() {
  n=0
  while ! grep -q "$3" "$1" 2>/dev/null; do
    n=$((n + 1)); [ $n -gt $(($2 * 5)) ] && return 1; sleep 0.2
  done
}
lines() { wc -l < "$1" 2>/dev/null || echo 0; }
# The webcam-like vivid at 5 fps: under TCG a 25 fps stream's decoding alone fills a vCPU.
vivid_webcam() {
  modprobe vivid n_devs=1 node_types=0x1 input_types=0x0
  n=0; while [ ! -e /dev/video0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
  /bin/vivctl /dev/video0 fps 5
}
vivid_loop() { modprobe vivid n_devs=1 node_types=0x101 input_types=0x3 output_types=0x1 ccs_cap_mode=0 ccs_out_mode=0; sleep 0.5; }
unplug_vivid() { for d in /sys/bus/platform/drivers/vivid/vivid.*; do echo "${d##*/}" > /sys/bus/platform/drivers/vivid/unbind; done; }
unload_vivid() { n=0; while lsmod | grep -q "^vivid "; do rmmod vivid 2>/dev/null || sleep 0.3; n=$((n+1)); [ $n -gt 60 ] && return 1; done; return 0; }

mark init
for m in $FB_MODULES; do modprobe $m; done
n=0; while [ ! -e /dev/fb0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
for v in /sys/class/vtconsole/vtcon*; do
  grep -q "frame buffer" $v/name 2>/dev/null && echo 0 > $v/bind
done
echo 0 > /sys/class/graphics/fbcon/cursor_blink 2>/dev/null
for f in /sys/class/graphics/fb*; do
  [ -e $f/name ] || continue
  echo "@@FB $(basename $f) $(cat $f/name) $(cat $f/bits_per_pixel) $(cat $f/virtual_size) $(cat $f/stride)"
done
mark drivers

# a. cameras
vivid_webcam
mark vivid
$B cameras > /tmp/a.out 2>&1; echo "rc=$?" >> /tmp/a.out
putfile a-cameras /tmp/a.out

# b. the camera on the framebuffer, once per pixel format
for fmt in $FORMATS; do
  mark "b-$fmt-start"
  $B run --model $MODEL --locate off --camera /dev/video0 --camera-format $fmt --display fb:/dev/fb0 \
    --frames $FRAMES --views /tmp/b-$fmt.jsonl > /tmp/b-$fmt.out 2>&1
  echo "rc=$?" >> /tmp/b-$fmt.out
  mark "b-$fmt-end"
  shot "b-$fmt"
  putfile "b-$fmt.out" /tmp/b-$fmt.out
  putfile "b-$fmt.jsonl" /tmp/b-$fmt.jsonl
done

# e. a 16-bit framebuffer, where the machine has one
if [ -n "$RGB565_MODULES" ]; then
  for m in $RGB565_MODULES; do modprobe $m; done
  n=0; while [ ! -e /dev/fb1 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
  for f in /sys/class/graphics/fb1; do
    [ -e $f/name ] && echo "@@FB fb1 $(cat $f/name) $(cat $f/bits_per_pixel) $(cat $f/virtual_size) $(cat $f/stride)"
  done
  $B run --model $MODEL --locate off --camera /dev/video0 --display fb:/dev/fb1 --frames 1 \
    --views /tmp/e-565.jsonl > /tmp/e-565.out 2>&1
  echo "rc=$?" >> /tmp/e-565.out
  shot e-565 fb565
  putfile e-565.out /tmp/e-565.out
  putfile e-565.jsonl /tmp/e-565.jsonl
fi

# d. faults: no camera at start-up, then error / dropped buffers and a disconnect mid-run
$B run --model $MODEL --locate off --camera /dev/video7 --display fb:/dev/fb0 --frames 1 > /tmp/d-absent.out 2>&1
echo "rc=$?" >> /tmp/d-absent.out
putfile d-absent.out /tmp/d-absent.out
mark d-start
$B run --model $MODEL --locate off --camera /dev/video0 --display fb:/dev/fb0 --views /tmp/d.jsonl \
  > /tmp/d.out 2>&1 &
KIOSK=$!
waitfor /tmp/d.jsonl 120 '"picture":\['
for i in 1 2 3; do /bin/vivctl /dev/video0 set "Inject V4L2_BUF_FLAG_ERROR" 1; sleep 0.5; done
/bin/vivctl /dev/video0 set "Percentage of Dropped Buffers" 50
echo "@@DROP-START $(lines /tmp/d.jsonl)"
sleep 8
/bin/vivctl /dev/video0 set "Percentage of Dropped Buffers" 0
echo "@@DROP-END $(lines /tmp/d.jsonl)"
mark d-disconnect
# Unplugged as a USB camera is: the driver lets go of the device (its node disappears, the
# open file fails). The kiosk must close it, or the module could not be unloaded: only then
# is vivid unloaded and loaded again. (vivid's "Disconnect" control is no unplug: the device
# comes back at the kiosk's own close, and its reopen then holds the module forever.)
unplug_vivid
waitfor /tmp/d.jsonl 60 'camera lost' && mark d-lost
shot d-lost
unload_vivid && mark d-unloaded
vivid_webcam
mark d-reloaded
# frames again: a view with a picture after the "camera lost" one
n=0
while [ $n -lt 600 ]; do
  tail -n 1 /tmp/d.jsonl | grep -q '"picture":\[' && break
  n=$((n + 1)); sleep 0.2
done
mark d-back
shot d-back
kill -INT $KIOSK; wait $KIOSK; echo "rc=$?" >> /tmp/d.out
putfile d.out /tmp/d.out
putfile d.jsonl /tmp/d.jsonl
unload_vivid

# c. photos through vivid's output -> capture loop
vivid_loop
/bin/vivctl /dev/video0 list > /tmp/c-ctrls.out 2>&1
/bin/vivctl /dev/video0 set "Loop Video" 1 >> /tmp/c-ctrls.out 2>&1
putfile c-ctrls.out /tmp/c-ctrls.out
for p in /photos/*.ppm; do
  name=$(basename $p .ppm)
  /bin/vivctl /dev/video1 feed $p > /tmp/c-$name.feed 2>&1 &
  FEED=$!
  sleep 1
  mark "c-$name-start"
  $B run --model $MODEL --locate off --camera /dev/video0 --camera-size 1280x720 --display fb:/dev/fb0 \
    --frames $FRAMES --smoothing 1 --views /tmp/c-$name.jsonl > /tmp/c-$name.out 2>&1
  echo "rc=$?" >> /tmp/c-$name.out
  mark "c-$name-end"
  shot "c-$name"
  kill $FEED; wait $FEED 2>/dev/null
  cat /tmp/c-$name.feed >> /tmp/c-$name.out
  putfile "c-$name.out" /tmp/c-$name.out
  putfile "c-$name.jsonl" /tmp/c-$name.jsonl
done

mark done
echo "@@DONE"
poweroff -f
