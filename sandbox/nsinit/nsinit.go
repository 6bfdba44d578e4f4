// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nsinit

// The constructor lives in nsinit.c; this file makes cgo compile it.

/*
#cgo CFLAGS: -O2 -Wall -Wextra
#include "status.h"

extern struct passt_nsinit_status passt_nsinit_status;
*/
import "C"

// stateSkipped is the state of a process without the marker.
const stateSkipped = C.NSINIT_SKIPPED

// state reports what the constructor did in this process (NSINIT_* in
// status.h).
func state() int { return int(C.passt_nsinit_status.state) }
