#!/bin/sh
# Chapter 10, the schedule shoot-out with SGD (Nesterov momentum 0.9, weight decay 5e-4), cpu size:
# the small net on 10 000 images of the synthetic CIFAR-10 stand-in (5 000 held out for
# validation, the 10 000 test images for the final number), batch 64, 4 epochs (628 steps),
# nine recipes x 5 seeds. Peak LR 0.41: the median over 3 seeds of the range test's `valley`
# suggestion in chapter 10 (the setup of chapter 7). Run from the repository root; run again to
# resume. Extra arguments are passed on (e.g. --progress).
exec python -m lrcourse sweep --out experiments/shootout-sgd --data synthetic --data-root data \
    --model small --optimizer sgd --lr 0.41 --momentum 0.9 --weight-decay 5e-4 \
    --batch-size 64 --epochs 4 --train-size 10000 --val-size 5000 \
    --recipes all --seeds 5 --threads 1 "$@"
