// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

//go:build testhooks

package main

import "passt-go/sandbox"

// The sandbox's test hooks, present only with the testhooks tag.
var (
	loadProbeFilter  = sandbox.LoadProbeFilter
	forbiddenSyscall = sandbox.ForbiddenSyscall
)
