"""Schedulers PaddleVideo adds to ``paddle.optimizer.lr`` (written from the formulas of its ``solver/custom_lr.py``).

All follow Paddle's ``LRScheduler`` protocol, so their state travels in ``optimizer.state_dict()["LR_Scheduler"]``
and a resumed run continues the same sequence. ``num_iters`` is the number of ``step()`` calls per epoch: the
iterations per epoch with ``iter_step: True`` (PaddleVideo's recipes), 1 when the scheduler is stepped per epoch.
"""
import math
import warnings

from paddle.optimizer.lr import LRScheduler, PiecewiseDecay


def _linear_warmup(epoch, warmup_epochs, start_lr, end_lr):
    """The learning rate ``epoch`` (fractional) into a linear ramp from ``start_lr`` to ``end_lr``."""
    return epoch * ((end_lr - start_lr) / warmup_epochs) + start_lr


class _IterationStepped(LRScheduler):
    """PaddleVideo's stepping: the first step lands on epoch 0, each later one advances ``1 / num_iters``."""

    def step(self, epoch=None):
        """Advance by one iteration (``1 / num_iters`` epoch), or jump to ``epoch``."""
        if epoch is not None:
            self.last_epoch = epoch
        elif self.last_epoch == -1:
            self.last_epoch = 0
        else:
            self.last_epoch += 1 / self.num_iters
        self.last_lr = self.get_lr()


class CustomWarmupCosineDecay(_IterationStepped):
    """Linear warm-up from ``warmup_start_lr`` for ``warmup_epochs``, then half-cosine from ``cosine_base_lr``
    to 0 at ``max_epoch``. ``last_epoch`` advances ``1 / num_iters`` per step (fractional epochs)."""

    def __init__(self, warmup_start_lr, warmup_epochs, cosine_base_lr, max_epoch, num_iters,
                 last_epoch=-1, verbose=False):
        self.warmup_start_lr = warmup_start_lr
        self.warmup_epochs = warmup_epochs
        self.cosine_base_lr = cosine_base_lr
        self.max_epoch = max_epoch
        self.num_iters = num_iters
        super().__init__(learning_rate=cosine_base_lr, last_epoch=last_epoch, verbose=verbose)

    def _cosine(self, epoch):
        return self.cosine_base_lr * (math.cos(math.pi * epoch / self.max_epoch) + 1.0) * 0.5

    def get_lr(self):
        if self.last_epoch < self.warmup_epochs:
            return _linear_warmup(self.last_epoch, self.warmup_epochs, self.warmup_start_lr,
                                  self._cosine(self.warmup_epochs))
        return self._cosine(self.last_epoch)


class CustomWarmupPiecewiseDecay(LRScheduler):
    """Linear warm-up from ``warmup_start_lr`` for ``warmup_epochs``, then ``step_base_lr * lrs[k]`` where the
    epoch lies in the k-th interval of ``steps`` (``[0, 10, 15]`` -> k = 1 on [0, 10), 2 on [10, 15), 3 after).

    As in PaddleVideo the first iteration uses ``warmup_start_lr`` at ``last_epoch = 0`` (no initial step), and
    ``gamma`` is accepted but unused.
    """

    def __init__(self, warmup_start_lr, warmup_epochs, step_base_lr, lrs, gamma, steps, max_epoch, num_iters,
                 last_epoch=0, verbose=False):
        self.warmup_start_lr = warmup_start_lr
        self.warmup_epochs = warmup_epochs
        self.step_base_lr = step_base_lr
        self.lrs = list(lrs)
        self.gamma = gamma
        self.steps = list(steps)
        self.max_epoch = max_epoch
        self.num_iters = num_iters
        # Not LRScheduler.__init__: it would take a step, and PaddleVideo's schedule starts unstepped.
        self.base_lr = float(warmup_start_lr)
        self.last_lr = float(warmup_start_lr)
        self.last_epoch = last_epoch
        self.verbose = verbose
        self._var_name = None

    def step(self, epoch=None, rebuild=False):
        """Advance by one iteration, or jump to ``epoch``; ``rebuild`` recomputes the rate without advancing."""
        if epoch is not None:
            self.last_epoch = epoch
        elif not rebuild:
            self.last_epoch += 1 / self.num_iters
        self.last_lr = self.get_lr()

    def _step_lr(self, epoch):
        bounds = self.steps + [self.max_epoch]
        for index, bound in enumerate(bounds):
            if epoch < bound:
                break
        return self.lrs[index - 1] * self.step_base_lr

    def get_lr(self):
        if self.last_epoch < self.warmup_epochs:
            return _linear_warmup(self.last_epoch, self.warmup_epochs, self.warmup_start_lr,
                                  self._step_lr(self.warmup_epochs))
        return self._step_lr(self.last_epoch)


class CustomWarmupCosineStepDecay(LRScheduler):
    """Cosine annealing from ``base_lr`` to ``min_lr`` over ``max_epoch``, evaluated at whole epochs, with a
    warm-up over the first ``warmup_iters`` epochs (``warmup_iters * num_iters`` steps) rising linearly from
    ``warmup_ratio`` of the epoch's rate.

    The state also holds the step and epoch counters (``cnt_iters``, ``cnt_epoch``): PaddleVideo saves only
    ``last_epoch``/``last_lr``, so its resumed runs restart the warm-up. A PaddleVideo checkpoint still loads
    (with a warning, and PaddleVideo's restart).
    """

    def __init__(self, warmup_iters, warmup_ratio=0.1, min_lr=0, base_lr=3e-5, max_epoch=30, last_epoch=-1,
                 num_iters=None, verbose=False):
        if num_iters is None:
            raise ValueError("CustomWarmupCosineStepDecay needs num_iters (the steps per epoch)")
        self.warmup_ratio = warmup_ratio
        self.min_lr = min_lr
        self.warmup_epochs = warmup_iters
        self.warmup_iters = warmup_iters * num_iters
        self.cnt_iters = 0
        self.cnt_epoch = 0
        self.num_iters = num_iters
        self.max_epoch = max_epoch
        self.cosine_base_lr = base_lr
        self.regular_lr = self._regular_lr()
        super().__init__(last_epoch=last_epoch, verbose=verbose)

    def _regular_lr(self):
        factor = self.cnt_epoch / self.max_epoch
        return self.min_lr + 0.5 * (self.cosine_base_lr - self.min_lr) * (math.cos(math.pi * factor) + 1)

    def step(self, epoch=None):
        """Advance by one step (``epoch`` is ignored, as in PaddleVideo)."""
        self.regular_lr = self._regular_lr()
        self.last_lr = self.get_lr()
        self.cnt_epoch = (self.cnt_iters + 1) // self.num_iters
        self.cnt_iters += 1

    def get_lr(self):
        if self.cnt_iters >= self.warmup_iters:
            return self.regular_lr
        k = (1 - self.cnt_iters / self.warmup_iters) * (1 - self.warmup_ratio)
        return self.regular_lr * (1 - k)

    def state_keys(self):
        self.keys = ["last_epoch", "last_lr", "cnt_iters", "cnt_epoch"]

    def set_state_dict(self, state_dict):
        if "cnt_iters" not in state_dict:
            warnings.warn("CustomWarmupCosineStepDecay: this optimizer state (PaddleVideo's) has no step counter; "
                          "the warm-up restarts, as it does in PaddleVideo")
            state_dict = dict(state_dict, cnt_iters=self.cnt_iters, cnt_epoch=self.cnt_epoch)
        super().set_state_dict(state_dict)


class CustomWarmupAdjustDecay(_IterationStepped):
    """Linear warm-up ``step_base_lr * (epoch + 1) / warmup_epochs`` for ``warmup_epochs``, then
    ``step_base_lr * lr_decay_rate ** (number of boundaries <= epoch)``; ``last_epoch`` advances
    ``1 / num_iters`` per step."""

    def __init__(self, step_base_lr, warmup_epochs, lr_decay_rate, boundaries, num_iters=None, last_epoch=-1,
                 verbose=False):
        self.step_base_lr = step_base_lr
        self.warmup_epochs = warmup_epochs
        self.lr_decay_rate = lr_decay_rate
        self.boundaries = list(boundaries)
        # PaddleVideo divides by None (a crash after the first epoch) when stepped per epoch without iter_step.
        self.num_iters = num_iters or 1
        super().__init__(last_epoch=last_epoch, verbose=verbose)

    def get_lr(self):
        if self.last_epoch < self.warmup_epochs:
            return self.step_base_lr * (self.last_epoch + 1) / self.warmup_epochs
        passed = sum(1 for bound in self.boundaries if self.last_epoch >= bound)
        return self.step_base_lr * self.lr_decay_rate ** passed


class CustomPiecewiseDecay(PiecewiseDecay):
    """``PiecewiseDecay`` that accepts (and ignores) ``num_iters``, so it can be used with ``iter_step``."""

    def __init__(self, boundaries, values, num_iters=None, last_epoch=-1, verbose=False):
        super().__init__(boundaries=boundaries, values=values, last_epoch=last_epoch, verbose=verbose)


CUSTOM_SCHEDULERS = {cls.__name__: cls for cls in (
    CustomWarmupCosineDecay, CustomWarmupPiecewiseDecay, CustomWarmupCosineStepDecay, CustomWarmupAdjustDecay,
    CustomPiecewiseDecay)}
