#!/bin/sh
# The frontier chapter, the rate and the batch size, AdamW (Malladi et al. 2022's square-root rule):
# each batch size's grid is 1/4, 1/2, 1, 2 and 4 times the square-root rule's rate,
# 0.002 x sqrt(batch / 256) (this folder: batch 512, rate 0.0905: 32 times the rule's rate; 16 times was still best at this batch size
# at every batch size on seed 0); beta1 0.9, decoupled weight decay 0.05,
# warmup over 10 %.
# Recipe warmup_cosine (linear warmup over the given fraction of the run, then half cosine to 0).
# LeNet on real Fashion-MNIST, 5 epochs on the 55 000 training images left after holding out 5 000 for
# validation (the 10 000 test images once at the end). 2 seeds, trained seed by seed. Run from the
# repository root; run again to resume. Extra arguments are passed on.
set -e
for seeds in 1 2; do
    python -m lrcourse sweep --data fashion-mnist --data-root data --model lenet --optimizer adamw \
        --lr 0.0905 --momentum 0.9 --batch-size 512 --epochs 5 --val-size 5000 \
        --recipes warmup_cosine --warmup-fraction 0.1 --seeds "$seeds" --threads 1 --out experiments/frontier-fmnist-e5-b512-adamw-w0.1-lr0.0905 "$@"
done
