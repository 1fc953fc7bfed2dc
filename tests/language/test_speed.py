"""Prints (does not assert) what parse_command + encode costs for an SLPF deny;
the comparison with bare json lives in bench/."""
from __future__ import annotations

import json
import time

from fn_openc2.lib.language import encode, parse_command

DOC = (b'{"action":"deny","target":{"ipv4_connection":{"protocol":"tcp","src_addr":"1.2.3.4","src_port":10996,'
       b'"dst_addr":"198.2.3.4","dst_port":80}},"args":{"start_time":1534775460000,"duration":500,'
       b'"response_requested":"ack","slpf":{"drop_process":"none"}},"profile":"slpf"}')


def _per_call(fn, n: int = 2000) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def test_print_parse_encode_cost() -> None:
    assert json.loads(encode(parse_command(DOC))) == json.loads(DOC)
    ours = _per_call(lambda: encode(parse_command(DOC)))
    bare = _per_call(lambda: json.dumps(json.loads(DOC)).encode())
    print(f"\nslpf deny: parse_command+encode {ours:.1f} us, bare json loads+dumps {bare:.1f} us")
