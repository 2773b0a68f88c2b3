#!/bin/sh
# Regenerates assets/fonts/DejaVuSans-Bold-latin1.ttf, the overlay's font: DejaVu Sans Bold
# from Debian's fonts-dejavu-core, reduced to printable ASCII, Latin-1 and the ellipsis
# (about 22 kB instead of 700 kB), keeping the legacy `kern` table that ab_glyph reads.
# Needs fonts-dejavu-core (apt) and fonttools (pip).
set -eu
cd "$(dirname "$0")/.."
pyftsubset /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf \
  --unicodes="U+0020-007E,U+00A0-00FF,U+2026" --no-hinting \
  --layout-features='kern' --legacy-kern --drop-tables+=FFTM,GSUB \
  --output-file=assets/fonts/DejaVuSans-Bold-latin1.ttf
