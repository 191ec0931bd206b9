#!/bin/sh
# The frontier chapter, the anytime property's baseline: warmup + cosine to 0 as a separate run for a
# budget of 5 epochs (the 10-epoch budget is experiments/frontier-fmnist-floor0). LeNet on real
# Fashion-MNIST, batch 256, on the 55 000 training images left after holding out 5 000 for validation
# (the 10 000 test images once at the end); SGD with Nesterov momentum 0.9 and weight decay 5e-4 at a
# peak of 0.078. 3 seeds, trained seed by seed. Run from the repository root; run again to resume.
# Extra arguments are passed on.
set -e
for seeds in 1 2 3; do
    python -m lrcourse sweep --data fashion-mnist --data-root data --model lenet --optimizer sgd \
        --lr 0.078 --momentum 0.9 --batch-size 256 --epochs 5 --val-size 5000 \
        --recipes warmup_cosine --seeds "$seeds" --threads 1 --out experiments/frontier-fmnist-cosine-e5 "$@"
done
