"""Fixtures shared by every test folder: generated PKI, a Mosquitto broker,
reference consumers. Each lives in its own module under tests/fixtures."""
pytest_plugins = [
    "tests.fixtures.pki",
    "tests.fixtures.broker",
    "tests.fixtures.consumer",
]
