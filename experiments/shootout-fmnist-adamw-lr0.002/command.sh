#!/bin/sh
# Chapter 10, each recipe's own peak: the shoot-out of ../shootout-fmnist-adamw at the peak rate 0.002
# instead of the range test's 0.00068 (a grid of a third, once and three times the suggestion),
# the same recipes, optimizer, net, data and 10 epochs. Seed 0 of every recipe chooses each recipe's
# peak on the validation split over this grid; the recipes that chose this peak then train
# seeds 1 to 4 here (the loop below lists them:
# every recipe whose seed 0 had its best validation accuracy here). Run from
# the repository root; run again to resume. Extra arguments are passed on.
set -e
python -m lrcourse sweep --data fashion-mnist --data-root data --model lenet --optimizer adamw \
    --lr 0.002 --momentum 0.9 --batch-size 256 --epochs 10 --val-size 5000 \
    --recipes all --seeds 1 --threads 1 --out experiments/shootout-fmnist-adamw-lr0.002 "$@"
for seeds in 2 3 4 5; do
    python -m lrcourse sweep --data fashion-mnist --data-root data --model lenet --optimizer adamw \
        --lr 0.002 --momentum 0.9 --batch-size 256 --epochs 10 --val-size 5000 \
        --recipes all --seeds "$seeds" --threads 1 --out experiments/shootout-fmnist-adamw-lr0.002 "$@"
done
