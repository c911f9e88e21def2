"""In-place parameter initialisation, as PaddleVideo's ``weight_init_`` does it.

The initialisers draw from Paddle's global generator, so the order of calls decides the values:
callers keep PaddleVideo's order (layer construction first, then init in ``sublayers()`` order).
"""
import paddle.nn.initializer as init


def weight_init_(layer, func: str, weight_name=None, bias_name=None, bias_value=0.0, **kwargs):
    """Initialise ``layer.weight`` with ``paddle.nn.initializer.<func>(**kwargs)`` and its bias with a constant.

    ``weight_name`` / ``bias_name`` rename the parameters (they name ``.pdopt`` accumulator keys such as
    ``fc_0.w_0_velocity_0``). Layers without a weight or bias are left alone for that part.
    """
    weight = getattr(layer, "weight", None)
    if weight is not None:
        getattr(init, func)(**kwargs)(weight)
        if weight_name is not None:
            weight.name = weight_name
    bias = getattr(layer, "bias", None)
    if bias is not None:
        init.Constant(bias_value)(bias)
        if bias_name is not None:
            bias.name = bias_name
