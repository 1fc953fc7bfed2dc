"""The benchmarks' documents stay valid as the language layer tightens:
a benchmark that crashes on its own corpus measures nothing."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}_under_test", ROOT / "bench" / f"bench_{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_codec_corpus_round_trips_through_the_language_layer():
    bench = _load("codec")
    pipeline = bench.fn_openc2_pipeline()
    corpus = bench._corpus()
    assert len(corpus) >= 10
    for kind, doc, _lycan_doc in corpus:
        data = json.dumps(doc).encode()
        assert json.loads(pipeline(kind, data)) == doc
