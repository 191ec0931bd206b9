#!/bin/sh
# The frontier chapter, schedule-free SGD's baseline, a tuned warmup + cosine to 0: chapter 10's grid
# of peaks (0.0087, 0.026, 0.078) chose its top, 0.078, for this recipe (experiments/frontier-fmnist-floor0
# holds it), so the grid goes on to 0.23 and 0.7 (this folder: 0.7). LeNet on real Fashion-MNIST, batch 256, 10 epochs
# on the 55 000 training images left after holding out 5 000 for validation (the 10 000 test images
# once at the end); SGD with Nesterov momentum 0.9 and weight decay 5e-4. 3 seeds, trained seed by
# seed. Run from the repository root; run again to resume. Extra arguments are passed on.
set -e
for seeds in 1 2 3; do
    python -m lrcourse sweep --data fashion-mnist --data-root data --model lenet --optimizer sgd \
        --lr 0.7 --momentum 0.9 --batch-size 256 --epochs 10 --val-size 5000 \
        --recipes warmup_cosine --seeds "$seeds" --threads 1 --out experiments/frontier-fmnist-cosine-lr0.7 "$@"
done
