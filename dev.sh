#!/usr/bin/env bash
# The two commands of the README:
#   ./dev.sh demo   runs the app's main job end to end on embedded defaults
#   ./dev.sh test   runs the whole test suite
# Both create ./.venv when missing and install everything they need into it
# (Mosquitto comes from Debian's packages when the machine lacks it).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

need_mosquitto() {
    command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] && return 0
    echo "dev.sh: installing mosquitto from Debian's packages" >&2
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq mosquitto >&2
}

venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
    fi
    local stamp="$VENV/.installed"
    # a new fn_openc2/components module needs a reinstall too: its entry point is made by setup.py
    if [ ! -f "$stamp" ] || [ setup.py -nt "$stamp" ] || [ requirements-test.txt -nt "$stamp" ] \
            || [ -n "$(find fn_openc2/components -name '*.py' -newer "$stamp" 2>/dev/null)" ]; then
        "$VENV/bin/python" -m pip install -q --upgrade pip >&2
        "$VENV/bin/python" -m pip install -q -e ".[demo]" -r requirements-test.txt >&2
        touch "$stamp"
    fi
}

case "${1:-}" in
    demo)
        shift
        need_mosquitto || echo "dev.sh: no mosquitto; the demo runs without its MQTT fleet" >&2
        venv
        exec "$VENV/bin/fn-openc2" demo "$@"
        ;;
    test)
        shift
        need_mosquitto
        venv
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    *)
        echo "usage: ./dev.sh demo | test [pytest args]" >&2
        exit 2
        ;;
esac
