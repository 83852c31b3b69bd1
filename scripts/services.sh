#!/usr/bin/env bash
# The lab's real backends on loopback: MariaDB (MySQL metastore), PostgreSQL (Postgres metastore) and moto
# (DynamoDB metastore and AWS KMS emulator). No systemd, no Docker: each server runs as a plain background process
# whose PID is recorded, and is stopped by that PID.
#
#   scripts/services.sh start  [mysql|postgres|aws|all]   install if missing, start, wait until ready, create the
#                                                         database, user and tables; idempotent
#   scripts/services.sh stop   [mysql|postgres|aws|all]   stop what this services dir started; idempotent
#   scripts/services.sh status [mysql|postgres|aws|all]   one line per service; exit 1 if any is not running
#   scripts/services.sh env    [mysql|postgres|aws|all]   print `export NAME=value` lines for the tests:
#                                                         eval "$(scripts/services.sh env all)"
#   scripts/services.sh pause|resume [service]            SIGSTOP / SIGCONT the server: an unresponsive backend
#                                                         whose state survives (fault tests of the moto emulator,
#                                                         which keeps everything in memory and loses it on restart)
#
# Everything lives under $ASHERAH_SERVICES_DIR (default $LAB_CACHE/services, outside the clone): data, logs, pid
# files and the moto virtualenv. PostgreSQL refuses to run as root and its `postgres` user cannot enter /root, so
# when the services dir is not reachable by that user its cluster lives under the user's home
# (/var/lib/postgresql/asherah-lab/<hash of the services dir>).
#
# Ports (non-default, loopback only, so nothing clashes with a system service): ASHERAH_MYSQL_PORT=13306,
# ASHERAH_POSTGRES_PORT=15432, ASHERAH_MOTO_PORT=15000.
#
# Installs from Debian packages (mariadb-server, postgresql, python3-venv) when missing and running as root, and
# moto[server] from PyPI into a virtualenv under the services dir.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

SERVICES_DIR="${ASHERAH_SERVICES_DIR:-$LAB_CACHE/services}"
MYSQL_PORT="${ASHERAH_MYSQL_PORT:-13306}"
POSTGRES_PORT="${ASHERAH_POSTGRES_PORT:-15432}"
MOTO_PORT="${ASHERAH_MOTO_PORT:-15000}"
# Test-only credentials for servers that listen on 127.0.0.1 alone.
DB_NAME=asherah
DB_USER=asherah
DB_PASSWORD=asherah-test-only
AWS_TEST_REGION=us-west-2
MOTO_VERSION='moto[server]>=5.1,<6'

MYSQL_DIR="$SERVICES_DIR/mysql"
MOTO_DIR="$SERVICES_DIR/moto"

log() { printf 'services: %s\n' "$*" >&2; }
die() {
    log "$*"
    exit 1
}

apt_updated=0
apt_install() {
    [ "$(id -u)" = 0 ] || die "please install the Debian packages: $*"
    if [ "$apt_updated" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        apt_updated=1
    fi
    log "installing $* (Debian packages)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The PID in $1 if that process is alive, else nothing.
live_pid() {
    local file=$1 pid
    [ -s "$file" ] || return 1
    pid=$(head -n1 "$file")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Is something listening on 127.0.0.1:$1?
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Wait up to $2 seconds for the command "${@:3}" to succeed; $1 names the service for the message.
wait_for() {
    local name=$1 seconds=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            die "$name did not become ready within ${seconds}s"
        fi
        sleep 0.2
    done
}

# Send $2 to the PID in pid file $1 and wait until the process is gone (SIGKILL after 30 s).
stop_pid() {
    local file=$1 signal=$2 name=$3 pid
    pid=$(live_pid "$file") || return 0
    kill -CONT "$pid" 2>/dev/null || true # a paused server cannot shut down
    kill "-$signal" "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "$name (pid $pid) did not stop in 30s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        sleep 0.1
    done
    log "$name stopped (pid $pid)"
}

# --- MariaDB -------------------------------------------------------------------------------------------------

mysql_pidfile() { echo "$MYSQL_DIR/mariadbd.pid"; }
mysql_client() { mariadb --no-defaults --socket="$MYSQL_DIR/mysqld.sock" -uroot "$@"; }

mysql_start() {
    if pid=$(live_pid "$(mysql_pidfile)"); then
        log "mysql already running (pid $pid, port $MYSQL_PORT)"
    else
        command -v mariadbd >/dev/null 2>&1 || apt_install mariadb-server mariadb-client
        port_open "$MYSQL_PORT" && die "port $MYSQL_PORT is taken by another process; set ASHERAH_MYSQL_PORT"
        mkdir -p "$MYSQL_DIR"
        if [ ! -d "$MYSQL_DIR/data/mysql" ]; then
            log "mysql: initialising $MYSQL_DIR/data"
            mariadb-install-db --no-defaults --user=root --datadir="$MYSQL_DIR/data" \
                --auth-root-authentication-method=socket --skip-test-db >"$MYSQL_DIR/install.log" 2>&1 \
                || die "mariadb-install-db failed; see $MYSQL_DIR/install.log"
        fi
        # The server runs as root (it has no other user that can enter the services dir); it listens on
        # 127.0.0.1 and a socket in the services dir only. UTC session zone: `created` is bound as UTC wall-clock
        # time (docs/compatibility.md#sql-metastore). utf8mb4 with a binary, NO PAD collation: key ids compare byte
        # for byte, so partitions differing only in case or trailing spaces stay distinct (a `_ci` or PAD SPACE
        # collation would merge their keys under one primary key).
        setsid mariadbd --no-defaults --user=root --datadir="$MYSQL_DIR/data" \
            --socket="$MYSQL_DIR/mysqld.sock" --pid-file="$(mysql_pidfile)" \
            --bind-address=127.0.0.1 --port="$MYSQL_PORT" --skip-name-resolve \
            --default-time-zone=+00:00 --character-set-server=utf8mb4 --collation-server=utf8mb4_nopad_bin \
            --log-error="$MYSQL_DIR/error.log" \
            --innodb-buffer-pool-size=64M --max-connections=500 </dev/null >/dev/null 2>&1 &
        wait_for mysql 60 mariadb-admin --no-defaults --socket="$MYSQL_DIR/mysqld.sock" -uroot ping
        log "mysql started (pid $(live_pid "$(mysql_pidfile)"), port $MYSQL_PORT)"
    fi
    mysql_client <<SQL
CREATE DATABASE IF NOT EXISTS $DB_NAME;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON $DB_NAME.* TO '$DB_USER'@'127.0.0.1';
SQL
    mysql_client "$DB_NAME" <scripts/sql/mysql.sql
}

mysql_stop() { stop_pid "$(mysql_pidfile)" TERM mysql; }
mysql_status() {
    if pid=$(live_pid "$(mysql_pidfile)"); then
        echo "mysql: running (pid $pid, 127.0.0.1:$MYSQL_PORT, data $MYSQL_DIR/data)"
    else
        echo "mysql: stopped"
        return 1
    fi
}
mysql_env() {
    echo "export ASHERAH_TEST_MYSQL_URL='mysql://$DB_USER:$DB_PASSWORD@127.0.0.1:$MYSQL_PORT/$DB_NAME'"
    # The same server as a go-sql-driver/mysql DSN, for the Go side of the lab.
    echo "export ASHERAH_TEST_MYSQL_DSN='$DB_USER:$DB_PASSWORD@tcp(127.0.0.1:$MYSQL_PORT)/$DB_NAME?parseTime=true'"
}

# --- PostgreSQL ----------------------------------------------------------------------------------------------

pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
    [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && echo "$dir"
}

# The cluster directory: under the services dir when the `postgres` user can reach it, else under its home.
pg_dir() {
    if id postgres >/dev/null 2>&1 && runuser -u postgres -- test -x "$SERVICES_DIR" 2>/dev/null; then
        echo "$SERVICES_DIR/postgres"
    else
        echo "/var/lib/postgresql/asherah-lab/$(printf '%s' "$SERVICES_DIR" | cksum | cut -d' ' -f1)"
    fi
}
as_postgres() { runuser -u postgres -- "$@"; }

postgres_start() {
    local bin dir
    bin=$(pg_bin) || {
        apt_install postgresql
        bin=$(pg_bin) || die "postgresql installed but no pg_ctl found under /usr/lib/postgresql"
    }
    mkdir -p "$SERVICES_DIR"
    dir=$(pg_dir)
    if pid=$(live_pid "$dir/data/postmaster.pid"); then
        log "postgres already running (pid $pid, port $POSTGRES_PORT)"
    else
        port_open "$POSTGRES_PORT" && die "port $POSTGRES_PORT is taken by another process; set ASHERAH_POSTGRES_PORT"
        install -d -o postgres -g postgres -m 0700 "$dir"
        if [ ! -s "$dir/data/PG_VERSION" ]; then
            log "postgres: initialising $dir/data"
            as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust \
                --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
                || die "initdb failed; see $dir/initdb.log"
        fi
        # The socket goes into the cluster directory, not /var/run/postgresql (which may not exist).
        as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $POSTGRES_PORT -k $dir -c timezone=UTC -c max_connections=300" start >/dev/null \
            || die "postgres did not start; see $dir/postgres.log"
        wait_for postgres 60 "$bin/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT"
        log "postgres started (pid $(live_pid "$dir/data/postmaster.pid"), port $POSTGRES_PORT)"
    fi
    local psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$POSTGRES_PORT")
    as_postgres "${psql[@]}" -U postgres -d postgres >/dev/null <<SQL
SELECT 'CREATE ROLE $DB_USER LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER')\gexec
ALTER ROLE $DB_USER PASSWORD '$DB_PASSWORD';
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_USER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME')\gexec
SQL
    as_postgres "${psql[@]}" -U "$DB_USER" -d "$DB_NAME" >/dev/null <scripts/sql/postgres.sql
}

postgres_stop() {
    local dir
    dir=$(pg_dir)
    # SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, close connections, checkpoint.
    stop_pid "$dir/data/postmaster.pid" INT postgres
}
postgres_status() {
    local dir
    dir=$(pg_dir)
    if pid=$(live_pid "$dir/data/postmaster.pid"); then
        echo "postgres: running (pid $pid, 127.0.0.1:$POSTGRES_PORT, data $dir/data)"
    else
        echo "postgres: stopped"
        return 1
    fi
}
postgres_env() {
    echo "export ASHERAH_TEST_POSTGRES_URL='postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$POSTGRES_PORT/$DB_NAME'"
}

# --- moto (DynamoDB + KMS) -----------------------------------------------------------------------------------

moto_pidfile() { echo "$MOTO_DIR/moto.pid"; }

moto_install() {
    local venv="$MOTO_DIR/venv"
    # A venv that was moved or whose python went away is rebuilt.
    "$venv/bin/python" -c 'import moto.server' >/dev/null 2>&1 && return 0
    rm -rf "$venv"
    mkdir -p "$MOTO_DIR"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv"
        apt_install python3-venv
        python3 -m venv "$venv"
    fi
    log "installing $MOTO_VERSION (PyPI) into $venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "$MOTO_VERSION" >"$MOTO_DIR/pip.log" 2>&1 \
        || die "pip install failed; see $MOTO_DIR/pip.log"
}

moto_ready() { "$MOTO_DIR/venv/bin/python" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$MOTO_PORT/moto-api/', timeout=2)"; }

aws_start() {
    if pid=$(live_pid "$(moto_pidfile)"); then
        log "aws (moto) already running (pid $pid, port $MOTO_PORT)"
    else
        command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
        moto_install
        port_open "$MOTO_PORT" && die "port $MOTO_PORT is taken by another process; set ASHERAH_MOTO_PORT"
        setsid "$MOTO_DIR/venv/bin/python" -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" \
            </dev/null >"$MOTO_DIR/moto.log" 2>&1 &
        echo $! >"$(moto_pidfile)"
        wait_for "aws (moto)" 60 moto_ready
        log "aws (moto) started (pid $(live_pid "$(moto_pidfile)"), port $MOTO_PORT)"
    fi
    # The default DynamoDB table of docs/compatibility.md#dynamodb-metastore (tests create their own tables beside
    # it).
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "$MOTO_DIR/venv/bin/python" - "$MOTO_PORT" \
        "$AWS_TEST_REGION" <scripts/dynamodb-create-table.py
}

aws_stop() { stop_pid "$(moto_pidfile)" TERM "aws (moto)"; }
aws_status() {
    if pid=$(live_pid "$(moto_pidfile)"); then
        echo "aws: running (moto, pid $pid, http://127.0.0.1:$MOTO_PORT)"
    else
        echo "aws: stopped"
        return 1
    fi
}
aws_env() {
    echo "export ASHERAH_TEST_DYNAMODB_ENDPOINT='http://127.0.0.1:$MOTO_PORT'"
    echo "export ASHERAH_TEST_KMS_ENDPOINT='http://127.0.0.1:$MOTO_PORT'"
    # Dummy credentials and region for the emulator; never real ones.
    echo "export AWS_ACCESS_KEY_ID=testing"
    echo "export AWS_SECRET_ACCESS_KEY=testing"
    echo "export AWS_REGION=$AWS_TEST_REGION"
}

# --- pause / resume ------------------------------------------------------------------------------------------

pidfile_of() {
    case $1 in
    mysql) mysql_pidfile ;;
    postgres) echo "$(pg_dir)/data/postmaster.pid" ;;
    aws) moto_pidfile ;;
    esac
}

signal_service() {
    local name=$1 signal=$2 pid
    pid=$(live_pid "$(pidfile_of "$name")") || die "$name is not running"
    kill "-$signal" "$pid"
    log "$name: SIG$signal sent to pid $pid"
}

# --- main ----------------------------------------------------------------------------------------------------

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

[ $# -ge 1 ] || usage
command=$1
target=${2:-all}
case $target in
all) names=(mysql postgres aws) ;;
mysql | postgres | aws) names=("$target") ;;
*) usage ;;
esac

case $command in
start)
    mkdir -p "$SERVICES_DIR"
    for n in "${names[@]}"; do "${n}_start"; done
    ;;
stop)
    for n in "${names[@]}"; do "${n}_stop"; done
    ;;
status)
    rc=0
    for n in "${names[@]}"; do "${n}_status" || rc=1; done
    exit $rc
    ;;
env)
    echo "export ASHERAH_SERVICES_DIR='$SERVICES_DIR'"
    for n in "${names[@]}"; do "${n}_env"; done
    ;;
pause)
    for n in "${names[@]}"; do signal_service "$n" STOP; done
    ;;
resume)
    for n in "${names[@]}"; do signal_service "$n" CONT; done
    ;;
*) usage ;;
esac
