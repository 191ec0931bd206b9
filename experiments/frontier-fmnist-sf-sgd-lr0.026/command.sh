#!/bin/sh
# The frontier chapter, schedule-free SGD (Defazio et al. 2024; the schedulefree package): the grid of
# peaks it is tuned on (0.026, 0.078, 0.23, 0.7, 2.1, 6.3; this folder: 0.026), momentum 0.9, weight decay 5e-4, a warmup
# over 10 % of the run inside the optimizer and no schedule (recipe constant). LeNet on real
# Fashion-MNIST, batch 256, 10 epochs on the 55 000 training images left after holding out 5 000 for
# validation (the 10 000 test images once at the end, at the averaged point). 3 seeds, trained seed by
# seed. Run from the repository root; run again to resume. Extra arguments are passed on.
set -e
for seeds in 1 2 3; do
    python -m lrcourse sweep --data fashion-mnist --data-root data --model lenet --optimizer sgd_schedulefree \
        --lr 0.026 --momentum 0.9 --batch-size 256 --epochs 10 --val-size 5000 \
        --recipes constant --seeds "$seeds" --threads 1 --out experiments/frontier-fmnist-sf-sgd-lr0.026 "$@"
done
