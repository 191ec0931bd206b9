#!/bin/sh
# Chapter 9, the seed's own optimizer at the cpu size (it barely leaves chance here; the chapter's
# comparison is ../seed-drop): the seed's optimizer
# (plain SGD, no momentum, LR 0.1, weight decay 1e-4, batch 256) on the small net and 10 000
# images of the synthetic CIFAR-10 stand-in (5 000 held out for validation, the 10 000 test images
# for the final number), 12 epochs (480 steps): no drop (constant), x0.1 after epoch 8 of 12 (the
# seed's epoch 20 of 30; MultiStepLR, which equals a drop by hand with set_lr), and warmup + cosine.
# 3 seeds each. Run from the repository root; run again to resume.
exec python -m lrcourse sweep --out experiments/seed-drop-plain --data synthetic --data-root data \
    --model small --optimizer sgd --lr 0.1 --momentum 0 --weight-decay 1e-4 \
    --batch-size 256 --epochs 12 --train-size 10000 --val-size 5000 \
    --recipes constant,step,warmup_cosine --seeds 3 --threads 1 "$@"
