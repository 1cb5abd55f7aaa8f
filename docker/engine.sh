#!/usr/bin/env bash
# Starts or stops a Docker engine for the docker target where none runs
# (CI, a bare VM): Debian's docker.io, no iptables and no bridge (the target
# needs no network).  Installs nothing: see the README.
#   docker/engine.sh start | stop | status
set -euo pipefail
state=${EXECSPEC_DOCKER_STATE:-/run/execspec-dockerd}
sock=/var/run/docker.sock
case "${1:-}" in
start)
    if docker version >/dev/null 2>&1; then echo "engine already answering"; exit 0; fi
    command -v dockerd >/dev/null || { echo "no dockerd: apt-get install --no-install-recommends docker.io" >&2; exit 1; }
    mkdir -p "$state"
    # containerd comes from the same package set; dockerd starts its own
    nohup dockerd --iptables=false --ip6tables=false --bridge=none -H "unix://$sock" \
        --pidfile "$state/dockerd.pid" >"$state/dockerd.log" 2>&1 &
    for _ in $(seq 1 60); do
        docker version >/dev/null 2>&1 && { echo "engine up ($(docker version -f '{{.Server.Version}}'))"; exit 0; }
        sleep 0.5
    done
    echo "dockerd did not answer within 30 s; log:" >&2; tail -n 20 "$state/dockerd.log" >&2; exit 1 ;;
stop)
    if [ -f "$state/dockerd.pid" ]; then
        pid=$(cat "$state/dockerd.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 60); do [ -e "/proc/$pid" ] || break; sleep 0.25; done
        rm -f "$state/dockerd.pid"   # dockerd removes it itself on a clean exit
    fi ;;
status)
    docker version -f '{{.Server.Version}}' ;;
*)
    echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
