#!/bin/sh
# Chapter 9, the seed article's plan on real Fashion-MNIST, cpu size: SGD with Nesterov momentum 0.9 at the peak rate chapter 10's range test chose on this setup (0.026),
# the seed's weight decay 1e-4 and batch 256, 30 epochs, LeNet, on the 55 000 training images left
# after holding out 5 000 for validation (the 10 000 test images once at the end). Three schedules:
# no drop (constant), x0.1 after epoch 20 of 30 (the seed's drop; MultiStepLR, which equals the drop
# by hand with set_lr) and warmup + cosine. 3 seeds, trained seed by seed. Run from the repository
# root; run again to resume. Extra arguments are passed on (e.g. --progress).
set -e
for seeds in 1 2 3; do
    python -m lrcourse sweep --data fashion-mnist --data-root data --model lenet --optimizer sgd \
        --lr 0.026 --momentum 0.9 --weight-decay 1e-4 --batch-size 256 --epochs 30 --val-size 5000 \
        --recipes constant,step,warmup_cosine --seeds "$seeds" --threads 1 --out experiments/seed-drop-fmnist-momentum "$@"
done
