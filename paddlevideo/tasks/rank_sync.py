"""After a distributed run: do all ranks hold bitwise identical trainable parameters?"""
import hashlib
import logging

import numpy as np
import paddle

logger = logging.getLogger(__name__)


def parameter_digest(model) -> str:
    """SHA-256 of every trainable parameter's bytes (equal digests = identical weights).

    BatchNorm running statistics are left out: each rank keeps its own (PaddleVideo uses plain
    BatchNorm under DataParallel too); the checkpoints hold rank 0's.
    """
    digest = hashlib.sha256()
    for name, param in model.named_parameters():
        if param.stop_gradient:
            continue
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(param.numpy()).tobytes())
    return digest.hexdigest()


def check_ranks_in_sync(model, world_size):
    """Log whether every rank ends with bitwise identical parameters (DataParallel keeps them so)."""
    import paddle.distributed as dist
    digest = parameter_digest(model)
    mine = paddle.to_tensor(np.frombuffer(bytes.fromhex(digest[:16]), dtype=np.int32).copy())
    gathered = []
    dist.all_gather(gathered, mine)
    digests = [t.numpy().tobytes().hex() for t in gathered]
    if len(set(digests)) == 1:
        logger.info(f"trainable parameters identical on all {world_size} ranks (sha256 {digests[0]}); "
                    "BatchNorm statistics are per rank, rank 0's are saved")
    else:
        logger.warning(f"trainable parameters differ between ranks: {digests}")
