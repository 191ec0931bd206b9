#!/bin/sh
# Chapter 10, the schedule shoot-out with AdamW (betas 0.9/0.999, decoupled weight decay 0.05),
# cpu size: the same data, net, batch and budget as ../shootout-sgd. Peak LR 0.024: the median
# over 3 seeds of the range test's `valley` suggestion for AdamW in chapter 10. Run from the
# repository root; run again to resume. Extra arguments are passed on (e.g. --progress).
exec python -m lrcourse sweep --out experiments/shootout-adamw --data synthetic --data-root data \
    --model small --optimizer adamw --lr 0.024 --momentum 0.9 --weight-decay 0.05 \
    --batch-size 64 --epochs 4 --train-size 10000 --val-size 5000 \
    --recipes all --seeds 5 --threads 1 "$@"
