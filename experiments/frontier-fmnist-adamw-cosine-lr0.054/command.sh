#!/bin/sh
# The frontier chapter, schedule-free AdamW's baseline, a tuned warmup + cosine to 0 with AdamW
# (beta1 0.9, decoupled weight decay 0.05): chapter 10's grid of peaks stopped at its top, 0.002
# (experiments/shootout-fmnist-adamw-lr0.002), so it goes on to 0.006, 0.018 and 0.054 (this folder: 0.054). LeNet on real
# Fashion-MNIST, batch 256, 10 epochs on the 55 000 training images left after holding out 5 000 for
# validation (the 10 000 test images once at the end). 3 seeds, trained seed by
# seed. Run from the repository root; run again to resume. Extra arguments are passed on.
set -e
for seeds in 1 2 3; do
    python -m lrcourse sweep --data fashion-mnist --data-root data --model lenet --optimizer adamw \
        --lr 0.054 --momentum 0.9 --batch-size 256 --epochs 10 --val-size 5000 \
        --recipes warmup_cosine --seeds "$seeds" --threads 1 --out experiments/frontier-fmnist-adamw-cosine-lr0.054 "$@"
done
