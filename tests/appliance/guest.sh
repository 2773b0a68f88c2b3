#!/bin/sh
# The appliance test inside the booted Debian guest (run by appliance-test.service from the
# 9p share /host at every boot; tests/appliance/run.sh writes /host/guest.conf and reads the
# results). Talks to the host through the serial console, as tests/vm/init.sh does:
#   @@SHOT name  a QMP screendump now      @@T name seconds  a time mark (guest uptime)
#   @@DONE       all scenarios ran
# Results (views log, journal, command output) are written to /host/out/. The checks run on
# the host (tests/appliance/check.py).
exec > /dev/console 2>&1
set -u
H=/host
O=$H/out
. $H/guest.conf # WATCH_S (watchdog wait), WAIT_S (other waits), BREAK, STOP_AFTER
mkdir -p $O
up() { cut -d' ' -f1 /proc/uptime; }
mark() { echo "@@T $1 $(up)"; }
shot() { echo "@@SHOT $1"; sleep 3; }
VIEWS=/var/lib/breedcam/views.jsonl
lines() { wc -l < $VIEWS 2>/dev/null || echo 0; }
pid() { systemctl show -p MainPID --value breedcam; }
# waits up to $1 s for the views log to grow past $2 lines with a picture in the last line
picture_after() {
  n=0
  while [ $n -lt $(($1 * 2)) ]; do
    [ "$(lines)" -gt "$2" ] && tail -n 1 $VIEWS | grep -q '"picture":\[' && return 0
    n=$((n + 1)); sleep 0.5
  done
  return 1
}
# waits up to $1 s for a main process other than $2 that systemd calls active: with
# Type=notify that is after its READY=1, which breedcam sends after its first screen
ready_new() {
  n=0
  while [ $n -lt $(($1 * 2)) ]; do
    p=$(pid)
    [ "$p" != 0 ] && [ "$p" != "$2" ] && [ "$(systemctl is-active breedcam)" = active ] && return 0
    n=$((n + 1)); sleep 0.5
  done
  return 1
}
# To show the checks can fail (run.sh with BREAK=...): a drop-in that breaks the unit, and
# STOP_AFTER=x powers off after scenario x.
stop_after() {
  [ "${STOP_AFTER:-}" = "$1" ] || return 0
  journalctl -b -u breedcam --no-pager > $O/journal-1.txt 2>&1
  cp $VIEWS $O/views-1.jsonl 2>/dev/null
  echo "@@DONE"; sync; systemctl poweroff; exit 0
}
state() { systemctl show -p ActiveState,SubState,MainPID,NRestarts,Result breedcam | tr '\n' ' '; echo; }
fb_quiet() {
  for v in /sys/class/vtconsole/vtcon*; do
    grep -q "frame buffer" $v/name 2>/dev/null && echo 0 > $v/bind
  done
}

systemctl is-system-running --wait > /dev/null
mark up
fb_quiet
PHASE=$(cat $H/phase 2>/dev/null || echo install)

if [ "$PHASE" = install ]; then
  # the camera module loads at boot, as a Pi's camera driver does
  echo "options vivid n_devs=1 node_types=0x1 input_types=0x0" > /etc/modprobe.d/vivid.conf
  echo vivid > /etc/modules-load.d/vivid.conf
  modprobe vivid
  n=0; while [ ! -e /dev/video0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
  $H/vivctl /dev/video0 fps 5 >/dev/null
  # offline install: every dependency is in the root file system already
  apt-get install -y $H/breedcam.deb > $O/install.log 2>&1
  echo "rc=$?" >> $O/install.log
  cp /lib/systemd/system/breedcam.service $O/installed.service
  systemd-analyze security breedcam > $O/security.txt 2>&1
  # lite0 without the locate stage: the guests test the package, the sandbox and systemd; the
  # segmenter (tested in the suite) would only slow a TCG guest's screens.
  cat > /etc/breedcam/breedcam.toml <<CONF
model = "lite0"
locate = "off"
camera = "/dev/video0"
display = "fb:/dev/fb0"
views = "$VIEWS"
threads = 1
CONF
  if [ -n "${BREAK:-}" ]; then
    mkdir -p /etc/systemd/system/breedcam.service.d
    case $BREAK in
      restart) printf '[Service]\nRestart=no\n' ;;
      watchdog) printf '[Service]\nWatchdogSec=0\n' ;;
      # every device class but the camera's
      deviceallow) printf '[Service]\nDeviceAllow=\nDeviceAllow=char-media rw\nDeviceAllow=char-dma_heap rw\nDeviceAllow=char-fb rw\nDeviceAllow=char-drm rw\n' ;;
    esac > /etc/systemd/system/breedcam.service.d/break.conf
    systemctl daemon-reload
  fi
  # a. the service on its own, under the hardened unit
  mark a-start
  systemctl enable --now breedcam > $O/a-enable.log 2>&1
  ready_new $WAIT_S 0 && picture_after $WAIT_S 0 && mark a-screens
  shot a
  state > $O/a-state.txt
  stop_after a
  # b. killed: systemd restarts it, screens come back
  P0=$(pid); L=$(lines)
  mark b-kill
  systemctl kill -s KILL breedcam
  ready_new $WAIT_S "$P0" && L=$(lines) && picture_after $WAIT_S "$L" && mark b-back
  shot b
  echo "before $P0 after $(pid)" > $O/b-pids.txt; state >> $O/b-pids.txt
  stop_after b
  # c. stopped (hung): the watchdog restarts it
  # (the watchdog runs once the service is active, i.e. ready: b waited for that)
  P0=$(pid)
  mark c-stop
  kill -STOP "$P0"
  n=0; while [ "$(pid)" = "$P0" ] && [ $n -lt $((WATCH_S * 2)) ]; do sleep 0.5; n=$((n+1)); done
  mark c-restarted
  ready_new $WAIT_S "$P0" && L=$(lines) && picture_after $WAIT_S "$L" && mark c-back
  shot c
  echo "before $P0 after $(pid)" > $O/c-pids.txt; state >> $O/c-pids.txt
  stop_after c
  # d. the camera unplugged as a USB camera is (the driver lets go of the device: its node
  # disappears, the open file fails), its module unloaded and loaded again: "camera lost",
  # then frames, the same process. The unload succeeds only once the kiosk has closed the
  # device. (vivid's "Disconnect" control is no unplug: the device comes back at the kiosk's
  # own close, and its reopen then holds the module.)
  P0=$(pid); L=$(lines)
  mark d-disconnect
  for d in /sys/bus/platform/drivers/vivid/vivid.*; do echo "${d##*/}" > /sys/bus/platform/drivers/vivid/unbind; done
  n=0; while ! tail -n +$((L + 1)) $VIEWS | grep -q 'camera lost' && [ $n -lt 240 ]; do sleep 0.5; n=$((n+1)); done
  mark d-lost
  shot d-lost
  n=0; while lsmod | grep -q '^vivid ' && [ $n -lt 60 ]; do rmmod vivid 2>/dev/null || sleep 0.5; n=$((n+1)); done
  lsmod | grep -q '^vivid ' || mark d-unloaded
  modprobe vivid
  n=0; while [ ! -e /dev/video0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
  $H/vivctl /dev/video0 fps 5 >/dev/null
  mark d-reloaded
  L2=$(lines)
  picture_after $WAIT_S "$L2" && mark d-back
  shot d-back
  echo "before $P0 after $(pid) lines $L" > $O/d-pids.txt; state >> $O/d-pids.txt
  cp $VIEWS $O/views-1.jsonl
  journalctl -b -u breedcam --no-pager > $O/journal-1.txt 2>&1
  echo reboot > $H/phase
  mark reboot
  systemctl reboot
  exit 0
fi

if [ "$PHASE" = reboot ]; then
  # e. after the reboot: nobody logs in; the kiosk is on screen by itself
  ready_new $WAIT_S 0 && L=$(lines) && picture_after $WAIT_S "$L" && mark e-screens
  shot e
  state > $O/e-state.txt
  cp $VIEWS $O/views-2.jsonl
  # f. the stand-in rpicam-vid on PATH and source = "rpicam"
  install -m 755 $H/rpicam-vid /usr/local/bin/rpicam-vid
  mkdir -p /usr/local/share/rpicam-standin
  cp $H/frame-* /usr/local/share/rpicam-standin/
  sed -i 's|^camera = .*|source = "rpicam"\ncamera_size = "320x240"\nrpicam_args = ["--hflip"]|' /etc/breedcam/breedcam.toml
  cp /etc/breedcam/breedcam.toml $O/f-config.toml
  P0=$(pid)
  mark f-start
  systemctl restart breedcam
  ready_new $WAIT_S "$P0" && L=$(lines) && picture_after $WAIT_S "$L" && mark f-screens
  shot f
  state > $O/f-state.txt
  cp $VIEWS $O/views-3.jsonl
  journalctl -b -u breedcam --no-pager > $O/journal-2.txt 2>&1
  breedcam cameras > $O/f-cameras.txt 2>&1; echo "rc=$?" >> $O/f-cameras.txt
  # g. purge: no user, file or unit left
  mark g-purge
  apt-get purge -y breedcam > $O/purge.log 2>&1; echo "rc=$?" >> $O/purge.log
  {
    for p in /usr/bin/breedcam /etc/breedcam /lib/systemd/system/breedcam.service \
             /usr/lib/systemd/system/breedcam.service /var/lib/breedcam \
             /etc/systemd/system/multi-user.target.wants/breedcam.service \
             /var/lib/systemd/deb-systemd-helper-enabled/breedcam.service /usr/share/doc/breedcam; do
      [ -e "$p" ] && echo "left: $p"
    done
    getent passwd breedcam && echo "left: user breedcam"
    getent group breedcam && echo "left: group breedcam"
    dpkg -s breedcam 2>/dev/null | grep -q '^Status' && echo "left: dpkg status $(dpkg -s breedcam | grep ^Status)"
    systemctl list-unit-files breedcam.service --no-legend | grep -q breedcam && echo "left: unit known to systemd"
    echo "checked"
  } > $O/g-left.txt 2>&1
  mark done
  echo done > $H/phase
  echo "@@DONE"
  sync
  systemctl poweroff
fi
