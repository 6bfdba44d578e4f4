// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

//go:build testhooks

package worker

import (
	"fmt"
	"os"

	"passt-go/sandbox"
)

// TestHookEnv names the variable that, in a worker built with the testhooks
// tag, makes it misbehave on purpose once it has reported ready:
// "forbidden-syscall" makes a call outside the seccomp allowlist.
const TestHookEnv = "PASST_GO_TEST_HOOK"

func testHookAfterReady() {
	if os.Getenv(TestHookEnv) == "forbidden-syscall" {
		err := sandbox.ForbiddenSyscall()
		fmt.Fprintln(os.Stderr, "passt-worker: test hook:", err)
	}
}
