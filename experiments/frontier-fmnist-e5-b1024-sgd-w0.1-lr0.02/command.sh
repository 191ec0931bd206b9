#!/bin/sh
# The frontier chapter, the rate and the batch size, SGD (Goyal et al. 2017's linear rule):
# each batch size's grid is 1/4, 1/2, 1, 2 and 4 times the linear rule's rate, 0.08 x batch / 256
# (this folder: batch 1024, rate 0.02: below the grid, whose bottom, 0.08, was best on seed 0); Nesterov momentum 0.9, weight decay 5e-4, warmup over 10 %.
# Recipe warmup_cosine (linear warmup over the given fraction of the run, then half cosine to 0).
# LeNet on real Fashion-MNIST, 5 epochs on the 55 000 training images left after holding out 5 000 for
# validation (the 10 000 test images once at the end). 2 seeds, trained seed by seed. Run from the
# repository root; run again to resume. Extra arguments are passed on.
set -e
for seeds in 1 2; do
    python -m lrcourse sweep --data fashion-mnist --data-root data --model lenet --optimizer sgd \
        --lr 0.02 --momentum 0.9 --batch-size 1024 --epochs 5 --val-size 5000 \
        --recipes warmup_cosine --warmup-fraction 0.1 --seeds "$seeds" --threads 1 --out experiments/frontier-fmnist-e5-b1024-sgd-w0.1-lr0.02 "$@"
done
