# Shared by bench/find and bench/qr (sourced; `here` and `bench_command` set by the caller): indexes the deterministic
# dataset of COUNT small instances (scripts/make-find-dicom.py) into Tessera (scripts/cluster, release build unless
# BENCH_BUILD=debug, fresh index) and stock Orthanc (Debian) with the PostgreSQL index plugin on the same PostgreSQL
# server, with storescu over BENCH_ASSOCIATIONS (4) associations; waits until /statistics counts every instance and
# runs VACUUM ANALYZE on both databases. Leaves both running (its EXIT trap, `cleanup`, stops them), and sets
# `ingest` (Markdown table rows), `orthanc_version`, `bytes`, `studies`, `command_line`, `python`, `work`, `data`.
# Both servers know the modalities BENCH (127.0.0.1:34245) and STORESCP (127.0.0.1:34244).
count=${1:-100000}
[[ $count =~ ^[1-9][0-9]*$ ]] || { echo "usage: $bench_command [COUNT]" >&2; exit 2; }
work=${BENCH_DIR:-$here/bench/data}
data=$work/find-dataset-$count
python=$here/.tools/venv/bin/python
associations=${BENCH_ASSOCIATIONS:-4}
export TCP_NODELAY=1
export TESSERA_RUN_DIR=$work/find-run TESSERA_BUILD=${BENCH_BUILD:-release} TESSERA_HTTP_PORT=38042 \
       TESSERA_DICOM_PORT=34242 TESSERA_PG_PORT=35433 TESSERA_KAFKA_PORT=39092 TESSERA_GATEWAY_METRICS_PORT=39101 \
       TESSERA_INDEXER_METRICS_PORT=39102 TESSERA_WORKER_METRICS_PORT=39103
unset TESSERA_STORAGE_DIR
# BENCH (the querying tools) and STORESCP (a move destination) are modalities of both servers.
storescp_port=34244
mkdir -p "$work"
cat > "$work/find-tessera.json" <<JSON
{ "DicomModalities": { "bench": ["BENCH", "127.0.0.1", 34245], "storescp": ["STORESCP", "127.0.0.1", $storescp_port] } }
JSON
export TESSERA_CONFIG=$work/find-tessera.json
orthanc_http=38043 orthanc_dicom=34243 orthanc_dir=$work/find-orthanc orthanc_db=orthanc_find_bench
command_line="$bench_command $count"
for v in BENCH_QUERIES BENCH_WARMUP BENCH_EXPAND BENCH_ASSOCIATIONS BENCH_BUILD BENCH_DIR; do
  [ -z "${!v:-}" ] || command_line="$v=${!v} $command_line"
done

"$here/scripts/bootstrap"
command -v Orthanc >/dev/null && command -v bc >/dev/null && [ -f /usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so ] || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq orthanc orthanc-postgresql bc >/dev/null; }
systemctl stop orthanc 2>/dev/null || service orthanc stop 2>/dev/null || true

now() { date +%s.%N; }
wait_port() { for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
instances() { curl -fsS "http://127.0.0.1:$1/statistics" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["CountInstances"])'; }

orthanc_pid=
cleanup() {
  if [ -n "$orthanc_pid" ]; then kill "$orthanc_pid" 2>/dev/null; wait "$orthanc_pid" 2>/dev/null || true; fi
  "$here/scripts/cluster" down >/dev/null 2>&1 || true
  [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$TESSERA_RUN_DIR" "$orthanc_dir"
}
trap cleanup EXIT

mkdir -p "$work"
if [ ! -f "$data/manifest.json" ]; then
  echo "bench: generating $count instances in $data" >&2
  start=$(now)
  "$python" "$here/scripts/make-find-dicom.py" --out "$data" --count "$count" --seed 2026
  generation=$(echo "$(now) - $start" | bc -l)
  printf 'bench: generated in %.1f s\n' "$generation" >&2
fi
bytes=$(du -sb "$data" | cut -f1)
studies=$("$python" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["Studies"]))' "$data/manifest.json")
shards=("$data"/s[0-9][0-9])

# Sends the dataset over $1 associations to $2 (called AET $3), shard folders round-robin; prints the wall time.
send() {
  local n=$1 port=$2 aet=$3
  local start end pids=()
  start=$(now)
  for ((k = 0; k < n; k++)); do
    local part=()
    for ((i = k; i < ${#shards[@]}; i += n)); do part+=("${shards[$i]}"); done
    storescu +sd -aec "$aet" -aet BENCH 127.0.0.1 "$port" "${part[@]}" > "$work/find-storescu-$k.log" 2>&1 &
    pids+=($!)
  done
  local failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  end=$(now)
  if [ $failed -ne 0 ] || grep -q "E: " "$work"/find-storescu-*.log; then
    echo "bench: storescu reported errors" >&2; tail -n 20 "$work"/find-storescu-*.log >&2; exit 1
  fi
  echo "$end - $start" | bc -l
}

ingest=()
# Sends to $1 (name) on DICOM port $2 / AET $3, then waits until HTTP port $4 counts every instance.
load() {
  local name=$1 dicom=$2 aet=$3 http=$4 t start lag
  echo "bench: sending $count instances to $name" >&2
  t=$(send "$associations" "$dicom" "$aet")
  start=$(now)
  until [ "$(instances "$http")" -ge "$count" ]; do sleep 0.1; done
  lag=$(echo "$(now) - $start" | bc -l)
  ingest+=("$(printf '| %s | %.1f | %.1f | %.2f s | %.1f |' "$name" "$t" "$(echo "$count / $t" | bc -l)" "$lag" \
              "$(echo "($t + $lag) * 1000 / $count" | bc -l)")")
  printf 'bench: %s: %.1f s (%.0f instances/s), indexing lag %.2f s\n' "$name" "$t" "$(echo "$count / $t" | bc -l)" "$lag" >&2
}

# scripts/cluster builds only missing executables: build the current code (incremental), never measure stale ones.
echo "bench: building ($TESSERA_BUILD)" >&2
(cd "$here" && for product in tessera-gateway tessera-indexer tessera-api tessera-worker; do
   swift build -c "$TESSERA_BUILD" --product "$product" >&2 || exit 1; done) || { echo "bench: the build failed" >&2; exit 1; }
"$here/scripts/cluster" down >/dev/null 2>&1 || true
rm -rf "$TESSERA_RUN_DIR" "$orthanc_dir"
for attempt in 1 2 3; do   # a binary being rewritten by a concurrent build fails to start: retry
  "$here/scripts/cluster" up >/dev/null && break
  [ $attempt -lt 3 ] || exit 1
  "$here/scripts/cluster" down >/dev/null 2>&1 || true; sleep 10
done
sleep 6  # let the indexer's consumer-group join settle, as in steady state
pg() { psql -h 127.0.0.1 -p "$TESSERA_PG_PORT" -U postgres -X -q "$@"; }
pg -c "DROP DATABASE IF EXISTS $orthanc_db" -c "CREATE DATABASE $orthanc_db" >/dev/null

mkdir -p "$orthanc_dir"
cat > "$orthanc_dir/orthanc.json" <<JSON
{ "Name": "bench", "StorageDirectory": "$orthanc_dir/storage", "IndexDirectory": "$orthanc_dir/index",
  "HttpPort": $orthanc_http, "DicomPort": $orthanc_dicom, "DicomAet": "ORTHANC", "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "KeepAlive": true, "TcpNoDelay": true,
  "DicomModalities": { "bench": ["BENCH", "127.0.0.1", 34245], "storescp": ["STORESCP", "127.0.0.1", $storescp_port] },
  "Plugins": ["/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so"],
  "PostgreSQL": { "EnableIndex": true, "EnableStorage": false, "Host": "127.0.0.1", "Port": $TESSERA_PG_PORT,
                  "Database": "$orthanc_db", "Username": "postgres", "Password": "" } }
JSON
Orthanc "$orthanc_dir/orthanc.json" > "$orthanc_dir/orthanc.log" 2>&1 &
orthanc_pid=$!
wait_port $orthanc_http && wait_port $orthanc_dicom || { echo "bench: Orthanc did not start" >&2; tail -n 20 "$orthanc_dir/orthanc.log" >&2; exit 1; }
orthanc_version=$(curl -fsS "http://127.0.0.1:$orthanc_http/system" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["Version"])')

load Tessera "$TESSERA_DICOM_PORT" TESSERA "$TESSERA_HTTP_PORT"
load "Orthanc $orthanc_version (PostgreSQL)" $orthanc_dicom ORTHANC $orthanc_http

start=$(now)
pg -d tessera -c "VACUUM ANALYZE" && pg -d $orthanc_db -c "VACUUM ANALYZE"
printf 'bench: VACUUM ANALYZE in %.1f s\n' "$(echo "$(now) - $start" | bc -l)" >&2
