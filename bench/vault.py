"""What crypto-shredding costs the pipeline's stages: the same simulated records through the core hop with the
vault (personal fields of cases.events sealed, the intake record and dead letters sealed) and without it.

    .venv/bin/python bench/vault.py --cases 300

No Kafka: ``pure_stages.run_stages`` on the simulator's mix, run alternately without and with the vault (best of
``--rounds`` each); prints the ratio against the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import time

import pure_stages  # run from the bench folder or with it on sys.path
import simulator_mix
import structlog

from casehub.core.settings import Settings
from casehub.registry import load_registry
from casehub.vault.keystore import DataKeyStore
from casehub.vault.master import MasterKey
from casehub.vault.records import sealed_value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=300, help="simulated case lifecycles")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    settings = Settings()
    registry = load_registry(settings)
    core = pure_stages.processor(settings, registry)
    records = simulator_mix.linked(core, simulator_mix.mix(registry, args.cases, seed=args.seed))
    store = DataKeyStore(MasterKey(os.urandom(32)))
    plain, sealed = copy.copy(core), copy.copy(core)
    plain.keys, sealed.keys = None, store
    best = {"without vault": float("inf"), "with vault": float("inf")}
    for _ in range(args.rounds):
        for name, processor in (("without vault", plain), ("with vault", sealed)):
            with simulator_mix.fixed_case_ids():
                started = time.perf_counter()
                pure_stages.run_stages(processor, records)
                if processor.keys is not None:  # the intake hop seals each record and the core hop opens it
                    for _, _, value, _ in records:
                        key = store.key_for("subject-bench")
                        sealed_value(key, value)
                best[name] = min(best[name], time.perf_counter() - started)
    events = len(records)
    for name, seconds in best.items():
        print(f"{name:<14} {events / seconds:>9,.0f} events/s  ({seconds / events * 1e6:,.0f} µs/event)")
    print(f"ratio with/without: {best['without vault'] / best['with vault']:.2f}x the throughput "
          f"({(best['with vault'] / best['without vault'] - 1) * 100:+.1f} % time per event); "
          f"{len(store.keys)} data keys made for {args.cases} cases")


if __name__ == "__main__":
    main()
