#!/bin/sh
# Chapter 10, the shoot-out on real Fashion-MNIST, cpu size, at half the budget (the check that the ranking has settled): the nine
# recipes with AdamW (betas 0.9, 0.999, decoupled weight decay 0.05) at the peak rate the
# chapter's range test chose (0.00068: the median over 3 seeds of the valley suggestion, two digits),
# LeNet, batch 256, 5 epochs on the 55 000 training images left after holding out 5 000 for
# validation, the 10 000 test images once at the end. 5 seeds, trained seed by seed (every recipe's
# seed 0, then seed 1, ...) so that a sweep stopped early leaves every recipe with the same seeds.
# Run from the repository root; run again to resume. Extra arguments are passed on.
set -e
for seeds in 1 2 3 4 5; do
    python -m lrcourse sweep --data fashion-mnist --data-root data --model lenet --optimizer adamw \
        --lr 0.00068 --momentum 0.9 --batch-size 256 --epochs 5 --val-size 5000 \
        --recipes all --seeds "$seeds" --threads 1 --out experiments/shootout-fmnist-adamw-half "$@"
done
