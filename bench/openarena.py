# SPDX-License-Identifier: GPL-2.0-only
"""OpenArena in the bench (bench/run --mode gpu): the game's timedemo
demo088-test1 natively in dom0 on the virgl virtio-gpu and in guest1 on the
same card forwarded through Paradice, through SDL2's KMS/DRM video driver
(no X), with desktop GL through Mesa's virgl driver.

The appliance's images get the engine from tests/vm/profiles/game.txt and
the data from a layer made here: of the 446 MiB of Debian's OpenArena
data, only the files the timedemo reads (bench/openarena-files.txt), packed
into pk3s of the same names, so that the engine finds everything where it
would (the native game modules are found next to the pk3 that holds their
qvm).

A fixed number of frames: the demo is played with `timedemo 1` (every
frame advances the demo by one frame, as fast as it renders) and the
engine quits after about FRAMES frames (`wait 2*FRAMES`: the command
buffer runs twice a frame); `com_speeds 1` prints each frame's time, and
the frame rate is taken over the frames after SKIP (the first one loads
the map's images, 2.7 s in dom0). The whole demo is 3398 frames: 98 s
natively on the build machine's llvmpipe at 320x240, some 20 minutes in
the emulated machine at 1920x1080.
"""

import hashlib
import os
import re
import shutil
import statistics
import zipfile

from pdvm import image
from pdvm.machine import CACHE, VmError

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = "/usr/lib/openarena/baseoa"
FILES = os.path.join(HERE, "openarena-files.txt")
FRAMES = 150
SKIP = 10
DEMO = "demo088-test1"
# Debian's /usr/games/openarena wrapper's settings, then the bench's: no
# sound card, the fixed-function renderer, the display's own resolution
# (r_mode -2: the connector's one 1920x1080 mode), a hunk large enough for
# this demo's players.
ENGINE = ("/usr/lib/ioquake3/ioquake3 +set com_basegame baseoa "
          "+set fs_basepath /usr/lib/openarena +set com_homepath .openarena "
          "+set com_legacyprotocol 71 +set com_protocol 71 +set cl_motd 0 "
          "+set s_initsound 0 +set cl_renderer opengl1 +set r_mode -2 "
          "+set r_fullscreen 1 +set com_hunkmegs 256 +set in_nograb 1")


def data_layer(log=print):
    """Path of the cpio layer with the timedemo's data, built once into
    build/vm/cache from Debian's installed pk3s."""
    want = {}
    with open(FILES) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                pk3, name = line.split(None, 1)
                want.setdefault(pk3, set()).add(name.strip().lower())
    key = hashlib.sha256(repr(sorted((k, sorted(v)) for k, v in
                                     want.items())).encode()).hexdigest()[:12]
    srcs = [os.path.join(DATA, p) for p in sorted(want)]
    for p in srcs:
        if not os.path.exists(p):
            raise VmError("%s is missing: install Debian's openarena and "
                          "openarena-oacmp1 (scripts/install-deps)" % p)
    key += "-%d" % max(os.path.getmtime(p) for p in srcs + [FILES])
    out = os.path.join(CACHE, "game-data-%s.cpio" % key)
    if os.path.exists(out):
        return out
    log("openarena: packing the timedemo's data")
    tmp = os.path.join(CACHE, "game-data.tmp")
    os.makedirs(tmp, exist_ok=True)
    c = image.Cpio()
    for pk3 in sorted(want):
        dest = os.path.join(tmp, pk3)
        with zipfile.ZipFile(os.path.join(DATA, pk3)) as zin, \
                zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as zout:
            for info in zin.infolist():
                if info.filename.lower() in want[pk3]:
                    zout.writestr(info, zin.read(info))
        c.file(DATA.strip("/") + "/" + pk3, dest)
    c.write(out)
    shutil.rmtree(tmp)
    for n in os.listdir(CACHE):
        if n.startswith("game-data-") and n != os.path.basename(out):
            os.unlink(os.path.join(CACHE, n))
    return out


def timedemo(b, vm, env, frames=FRAMES):
    """Run the demo for frames frames in vm; returns (fps, frame times in
    ms after SKIP, the game's log)."""
    out = b.sh("cd /tmp && rm -rf .openarena && HOME=/tmp %s %s "
               "+set com_speeds 1 +set timedemo 1 +demo %s +wait %d +quit "
               "</dev/null 2>&1 | grep -av '^GL_EXTENSIONS'; true" % (
                   env, ENGINE, DEMO, 2 * frames), timeout=3000, vm=vm)
    times = [int(m.group(1)) for m in re.finditer(
        r"^frame:\s*\d+ all:\s*(\d+)", out, re.M)]
    if "GL_RENDERER: virgl" not in out or len(times) < frames - 5:
        raise VmError("%s: OpenArena did not play %d frames on virgl "
                      "(%d frame times):\n%s" % (vm, frames, len(times),
                                                 out[-3000:]))
    run = times[SKIP:]
    return 1000.0 * len(run) / max(1, sum(run)), run, out


def run_game(b, card_index, fcard_index, shot=None):
    """OpenArena natively in dom0 and in guest1: rows with both frame
    rates. card_index: the virtio-gpu's card number in dom0 and in guest1
    (SDL's KMS/DRM driver takes the first card with a connected connector
    otherwise, which in dom0 is bochs). shot(): called while the guest's
    game is running, to grab the screen."""
    nat, fwd = [], []
    for _ in range(b.repeat):
        fps, _, log = timedemo(b, "dom0", "SDL_VIDEODRIVER=kmsdrm "
                               "SDL_KMSDRM_DEVICE_INDEX=%d" % card_index)
        nat.append(fps)
        fps, _, log = timedemo(b, "guest1", "SDL_VIDEODRIVER=kmsdrm "
                               "SDL_KMSDRM_DEVICE_INDEX=%d" % fcard_index)
        fwd.append(fps)
    size = re.search(r"^\.\.\.setting mode -2: (\d+ \d+)", log, re.M)
    n, f = statistics.median(nat), statistics.median(fwd)
    label = "OpenArena timedemo fps (%s)" % (
        size.group(1).replace(" ", "x") if size else "?")
    b.rows.append({
        "transport": b.transport, "measure": label, "unit": "fps",
        "native": n, "forwarded": f, "spread": "%g..%g" % (min(fwd), max(fwd)),
        "ratio": f / n, "goal": (">=", 0.95), "met": f / n >= 0.95})
    print("  %-34s native %10.4g  forwarded %10.4g fps      ratio %.2f "
          "(native %g..%g)" % (label, n, f, f / n, min(nat), max(nat)),
          flush=True)
    return b.rows
