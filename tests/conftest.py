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


def pytest_configure(config) -> None:
    """``resilient-sdk validate --tests`` runs pytest with its mock arguments
    (``--resilient_org 'Test Organization'`` ...), and pytest-resilient-circuits'
    ``circuits_app`` then logs in to that org instead of the one config_data names.
    Make it the offline SOAR's default org, so what a test seeds is what the app reads."""
    import os

    org = os.environ.get("TEST_RESILIENT_ORG") or getattr(config.option, "resilient_org", "")
    if org:
        from fn_openc2.lib.offline_soar import store

        store.DEFAULT_ORG = org
