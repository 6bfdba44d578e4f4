#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SPDX-FileCopyrightText: 2026 passt-go contributors
#
# bench/run.sh: side-by-side benchmark of passt-go against a veth pair,
# Debian's pasta and passt, and slirp4netns. It builds the harness
# (bench/cmd/benchrun), its client/server (bench/cmd/tcpbench) and the
# passt-mode bridge (test/cmd/tapbridge) into .bench/bin, then runs the
# harness. Needs root: it creates network namespaces.
#
#   bench/run.sh [--quick] [--make] [--no-install] [benchrun options]
#
#   --quick        about 2 minutes: 1 run, short tests
#   --make         run `make` first, so that bin/pasta is current
#   --no-install   do not apt-get install missing packages
#   --help         this text and benchrun's options
#
# Every other option goes to benchrun (see bench/README.md), for example
#   bench/run.sh --runs 5 --duration 30 --impls veth,pasta,ours
#   bench/run.sh --quick --workloads tcp-out,rr

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

do_make=0
install=1
args=()
results=""
for a in "$@"; do
	case "$a" in
	--make) do_make=1 ;;
	--no-install) install=0 ;;
	-h | --help)
		sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'
		go run ./bench/cmd/benchrun -h 2>&1 || true
		exit 0
		;;
	*) args+=("$a") ;;
	esac
done
# The results directory, when given, is needed here for clean-up.
for ((i = 0; i < ${#args[@]}; i++)); do
	case "${args[$i]}" in
	--results=* | -results=*) results="${args[$i]#*=}" ;;
	--results | -results) results="${args[$((i + 1))]:-}" ;;
	esac
done

if [ "$(id -u)" != 0 ]; then
	echo "bench/run.sh: needs root (network namespaces, veth, tap)" >&2
	exit 1
fi

# Packages: the tools compared and the load generators.
if [ "$install" = 1 ]; then
	missing=""
	for p in iperf3 passt slirp4netns iproute2 util-linux; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "installing:$missing"
		# Best effort: a package that cannot be installed becomes an
		# n/a column, not a failed run.
		apt-get update -q || true
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing || true
	fi
fi

if [ "$do_make" = 1 ]; then
	make || echo "bench/run.sh: make failed; our columns will say why" >&2
fi

stamp=$(date +%Y%m%d-%H%M%S)
if [ -z "$results" ]; then
	results="$repo/.bench/$stamp"
	args+=(--results "$results")
fi
mkdir -p "$results" "$repo/.bench/bin"
bindir="$repo/.bench/bin"

echo "building the harness"
go build -trimpath -o "$bindir/benchrun" ./bench/cmd/benchrun
go build -trimpath -o "$bindir/tcpbench" ./bench/cmd/tcpbench
if go build -trimpath -o "$bindir/tapbridge" ./test/cmd/tapbridge >"$results/build-tapbridge.log" 2>&1; then
	args+=(--tapbridge "$bindir/tapbridge")
else
	rm -f "$bindir/tapbridge"
	why=$(grep -m1 . "$results/build-tapbridge.log" || echo "unknown error")
	args+=(--tapbridge-error "tapbridge does not build: $why")
fi

prefix="pgb$$"
pid=""

# cleanup runs whatever happens: it stops the harness if it still runs,
# and, if the harness could not clean up after itself (its list of
# started processes is still there), ends those processes by PID and
# deletes this run's namespaces.
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 300); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	if [ -f "$results/pids" ]; then
		while read -r p; do
			[ -n "$p" ] || continue
			kill -KILL -- "-$p" 2>/dev/null || true
			kill -KILL "$p" 2>/dev/null || true
		done <"$results/pids"
		rm -f "$results/pids"
	fi
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix-" || true); do
		ip netns del "$ns" 2>/dev/null || true
	done
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

"$bindir/benchrun" --prefix "$prefix" --ours "$repo/bin" --tcpbench "$bindir/tcpbench" "${args[@]}" &
pid=$!
wait "$pid"
