"""PaddleVideo's ``main.py``: train (``--validate``), resume, fine-tune (``-w``) or ``--test`` a config.

    python main.py -c configs/recognition/tsn/tsn_k400_frames.yaml --validate
    python -m paddle.distributed.launch --nproc_per_node 2 main.py -c CFG --validate
    python main.py -c CFG --test -w output/TSN/TSN_best.pdparams

Bad input (missing config, unknown override key, missing weights) prints one line
``main.py: error: ...`` and exits with status 2.
"""
import argparse
import os
import sys

PROG = "main.py"
REFUSED = {
    "train_dali": "--train_dali (NVIDIA DALI loading) is not part of this TSN reimplementation; "
                  "use the regular loader (DATASET.num_workers sets its parallelism)",
    "multigrid": "--multigrid training is for SlowFast, not TSN; it is not supported here",
    "fleet": "--fleet is not needed: paddle.distributed.launch + DataParallel covers TSN "
             "(see docs/distributed.md)",
}


def _seed(text):
    """``--seed``: an integer numpy, Python and Paddle all accept (0 .. 2**32-1)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to {2**32 - 1}, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to {2**32 - 1}, got {value}")
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(PROG, description="PaddleVideo train / validate / test script (TSN)")
    parser.add_argument("-c", "--config", type=str, required=True, help="config file path")
    parser.add_argument("-o", "--override", action="append", default=[],
                        help="config options to be overridden, KEY.PATH=VALUE (repeatable)")
    parser.add_argument("--test", action="store_true", help="whether to test a model")
    parser.add_argument("-w", "--weights", type=str, help="weights for finetuning or testing")
    parser.add_argument("--validate", action="store_true",
                        help="whether to evaluate the checkpoint during training")
    parser.add_argument("--seed", type=_seed, default=1234, help="random seed, 0 to 2**32-1 (default 1234)")
    parser.add_argument("--amp", action="store_true",
                        help="automatic mixed precision (float16, GPU only: fp32 on CPU)")
    parser.add_argument("--amp_level", type=str, default=None, choices=["O1", "O2"],
                        help="AMP level when --amp is set (default O1)")
    parser.add_argument("--max_iters", type=int, default=None,
                        help="stop each epoch (and validation) after this many iterations")
    parser.add_argument("-p", "--profiler_options", type=str, default=None,
                        help='profiler options, "key1=value1;key2=value2": batch_range=[10,20], timer_only=True '
                             "(Paddle's timing summary; False: operator tables and a trace), profile_path="
                             "./profiler_log, exit_on_finished=True; state, sorted_key, tracer_option are "
                             "accepted without effect (as in PaddleVideo)")
    parser.add_argument("--overwrite", action="store_true",
                        help="train into an output_dir that already holds checkpoints, replacing them "
                             "(without it such a run is refused: use --resume to continue it)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the latest complete <model_name>_epoch_*.pdparams/.pdopt in "
                             "output_dir (sets resume_epoch)")
    for flag in REFUSED:
        parser.add_argument(f"--{flag}", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for flag, reason in REFUSED.items():
        if getattr(args, flag):
            parser.error(reason)
    if args.max_iters is not None and args.max_iters < 1:
        parser.error(f"--max_iters must be >= 1, got {args.max_iters}")
    return args


def _threads_per_process():
    """Several CPU processes on one node share the cores: give each its share unless the user chose."""
    local = int(os.environ.get("PADDLE_LOCAL_SIZE", os.environ.get("PADDLE_TRAINERS_NUM", "1")) or 1)
    if local > 1 and "OMP_NUM_THREADS" not in os.environ:
        from paddlevideo.utils.runtime import usable_cpus  # lightweight: no paddle import
        os.environ["OMP_NUM_THREADS"] = str(max(1, usable_cpus() // local))


def run(args):
    import paddlevideo
    paddlevideo.setup_runtime()  # threads, MKL path and console logging, before Paddle is imported
    from paddlevideo.utils.config import ConfigError, check_config, parse_config, override_config, print_config
    # The config is checked before Paddle is imported: a typo fails in a fraction of a second.
    cfg = override_config(parse_config(args.config), args.override)
    check_config(cfg, "test" if args.test else "train_validate" if args.validate else "train")
    if args.test and not args.weights:
        raise ConfigError("--test needs the weights to test: -w path/to/MODEL.pdparams")
    if args.weights:
        from paddlevideo.utils.download import fetch_weights
        args.weights = fetch_weights(args.weights)  # an http(s) URL: downloaded once into the weights cache
        if not os.path.isfile(args.weights):
            raise ConfigError(f"weights file not found: {args.weights}")

    from paddlevideo.utils.runtime import describe_runtime, require_paddle
    require_paddle(PROG)  # imports Paddle quietly, or says in one line how to install it
    from paddlevideo.tasks import output_dir_of, test_model, train_model
    from paddlevideo.tasks.checkpoints import latest_epoch
    from paddlevideo.tasks.run_setup import claim_output_dir
    from paddlevideo.tasks.environment import init_distributed
    from paddlevideo.utils.dist_utils import set_random_seed
    from paddlevideo.utils.logger import setup_logger
    output_dir = output_dir_of(cfg)
    if args.resume and not args.test:
        epoch = latest_epoch(output_dir, cfg.model_name)
        if epoch == 0:
            raise ConfigError(f"--resume: no complete {cfg.model_name}_epoch_*.pdparams/.pdopt in {output_dir}")
        cfg.resume_epoch = epoch
    rank, world_size = init_distributed()
    lock = None  # held (rank 0) until the process ends; taken before anything is written into the folder
    if not args.test:
        lock = claim_output_dir(output_dir, cfg.model_name, resuming=bool(cfg.resume_epoch),
                                overwrite=args.overwrite, rank=rank)
    logger = setup_logger(output_dir, name="paddlevideo", level=cfg.log_level.upper())
    print_config(cfg, logger)
    logger.info(describe_runtime())

    set_random_seed(args.seed)
    if args.test:
        test_model(cfg, weights=args.weights, rank=rank, world_size=world_size)
    else:
        train_model(cfg, weights=args.weights, validate=args.validate, use_amp=args.amp,
                    amp_level=args.amp_level, max_iters=args.max_iters,
                    profiler_options=args.profiler_options, seed=args.seed, rank=rank, world_size=world_size)
    del lock


def main(argv=None):
    import warnings
    # Paddle warns about a missing C++ compiler cache on import (it concerns custom-op builds only), and
    # at every training start that BatchNorm tracks global statistics (as PaddleVideo expects).
    warnings.filterwarnings("ignore", message="No ccache found")
    warnings.filterwarnings("ignore", message="When training, we now always track global mean and variance")
    args = parse_args(argv)
    _threads_per_process()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from paddlevideo.utils.errors import run_cli
    return run_cli(PROG, lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
