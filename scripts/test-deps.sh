#!/usr/bin/env bash
# What some tests need beyond Python (测试依赖), installed or started when this machine allows:
# - Debian's chromium for the emulator's browser test (apt-get, as root);
# - the local PostgreSQL cluster on 127.0.0.1:5432 for the storage and fault tests.
# Never fails: what is still missing is named at the end of the test run with its fix,
# and under CI=true the tests that need it fail.
set -u

pg_answers() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "Installing Debian's chromium for the emulator's browser test (apt-get)"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
            || echo "Could not install chromium; the browser test will not run."
    else
        echo "Debian's chromium is missing and this is not root: the browser test will not run."
    fi
fi

if ! pg_answers && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is not answering on 127.0.0.1:5432; starting the local cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_answers && break; sleep 1; done
fi
exit 0
