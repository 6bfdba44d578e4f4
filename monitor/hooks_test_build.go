// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

//go:build testhooks

package monitor

import "os"

// testHookEnv passes the test hook variable on to the worker, in builds
// made with the testhooks tag only.
func testHookEnv() []string {
	if v := os.Getenv("PASST_GO_TEST_HOOK"); v != "" {
		return []string{"PASST_GO_TEST_HOOK=" + v}
	}
	return nil
}
