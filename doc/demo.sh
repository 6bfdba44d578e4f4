#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SPDX-FileCopyrightText: 2026 passt-go contributors
#
# A guided run of passt-go that never leaves this machine. It builds a small
# network of namespaces:
#
#   remote  (192.0.2.1, 2001:db8:1::1; "far" 203.0.113.1, 2001:db8:2::1):
#           a TCP and a UDP echo server and a DNS server
#     | veth
#   host    (192.0.2.2/24, 2001:db8:1::2/64): runs pasta and passt, as a
#           user's machine would
#
# First pasta gives a new namespace its network: the host's addresses and
# routes, ping, TCP, UDP and DNS to the remote side, and the gateway address
# reaching the host's own loopback. Then passt serves a guest: a namespace
# whose tap device is bridged to passt's socket, so that its own kernel is
# passt's guest, as a qemu guest would be; it configures itself by DHCP and
# SLAAC. Run it as root: make demo.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/bin"
id=$$
host="demo-host-$id" remote="demo-remote-$id" guest="demo-guest-$id"
work=$(mktemp -d /tmp/passt-go-demo.XXXXXX)
chmod 0777 "$work"
pids=()

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
inns() {
	local ns=$1 name; shift
	name=${ns#demo-}; name=${name%-*}
	printf '[%s] $ %s\n' "$name" "$*"
	ip netns exec "$ns" "$@"
}

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for ns in "$guest" "$host" "$remote"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "/etc/netns/$host" "/etc/netns/$guest" "$work"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
	echo "the demo builds network namespaces: run it as root (make demo)" >&2
	exit 1
fi
for b in passt pasta passt-worker tapbridge; do
	[ -x "$bin/$b" ] || { echo "missing $bin/$b: run make demo" >&2; exit 1; }
done

say "A small network of namespaces, nothing leaves this machine"
ip netns add "$remote"; ip netns add "$host"; ip netns add "$guest"
ip link add uplink0 netns "$remote" type veth peer name eth0 netns "$host"
ip -n "$remote" link set lo up; ip -n "$host" link set lo up; ip -n "$guest" link set lo up
for ns in "$host" "$remote"; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0; done
ip -n "$remote" addr add 192.0.2.1/24 dev uplink0
ip -n "$remote" addr add 2001:db8:1::1/64 dev uplink0 nodad
ip -n "$remote" addr add 203.0.113.1/32 dev lo
ip -n "$remote" addr add 2001:db8:2::1/128 dev lo
ip -n "$remote" link set uplink0 up
ip -n "$host" addr add 192.0.2.2/24 dev eth0
ip -n "$host" addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n "$host" link set eth0 up
ip -n "$host" route add default via 192.0.2.1
ip -n "$host" -6 route add default via 2001:db8:1::1
ip netns exec "$host" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
mkdir -p "/etc/netns/$host"
printf 'nameserver 192.0.2.1\nsearch example.test\n' > "/etc/netns/$host/resolv.conf"
inns "$host" ip -br addr show eth0
inns "$host" ip route

say "Servers: echo on the remote side, a web page on the host's loopback"
ip netns exec "$remote" socat TCP-LISTEN:7,fork,reuseaddr EXEC:cat &
pids+=($!)
ip netns exec "$remote" socat UDP-RECVFROM:7,bind=203.0.113.1,fork,reuseaddr EXEC:cat &
pids+=($!)
ip netns exec "$remote" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--listen-address=192.0.2.1 --bind-interfaces --user=root \
	--address=/www.example.test/203.0.113.1 --log-facility=/dev/null &
pids+=($!)
printf 'HTTP/1.0 200 OK\r\n\r\nhello from the host loopback\n' > "$work/page"
ip netns exec "$host" socat TCP-LISTEN:8080,bind=127.0.0.1,fork,reuseaddr SYSTEM:"cat $work/page" &
pids+=($!)
for _ in $(seq 100); do
	ip netns exec "$remote" ss -Hltn 'sport = :7' | grep -q . &&
		ip netns exec "$host" ss -Hltn 'sport = :8080' | grep -q . && break
	sleep 0.05
done

say "pasta gives a new namespace the host's network (--config-net)"
cat > "$work/inside.sh" <<'EOS'
set -e
step() { printf '\n(in the namespace) $ %s\n' "$*"; "$@"; }
step ip -br addr
step ip route
step busybox ping -c 2 192.0.2.1
step busybox ping -6 -c 2 2001:db8:2::1
printf '\n(in the namespace) $ echo ... | socat - TCP:203.0.113.1:7\n'
echo "TCP through pasta, echoed by the remote side" | socat -t 2 - TCP:203.0.113.1:7
printf '\n(in the namespace) $ echo ... | socat - UDP:203.0.113.1:7\n'
echo "UDP through pasta, echoed by the remote side" | socat -t 2 - UDP:203.0.113.1:7
step busybox nslookup -type=a www.example.test 192.0.2.1
printf '\n(in the namespace) $ socat - TCP:192.0.2.1:8080   # the gateway: the host'"'"'s loopback\n'
printf 'GET / HTTP/1.0\r\n\r\n' | socat -t 2 - TCP:192.0.2.1:8080
EOS
inns "$host" "$bin/pasta" --config-net -- sh "$work/inside.sh"
echo "pasta exited with the command's status: $?"

say "passt, for a virtual machine: it starts in the host namespace, and returns once ready"
inns "$host" "$bin/passt" -s "$work/passt.socket" -P "$work/passt.pid" -l "$work/passt.log"
pid=$(cat "$work/passt.pid"); pids+=("$pid")
worker=$(cat "/proc/$pid/task/"*/children | tr ' ' '\n' | grep . | head -n1)
echo "passt (the monitor) is pid $pid, its worker is pid $worker"

say "The worker, seen from outside: no capability in any thread, seccomp, empty root"
for t in /proc/"$worker"/task/*; do
	grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):' "$t/status" | tr -s '\t\n' '  '; echo
done | sort | uniq -c
printf 'root directory of the worker: %s entries\n' "$(ls -A /proc/"$worker"/root | wc -l)"
printf 'user namespace: monitor %s, worker %s\n' "$(readlink /proc/"$pid"/ns/user)" "$(readlink /proc/"$worker"/ns/user)"

say "The guest's tap device is bridged to passt's socket"
"$bin/tapbridge" -socket "$work/passt.socket" -netns "$guest" -ifname eth0 -ready "$work/tap.ready" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/tap.ready" ] && break; sleep 0.05; done
inns "$guest" ip -br link show eth0

say "The guest asks passt for an address (DHCP): it gets the host's own"
# ip netns exec gives the guest this file as its /etc/resolv.conf, where
# the DHCP client's script writes the servers it was told.
mkdir -p "/etc/netns/$guest"
: > "/etc/netns/$guest/resolv.conf"
inns "$guest" busybox udhcpc -i eth0 -n -q -f -t 5 -T 1 -O mtu -O search -s /etc/udhcpc/default.script 2>&1 | sed 's/^/    /'
inns "$guest" ip -br addr show eth0
inns "$guest" ip route
inns "$guest" cat /etc/resolv.conf

say "IPv6: SLAAC from passt's router advertisement"
for _ in $(seq 50); do
	ip -n "$guest" -6 addr show dev eth0 scope global | grep -q 2001:db8:1: && break; sleep 0.1
done
inns "$guest" ip -6 -br addr show eth0
inns "$guest" ip -6 route show default

say "The gateway address reaches the host's loopback (ICMP echo through ping sockets)"
inns "$guest" busybox ping -c 2 192.0.2.1
inns "$guest" busybox ping -6 -c 2 2001:db8:1::1

say "A remote address, through the host's own routes"
inns "$guest" busybox ping -c 2 203.0.113.1
inns "$guest" busybox ping -6 -c 2 2001:db8:2::1

say "What passt logged"
sed 's/^/    /' "$work/passt.log" | tail -n 25

say "Done: everything is removed on exit"
