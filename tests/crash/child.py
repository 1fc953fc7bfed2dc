"""Run one fn_openc2 function in a child process against the offline SOAR, for
crash tests: ``python -m tests.crash.child CONFIG FUNCTION INPUTS OUT (--seed FILE | --restore SNAPSHOT)``.

With ``FN_OPENC2_OFFLINE_SOAR_SNAPSHOT`` set, the offline SOAR writes what it has
saved to that file after every write (see offline_soar/faults.py), so the test
can kill this process at any moment and still read the incident."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from fn_openc2.lib.offline_soar.faults import restore_snapshot
from fn_openc2.lib.offline_soar.runner import CircuitsApp


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("function")
    parser.add_argument("inputs")
    parser.add_argument("out")
    parser.add_argument("--seed")
    parser.add_argument("--restore")
    args = parser.parse_args()
    if args.restore:
        def seed(store):
            restore_snapshot(store, args.restore)
    else:
        def seed(store):
            store.seed_document(json.loads(Path(args.seed).read_text(encoding="utf-8")))
    inputs = json.loads(Path(args.inputs).read_text(encoding="utf-8"))
    with CircuitsApp(Path(args.config).read_text(encoding="utf-8"), seed=seed) as app:
        result = app.run_function(args.function, inputs, timeout=600)
    Path(args.out).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
