"""Schedulers PaddleVideo adds to ``paddle.optimizer.lr`` (written from their formulas).

Both follow Paddle's ``LRScheduler`` protocol, so their state (``last_epoch``, ``last_lr``)
travels in ``optimizer.state_dict()["LR_Scheduler"]`` and resumes exactly.
"""
import math

from paddle.optimizer.lr import LRScheduler, PiecewiseDecay


class CustomWarmupCosineDecay(LRScheduler):
    """Linear warmup from ``warmup_start_lr`` for ``warmup_epochs``, then half-cosine to 0 at ``max_epoch``.

    Stepped once per iteration: ``last_epoch`` advances by ``1 / num_iters`` (fractional epochs).
    """

    def __init__(self, warmup_start_lr, warmup_epochs, cosine_base_lr, max_epoch, num_iters,
                 last_epoch=-1, verbose=False):
        self.warmup_start_lr = warmup_start_lr
        self.warmup_epochs = warmup_epochs
        self.cosine_base_lr = cosine_base_lr
        self.max_epoch = max_epoch
        self.num_iters = max(1, int(num_iters))
        super().__init__(learning_rate=cosine_base_lr, last_epoch=last_epoch, verbose=verbose)

    def step(self, epoch=None):
        """Advance by one iteration (``1 / num_iters`` epoch), or jump to ``epoch``."""
        if epoch is not None:
            self.last_epoch = epoch
        elif self.last_epoch == -1:
            self.last_epoch = 0
        else:
            self.last_epoch += 1.0 / self.num_iters
        self.last_lr = self.get_lr()

    def _cosine(self, epoch):
        return self.cosine_base_lr * (math.cos(math.pi * epoch / self.max_epoch) + 1.0) * 0.5

    def get_lr(self):
        if self.last_epoch < self.warmup_epochs:
            end = self._cosine(self.warmup_epochs)
            slope = (end - self.warmup_start_lr) / self.warmup_epochs
            return self.warmup_start_lr + self.last_epoch * slope
        return self._cosine(self.last_epoch)


class CustomPiecewiseDecay(PiecewiseDecay):
    """``PiecewiseDecay`` that accepts (and ignores) ``num_iters``, so it can be used with ``iter_step``."""

    def __init__(self, boundaries, values, num_iters=None, last_epoch=-1, verbose=False):
        super().__init__(boundaries=boundaries, values=values, last_epoch=last_epoch, verbose=verbose)


CUSTOM_SCHEDULERS = {cls.__name__: cls for cls in (CustomWarmupCosineDecay, CustomPiecewiseDecay)}
