#!/bin/sh
# Chapter 10, each recipe's own peak: the shoot-out of ../shootout-fmnist-sgd at the peak rate 0.078
# instead of the range test's 0.026 (a grid of a third, once and three times the suggestion),
# the same recipes, optimizer, net, data and 10 epochs, 2 seeds. Each recipe's peak is chosen on
# the validation split over this grid; the chosen peaks are then compared over 5 seeds. Run from
# the repository root; run again to resume. Extra arguments are passed on.
set -e
for seeds in 1 2; do
    python -m lrcourse sweep --data fashion-mnist --data-root data --model lenet --optimizer sgd \
        --lr 0.078 --momentum 0.9 --batch-size 256 --epochs 10 --val-size 5000 \
        --recipes all --seeds "$seeds" --threads 1 --out experiments/shootout-fmnist-sgd-lr0.078 "$@"
done
