#!/usr/bin/env bash
# Installs what spate needs to build and test, idempotently.
#
# Called by `make run` and `make test` (and so by CI on a fresh Debian 12
# machine). Nothing is installed when everything is already present, so it
# costs a few dpkg queries on a warm machine. Run as root, or with sudo
# available; set SPATE_NO_DEPS=1 to skip it (for packagers).
set -euo pipefail

[ "${SPATE_NO_DEPS:-0}" = 1 ] && exit 0

# Build: compiler, CMake, libraries the code links against.
BUILD_PKGS=(
  build-essential cmake pkg-config
  libssl-dev            # libcrypto: md5/sha1/sha256 for randomuser logins, UUIDv5
  libyaml-dev           # configuration files
  libjansson-dev        # JSON documents (fetch responses, format_user)
  libmicrohttpd-dev     # HTTP server (randomuser)
  libcurl4-openssl-dev  # HTTP client (fetch)
  librdkafka-dev        # Kafka client (spate topics, spate groups)
  zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev  # Kafka batch codecs (compaction)
  librocksdb-dev        # CQL store engine
  libedit-dev           # line editing and history (spate cqlsh)
  libpq-dev             # PostgreSQL client (stream postgres sink, scheduler metadata and staging)
  libsqlite3-dev        # scheduler metadata and staging (the default backend)
  libzookeeper-mt-dev   # scheduler leader election (high availability)
)
# Tests: harness, sanitizers, fuzzing, valgrind and the real clients.
TEST_PKGS=(
  libcmocka-dev clang libclang-rt-14-dev valgrind
  curl python3 python3-yaml
  kcat python3-confluent-kafka   # real Kafka clients (librdkafka 2.0.2) against spate broker
  python3-cassandra              # real CQL driver (DataStax 3.25) against spate cql
  postgresql                     # PostgreSQL 15: the stream postgres sink test; CQL bench peer
  zookeeper                      # ZooKeeper 3.8 server: scheduler failover test
)
# Benchmarks (bench/): load generator and the peers we compare against.
BENCH_PKGS=(wrk nginx-light  # librdkafka-dev (bench_kafka) is in BUILD_PKGS
  redis-server nats-server libhiredis-dev)  # broker peers: Redis Streams, NATS JetStream
  # (postgresql, the CQL store peer of bench/run_cql.sh, is in TEST_PKGS)

want=("${BUILD_PKGS[@]}")
case "${1:-all}" in
  build) ;;
  test) want+=("${TEST_PKGS[@]}") ;;
  all) want+=("${TEST_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  # An old package list can name versions the mirror no longer has: update
  # once, then install.
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm modules used by the real-client tests live in tests/node (package.json);
# installed only when that directory exists and is out of date.
if [ "${1:-all}" != build ] && [ -f tests/node/package.json ]; then
  if [ ! -d tests/node/node_modules ] || [ tests/node/package.json -nt tests/node/node_modules ]; then
    echo "deps: npm install in tests/node" >&2
    (cd tests/node && npm install --no-audit --no-fund --silent) && touch tests/node/node_modules
  fi
fi
exit 0
