#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1, then completed by hand.

import glob
import ntpath

from setuptools import find_packages, setup


def get_module_name(module_path):
    """Return the module name of the module path."""
    return ntpath.split(module_path)[1].split(".")[0]


def snake_to_camel(word):
    """Convert a word from snake_case to CamelCase."""
    return "".join(x.capitalize() or "_" for x in word.split("_"))


setup(
    name="fn_openc2",
    display_name="OpenC2 for IBM SOAR",
    version="1.0.0",
    license="MIT",
    author="fn_openc2 developers",
    author_email="fn-openc2-maintainers@users.noreply.github.com",
    url="https://github.com/fn-openc2/fn_openc2",
    description="Send OpenC2 commands (deny, allow, contain, query, cancel) built from incident artifacts "
                "to firewalls, EDR agents and other OpenC2 Consumers, and record every Response in the incident.",
    long_description="""fn_openc2 turns SOAR incident artifacts (IP addresses, domains, URLs, hashes, hosts...)
into OpenC2 Language Specification v2.0 Commands, sends them over the OpenC2 HTTPS (v1.0 and v1.1 dialects)
and MQTT v1.0 transfers to the configured Consumers, verifies signed Responses, and writes each Response back
into the incident as a note and as data-table rows.""",
    install_requires=[
        "resilient-circuits>=51.0.8.0",
        "pydantic~=2.11",
        "jwcrypto~=1.5",
        "rfc8785~=0.1.4",
        "paho-mqtt~=2.1",
        "requests~=2.32",
        "urllib3~=2.2",
        "idna~=3.7",
        "cryptography~=50.0",
    ],
    # The dev kit behind `fn-openc2 demo` (offline SOAR, console tables). App Host installs
    # the plain package, so none of it lands in the app's image; ./dev.sh installs ".[demo]".
    extras_require={
        "demo": [
            "requests-mock~=1.12",
            "rich~=15.0",
        ],
    },
    python_requires=">=3.11",
    packages=find_packages(exclude=["tests", "tests.*", "bench", "bench.*"]),
    include_package_data=True,
    platforms="any",
    classifiers=[
        "Programming Language :: Python",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
    ],
    entry_points={
        "resilient.circuits.components": [
            # When setup.py is executed, loop through the .py files in the components directory and create the entry points.
            # A new component is only found after a reinstall; ./dev.sh reinstalls when setup.py is newer than its stamp
            # (components: cancel_command, query_features, remove_block, send_command).
            "{}FunctionComponent = fn_openc2.components.{}:FunctionComponent".format(snake_to_camel(get_module_name(filename)), get_module_name(filename)) for filename in glob.glob("./fn_openc2/components/[a-zA-Z]*.py")
        ],
        "resilient.circuits.configsection": ["gen_config = fn_openc2.util.config:config_section_data"],
        "resilient.circuits.customize": ["customize = fn_openc2.util.customize:customization_data"],
        "resilient.circuits.selftest": ["selftest = fn_openc2.util.selftest:selftest_function"],
        "console_scripts": ["fn-openc2 = fn_openc2.lib.cli.main:main"],
    },
)
