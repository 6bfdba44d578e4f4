// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

module passt-go

go 1.26.3

require (
	github.com/seccomp/libseccomp-golang v0.12.0
	github.com/vishvananda/netlink v1.3.1
	github.com/vishvananda/netns v0.0.5
	golang.org/x/sys v0.50.0
	gvisor.dev/gvisor v0.0.0-20260905035102-160fafc42237
)

require github.com/syndtr/gocapability v0.0.0-20200815063812-42c35b437635
