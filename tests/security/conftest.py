"""Key material for the security tests: one fresh key pair per algorithm, as PEM files."""
from __future__ import annotations

import pytest

from tests.security.keyfiles import ALL_ALGS, KeyFiles, write_key_files


@pytest.fixture(scope="session")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyFiles]:
    directory = tmp_path_factory.mktemp("sigkeys")
    return {alg: write_key_files(directory, alg) for alg in ALL_ALGS}


@pytest.fixture
def sample_message() -> dict:
    return {
        "headers": {
            "request_id": "d1ac0489-ed51-4345-9175-f3078f30afe5",
            "created": 1595268027000,
            "from": "soar@example.com",
            "to": ["fw1@example.com"],
        },
        "body": {
            "openc2": {
                "request": {
                    "action": "deny",
                    "target": {"ipv4_connection": {"src_addr": "10.1.2.3", "dst_port": 443, "protocol": "tcp"}},
                    "args": {"duration": 3600000, "slpf": {"drop_process": "reject"}},
                    "profile": "slpf",
                }
            }
        },
    }
