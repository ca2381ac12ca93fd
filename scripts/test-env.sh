# Sourced by `make pytest` (测试环境): point the PostgreSQL tests at this machine's server when
# one answers on 127.0.0.1:5432 and nothing else was chosen. Unset, they are skipped and the
# run's last line says how to enable them; under CI=true they fail.
if [ -z "${DAIBAN_TEST_POSTGRES_URL:-}" ] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    export DAIBAN_TEST_POSTGRES_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/test"
fi
