"""Before a training run touches its output folder: one run per folder, and no silent overwrite.

``claim_output_dir`` takes the folder's lock (rank 0) and refuses a folder that already holds this model's
checkpoints unless the run resumes them or was asked to overwrite them. ``resume_command`` is the command
line a stopped run prints so the user can continue it.
"""
import shlex
import sys

from ..utils.errors import UserError
from ..utils.run_lock import lock_output_dir
from .checkpoints import checkpoint_names


class OutputDirHasCheckpoints(UserError, RuntimeError):
    """A new run would overwrite checkpoints of an earlier run."""


def claim_output_dir(output_dir: str, model_name: str, resuming: bool, overwrite: bool, rank: int = 0):
    """Lock ``output_dir`` for this run (rank 0 only; returns the lock handle to keep, or None).

    Raises ``OutputDirBusy`` when another live run holds it, and ``OutputDirHasCheckpoints`` when it holds
    checkpoints of ``model_name`` and the run neither resumes nor was asked to ``overwrite``.
    """
    if rank != 0:
        return None
    lock = lock_output_dir(output_dir)
    found = checkpoint_names(output_dir, model_name)
    if found and not resuming and not overwrite:
        lock.close()
        shown = ", ".join(found[:3]) + (" ..." if len(found) > 3 else "")
        raise OutputDirHasCheckpoints(
            f"{output_dir} already holds checkpoints of an earlier run ({shown}); continue it with --resume, "
            "write elsewhere with -o output_dir=..., or pass --overwrite to replace them")
    return lock


def resume_command(argv=None, world_size: int = 1) -> str:
    """This process's command line with ``--resume`` in place of any resume or overwrite option (under
    ``paddle.distributed.launch`` when ``world_size`` > 1)."""
    argv = list(sys.argv if argv is None else argv)
    args, kept, i = argv[1:], [], 0
    while i < len(args):
        if args[i] in ("--resume", "--overwrite"):
            i += 1
        elif args[i] in ("-o", "--override") and i + 1 < len(args) and args[i + 1].startswith("resume_epoch="):
            i += 2
        else:
            kept.append(args[i])
            i += 1
    launcher = ["-m", "paddle.distributed.launch", "--nproc_per_node", str(world_size)] if world_size > 1 else []
    program = argv[0] if argv else "main.py"
    return " ".join(["python"] + launcher + [shlex.quote(a) for a in [program] + kept] + ["--resume"])
