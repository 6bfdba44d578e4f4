#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# SPDX-FileCopyrightText: 2026 passt-go contributors
#
# init of the test guest. It configures the network card the way a
# distribution would (DHCPv4, SLAAC, DHCPv6), runs the checks, prints one
# line per check on the console:
#
#   RESULT NAME PASS KEY=VALUE...
#   RESULT NAME FAIL REASON
#
# then "DONE", and powers off. A check that prints nothing counts as
# failed on the other side.
#
# Parameters come from the kernel command line: the kernel hands unknown
# NAME=VALUE words to init as environment variables.
#
#   pgo_mode   probe: only report that the machine booted
#   pgo_gw4 pgo_gw6 pgo_far4 pgo_far6
#              addresses to ping: the gateway, and one behind it
#   pgo_tcp pgo_udp
#              1: run the TCP and UDP checks (and DNS, which is UDP)
#   pgo_rport  port of the servers at the far addresses
#   pgo_hport  port of the servers behind the gateway address
#   pgo_fport  port the guest serves, forwarded to it from outside
#   pgo_bytes  bytes each TCP check moves
#   pgo_qname  name the DNS checks ask for
#   pgo_wait   how long the guest's server waits for its clients

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp

result() {
	echo "RESULT $*"
}

finish() {
	echo "DONE"
	poweroff -f
	sleep 10
}

uptime_s() {
	cut -d' ' -f1 /proc/uptime
}

# ping_check NAME ADDRESS
ping_check() {
	if out=$(ping -c 2 -i 0.2 -W 3 -w 8 "$2" 2>&1); then
		result "$1" PASS "addr=$2"
	else
		result "$1" FAIL "$2: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
	fi
}

result boot PASS "uptime=$(uptime_s)" "kernel=$(uname -r)"
if [ "$pgo_mode" = probe ]; then
	finish
fi

# The network card's driver.
failed=
for m in $(cat /lib/modules/order); do
	insmod "/lib/modules/$m" || failed="$failed $m"
done
if [ -n "$failed" ]; then
	result modules FAIL "insmod failed:$failed"
else
	result modules PASS "loaded=$(tr '\n' ' ' < /lib/modules/order | sed 's/ *$//; s/ /,/g')"
fi

# No duplicate address detection: passt's link has no other node, and
# addresses are usable at once.
echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad
echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
if [ ! -e /sys/class/net/eth0 ]; then
	result link FAIL "no eth0 after 5 s: $(ls /sys/class/net | tr '\n' ' ')"
	finish
fi
echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad
ip link set lo up
ip link set eth0 up
result link PASS "mac=$(cat /sys/class/net/eth0/address)"

# DHCPv4: the script applies the lease and records it.
udhcpc -i eth0 -f -q -n -t 5 -T 1 -O mtu -O search -s /etc/udhcpc.script > /tmp/udhcpc.log 2>&1
if [ -f /tmp/lease4 ]; then
	. /tmp/lease4
	result dhcp4 PASS "ip=$lease_ip" "mask=$lease_mask" "router=$lease_router" "mtu=$lease_mtu" \
		"ifmtu=$(cat /sys/class/net/eth0/mtu)" "dns=$lease_dns" "search=$lease_search" "lease=$lease_time"
else
	result dhcp4 FAIL "no lease: $(tail -n 3 /tmp/udhcpc.log | tr '\n' ' ')"
fi

# SLAAC and the default route from the router advertisement.
gcheck slaac eth0 10s
ra_via=$(ip -6 route show default | awk '{print $3; exit}')

# DHCPv6: the host's own address, as a /128 like other clients add it.
if gcheck dhcp6 eth0 /tmp/lease6; then
	. /tmp/lease6
	ip -6 addr add "$lease6_addr/128" dev eth0
fi

# ICMP echo through passt's ping sockets.
ping_check ping4-gw "$pgo_gw4"
ping_check ping4-far "$pgo_far4"
ping_check ping6-gw "$pgo_gw6"
ping_check ping6-far "$pgo_far6"
if [ -n "$ra_via" ]; then
	ping_check ping6-router "$ra_via%eth0"
else
	result ping6-router FAIL "no IPv6 default route to find the router"
fi

if [ "$pgo_tcp" = 1 ] || [ "$pgo_udp" = 1 ]; then
	gcheck serve "$pgo_fport" "$pgo_wait" &
	serve_pid=$!
fi

if [ "$pgo_tcp" = 1 ]; then
	for dir in put get; do
		gcheck tcp "tcp4-far-$dir" $dir "$pgo_far4" "$pgo_rport" "$pgo_bytes"
		gcheck tcp "tcp6-far-$dir" $dir "$pgo_far6" "$pgo_rport" "$pgo_bytes"
		gcheck tcp "tcp4-gw-$dir" $dir "$pgo_gw4" "$pgo_hport" "$pgo_bytes"
		gcheck tcp "tcp6-gw-$dir" $dir "$pgo_gw6" "$pgo_hport" "$pgo_bytes"
	done
fi

if [ "$pgo_udp" = 1 ]; then
	gcheck udp udp4-far "$pgo_far4" "$pgo_rport"
	gcheck udp udp6-far "$pgo_far6" "$pgo_rport"
	gcheck udp udp4-gw "$pgo_gw4" "$pgo_hport"
	gcheck udp udp6-gw "$pgo_gw6" "$pgo_hport"
	# The resolvers the host's DHCP servers announced.
	dns4=$(grep -o '^nameserver [0-9.]*$' /etc/resolv.conf | head -n 1 | cut -d' ' -f2)
	gcheck dns dns4 "${dns4:-none}" "$pgo_qname"
	gcheck dns dns6 "${lease6_dns:-none}" "$pgo_qname"
fi

if [ -n "$serve_pid" ]; then
	wait "$serve_pid"
fi
finish
