# Shared by scripts/run and scripts/test: install and start what city311 needs on
# Debian/Ubuntu, then prepare the virtualenv. Each step does nothing when already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_version() {
  ls /etc/postgresql 2>/dev/null | sort -n | tail -n 1
}

ensure_system_packages() {
  local need=()
  command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  command -v pg_isready >/dev/null 2>&1 || need+=(postgresql-client)
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
  if [ "${#need[@]}" -gt 0 ]; then
    say "Installing ${need[*]}"
    apt_install "${need[@]}"
  fi
  local ver
  ver="$(pg_version)"
  if [ -n "$ver" ] && [ ! -f "/usr/share/postgresql/$ver/extension/postgis.control" ]; then
    say "Installing PostGIS for PostgreSQL $ver"
    apt_install "postgresql-$ver-postgis-3"
  fi
}

# The browser journeys drive Debian's Chromium through Playwright (no browser download).
ensure_browser() {
  if ! command -v chromium >/dev/null 2>&1; then
    say "Installing Chromium for the browser tests"
    apt_install chromium
  fi
}

ensure_services() {
  if ! pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
    say "Starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(pg_version)" main start
    for _ in $(seq 1 30); do pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && break; sleep 1; done
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    say "Starting Redis"
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
      --appendonly no --dir /var/lib/redis --logfile /var/log/redis/city311.log
    for _ in $(seq 1 30); do redis-cli ping >/dev/null 2>&1 && break; sleep 1; done
  fi
  pg_isready -q -h "$PG_HOST" -p "$PG_PORT" || { echo "PostgreSQL did not start" >&2; exit 1; }
  redis-cli ping >/dev/null || { echo "Redis did not start" >&2; exit 1; }
}

# The read-replica test streams a copy of the local cluster over a replication connection
# from 127.0.0.1; Debian's pg_hba.conf allows those only from the local socket.
ensure_local_replication() {
  case "$PG_HOST" in 127.0.0.1|localhost) ;; *) return 0 ;; esac
  local hba
  hba="$(psql "$(pg_url postgres)" -tAc 'SHOW hba_file' 2>/dev/null)" || return 0
  [ -n "$hba" ] && [ -f "$hba" ] || return 0
  if ! grep -Eq '^[[:space:]]*host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32' "$hba"; then
    say "Allowing replication connections from 127.0.0.1 (for the read-replica test)"
    echo "host replication all 127.0.0.1/32 trust" | as_root tee -a "$hba" >/dev/null
    psql -q "$(pg_url postgres)" -c 'SELECT pg_reload_conf()' >/dev/null
  fi
}

ensure_venv() {
  local extras="${1:-}"
  if [ ! -x "$PY" ]; then
    say "Creating the virtualenv in .venv"
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.installed$extras"
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    say "Installing city311${extras}"
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install -q -e "$ROOT$extras"
    touch "$stamp"
  fi
}

# libpq URL of database $1 on the server of DATABASE_URL (its role and password), or of the
# local server as the postgres role when DATABASE_URL is unset.
pg_url() {
  local url="${DATABASE_URL:-postgresql://postgres@${PG_HOST}:${PG_PORT}/postgres}"
  url="postgresql://${url#*://}"   # drop SQLAlchemy's +psycopg
  url="${url%%\?*}"
  echo "${url%/*}/$1"
}

ensure_database() {
  local name="$1"
  if ! psql "$(pg_url postgres)" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    say "Creating database $name"
    psql -q "$(pg_url postgres)" -c "CREATE DATABASE \"$name\""
  fi
}

# The pages' translations: the .po files are the source, the .mo files Flask-Babel reads are
# compiled from them (not committed), here and whenever a .po is newer.
ensure_catalogs() {
  local po
  for po in "$ROOT"/app/translations/*/LC_MESSAGES/messages.po; do
    [ -e "$po" ] || continue
    if [ ! -f "${po%.po}.mo" ] || [ "$po" -nt "${po%.po}.mo" ]; then
      say "Compiling the translations"
      "$VENV/bin/pybabel" -q compile -d "$ROOT/app/translations"
      return
    fi
  done
}
