// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

//go:build testhooks

package nsinit

// Test builds let PASST_GO_NSINIT_FAIL_AT force a step to fail.

// #cgo CFLAGS: -DNSINIT_TESTHOOKS
import "C"
