#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# SPDX-FileCopyrightText: 2026 passt-go contributors
#
# udhcpc's script in the test guest: on a lease, configure the interface
# (address, default route, MTU, resolver) and record the lease's fields in
# /tmp/lease4 for the init script to report.

case "$1" in
bound|renew)
	# IPv4 only: a plain flush would take eth0's IPv6 addresses too, its
	# link-local among them, which the kernel does not make again.
	ip -4 addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	[ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
	for r in $router; do
		ip route add default via "$r" dev "$interface"
		break
	done
	: > /etc/resolv.conf
	for d in $dns; do
		echo "nameserver $d" >> /etc/resolv.conf
	done
	[ -n "$search" ] && echo "search $search" >> /etc/resolv.conf
	{
		echo "lease_ip='$ip'"
		echo "lease_mask='$mask'"
		echo "lease_router='$(echo $router | tr ' ' ,)'"
		echo "lease_mtu='$mtu'"
		echo "lease_dns='$(echo $dns | tr ' ' ,)'"
		echo "lease_search='$(echo $search | tr ' ' ,)'"
		echo "lease_time='$lease'"
	} > /tmp/lease4
	;;
esac
exit 0
