#!/usr/bin/env python3
"""Boots the test guest and records what it says and shows (used by tests/vm/run.sh).

boot.py RESULTS_DIR TIMEOUT_S -- QEMU_COMMAND...

Starts qemu with its serial console in RESULTS_DIR/serial.log and a QMP socket, watches the
console for the markers of tests/vm/init.sh (@@SHOT name: a screendump to name.ppm now;
@@FILE name ... @@END: a file; @@T name seconds: a time mark, copied with the host's seconds
since qemu started to RESULTS_DIR/host-times.txt), and stops when the guest powers off,
prints @@DONE, or the timeout passes. It kills only the qemu it started. Exit 0 when the
guest finished, 1 if not.
"""
import json
import os
import socket
import subprocess
import sys
import time


def qmp_connect(path, deadline):
    while time.time() < deadline:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            f = s.makefile("rw")
            json.loads(f.readline())  # greeting
            f.write(json.dumps({"execute": "qmp_capabilities"}) + "\n")
            f.flush()
            json.loads(f.readline())
            return s, f
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("no QMP socket")


def qmp(f, cmd, **args):
    f.write(json.dumps({"execute": cmd, "arguments": args}) + "\n")
    f.flush()
    while True:
        reply = json.loads(f.readline())
        if "return" in reply or "error" in reply:
            return reply


def follow(serial, res, f, st):
    """Handles the console lines written since the last call."""
    with open(serial, "rb") as s:
        s.seek(st["pos"])
        chunk = s.read()
    st["pos"] += len(chunk)
    st["buf"] += chunk.decode("utf-8", "replace")
    *lines, st["buf"] = st["buf"].split("\n")
    for line in lines:
        line = line.rstrip("\r")
        if st["current"] is not None:
            if line == "@@END":
                with open(os.path.join(res, st["current"]), "w") as out:
                    out.write("\n".join(st["body"]) + ("\n" if st["body"] else ""))
                st["current"], st["body"] = None, []
            else:
                st["body"].append(line)
        elif line.startswith("@@SHOT "):
            # @@SHOT name [qdev id of the display, for a second screen]
            name, *device = line.split()[1:]
            path = os.path.abspath(os.path.join(res, name + ".ppm"))
            args = {"device": device[0]} if device else {}
            try:
                reply = qmp(f, "screendump", filename=path, **args)
            except (OSError, ValueError) as e:
                reply = {"error": str(e)}
            if "error" in reply:
                print(f"vm: screendump {name}: {reply['error']}", file=sys.stderr)
        elif line.startswith("@@FILE "):
            st["current"] = line.split(maxsplit=1)[1]
        elif line == "@@DONE":
            st["done"] = True
        if line.startswith("@@T "):
            # the guest's time mark, with the host's seconds since qemu started (the guest's
            # uptime restarts at a reboot, and the shutdown before it is in neither boot's)
            st["times"].append(f"{time.time() - st['started']:.1f} {line}")


def main():
    res, timeout = sys.argv[1], float(sys.argv[2])
    qemu = sys.argv[sys.argv.index("--") + 1:]
    os.makedirs(res, exist_ok=True)
    serial = os.path.join(res, "serial.log")
    sock = os.path.join(res, "qmp.sock")
    for p in (serial, sock):
        if os.path.exists(p):
            os.remove(p)
    cmd = qemu + ["-serial", f"file:{serial}", "-qmp", f"unix:{sock},server=on,wait=off"]
    with open(os.path.join(res, "qemu.cmd"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    started = time.time()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=open(os.path.join(res, "qemu.out"), "w"),
                            stderr=subprocess.STDOUT)
    done = False
    state = {"pos": 0, "buf": "", "current": None, "body": [], "done": False,
             "started": started, "times": []}
    try:
        _, f = qmp_connect(sock, started + 30)
        while time.time() - started < timeout and proc.poll() is None and not state["done"]:
            follow(serial, res, f, state)
            time.sleep(0.2)
        follow(serial, res, f, state)  # what the guest wrote just before powering off
        done = state["done"]
        if not done and proc.poll() is None:
            print(f"vm: guest did not finish in {timeout:.0f} s", file=sys.stderr)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    with open(os.path.join(res, "wall.txt"), "w") as f:
        f.write(f"{time.time() - started:.1f}\n")
    with open(os.path.join(res, "host-times.txt"), "w") as f:
        f.write("".join(t + "\n" for t in state["times"]))
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
