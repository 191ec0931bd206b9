#!/bin/sh
# The frontier chapter, the rate and the batch size, AdamW (Malladi et al. 2022's square-root rule):
# each batch size's grid is 1/4, 1/2, 1, 2 and 4 times the square-root rule's rate,
# 0.002 x sqrt(batch / 256) (this folder: batch 64, rate 0.00025); beta1 0.9, decoupled weight decay 0.05,
# warmup over 10 %.
# Recipe warmup_cosine (linear warmup over the given fraction of the run, then half cosine to 0).
# LeNet on real Fashion-MNIST, 5 epochs on the 55 000 training images left after holding out 5 000 for
# validation (the 10 000 test images once at the end). 1 seed: this rate ended more than 2 points
# below its batch size's best on it, so far that a second seed (seeds differ by tenths) could not change the choice. Run from the
# repository root; run again to resume. Extra arguments are passed on.
set -e
for seeds in 1; do
    python -m lrcourse sweep --data fashion-mnist --data-root data --model lenet --optimizer adamw \
        --lr 0.00025 --momentum 0.9 --batch-size 64 --epochs 5 --val-size 5000 \
        --recipes warmup_cosine --warmup-fraction 0.1 --seeds "$seeds" --threads 1 --out experiments/frontier-fmnist-e5-b64-adamw-w0.1-lr0.00025 "$@"
done
