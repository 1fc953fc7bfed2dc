"""Fixtures shared by every test folder: generated PKI, a Mosquitto broker,
reference consumers. Each lives in its own module under tests/fixtures."""
pytest_plugins = [
    "tests.fixtures.pki",
    "tests.fixtures.broker",
    "tests.fixtures.consumer",
]


def _test_actions_on_any_free_port() -> None:
    """pytest-resilient-circuits asks for test_port "0", which resilient-circuits parses as an
    int and treats as unset, so every circuits_app binds the default 8008: two test runs on one
    machine then fail with "Address already in use". Port 0 given to the server itself means
    "any free port", which is what the fixture meant."""
    from resilient_circuits import actions_test_component

    init = actions_test_component.ResilientTestActions.__init__
    host, _port = init.__defaults__
    init.__defaults__ = (host, 0)


_test_actions_on_any_free_port()
