#!/bin/sh
# Chapter 9, the seed article's drop at an equal step budget, cpu size: SGD with Nesterov momentum
# 0.9 at the peak LR chapter 10's range test chose (0.41), the seed's weight decay 1e-4, on the small
# net and 10 000 images of the synthetic CIFAR-10 stand-in (5 000 held out for validation, the
# 10 000 test images for the final number), batch 64, 12 epochs (1 884 steps): no drop (constant),
# x0.1 after epoch 8 of 12 (the seed's epoch 20 of 30; MultiStepLR, which equals a drop by hand
# with set_lr), and warmup + cosine. 3 seeds each. (The seed's own optimizer, plain SGD at 0.1,
# barely leaves chance at this budget: ../seed-drop-plain.) Run from the repository root; run
# again to resume. Extra arguments are passed on (e.g. --progress).
exec python -m lrcourse sweep --out experiments/seed-drop --data synthetic --data-root data \
    --model small --optimizer sgd --lr 0.41 --momentum 0.9 --weight-decay 1e-4 \
    --batch-size 64 --epochs 12 --train-size 10000 --val-size 5000 \
    --recipes constant,step,warmup_cosine --seeds 3 --threads 1 "$@"
