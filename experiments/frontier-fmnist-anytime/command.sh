#!/bin/sh
# The frontier chapter, the anytime property: per seed, one run at the peak for 15 epochs (after a warmup
# over 10 % of them) with a snapshot where each budget's cooldown starts, and a linear cooldown over the
# last 20 % of 5, 10 and 15 epochs branched from it (python -m lrcourse anytime). LeNet on real
# Fashion-MNIST, batch 256, on the 55 000 training images left after holding out 5 000 for validation
# (the 10 000 test images once at the end of every branch); SGD with Nesterov momentum 0.9 and weight
# decay 5e-4 at a peak of 0.078, the peak chapter 10 tuned on validation for WSD. 3 seeds, trained seed
# by seed. Run from the repository root; run again to resume. Extra arguments are passed on.
set -e
for seeds in 1 2 3; do
    python -m lrcourse anytime --data fashion-mnist --data-root data --model lenet --optimizer sgd \
        --lr 0.078 --momentum 0.9 --batch-size 256 --val-size 5000 \
        --budgets 5,10,15 --decay-fraction 0.2 --decay-shape linear --warmup-fraction 0.1 \
        --seeds "$seeds" --threads 1 --out experiments/frontier-fmnist-anytime "$@"
done
