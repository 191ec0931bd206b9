#!/bin/sh
# The frontier chapter, what warmup buys (Kalra & Barkeshli 2024): the largest peak that trains, for
# warmup over 0, 2, 10 and 30 % of the run and peaks 0.04 x 2^k up to 2.56 (from 0.02 without warmup) (this folder: warmup 0.02,
# peak 1.28); batch 256, SGD with Nesterov momentum 0.9 and weight decay 5e-4.
# Recipe warmup_cosine (linear warmup over the given fraction of the run, then half cosine to 0).
# LeNet on real Fashion-MNIST, 5 epochs on the 55 000 training images left after holding out 5 000 for
# validation (the 10 000 test images once at the end). 2 seeds, trained seed by seed. Run from the
# repository root; run again to resume. Extra arguments are passed on.
set -e
for seeds in 1 2; do
    python -m lrcourse sweep --data fashion-mnist --data-root data --model lenet --optimizer sgd \
        --lr 1.28 --momentum 0.9 --batch-size 256 --epochs 5 --val-size 5000 \
        --recipes warmup_cosine --warmup-fraction 0.02 --seeds "$seeds" --threads 1 --out experiments/frontier-fmnist-e5-b256-sgd-w0.02-lr1.28 "$@"
done
