#!/usr/bin/env bash
# Rebuilds every pretrained pair in assets/pairs/ with the command line, from the repository root:
#   bash assets/build.sh
# Each pair: the preset as it is (EnergyLab's method unless the preset says otherwise), then, where
# the lesson needs it, the same with entropy weight 0; the paper's setting beside the ring and grid.
set -euo pipefail
cd "$(dirname "$0")/.."
train() { python -m explorer.train --quiet --seed 0 "$@"; }
POINTS=assets/data/breast-cancer-radius-texture.csv

train --preset ring                        --out assets/pairs/ring
train --preset ring   --entropy-weight 0   --out assets/pairs/ring-no-entropy
train --preset paper                       --out assets/pairs/ring-paper
train --preset grid                        --out assets/pairs/grid
train --preset paper  --dataset grid --steps 30000 --out assets/pairs/grid-paper
train --preset lesson                      --out assets/pairs/lesson
train --preset lesson --entropy-weight 0   --out assets/pairs/lesson-no-entropy
train --preset ring-langevin               --out assets/pairs/ring-langevin
train --preset points --points "$POINTS"   --out assets/pairs/points
train --preset points --points "$POINTS" --entropy-weight 0 --out assets/pairs/points-no-entropy
train --preset digits                      --out assets/pairs/digits
train --preset digits --entropy-weight 0   --out assets/pairs/digits-no-entropy
train --preset digits-lesson                      --out assets/pairs/digits-lesson
train --preset digits-lesson --entropy-weight 0   --out assets/pairs/digits-lesson-no-entropy
