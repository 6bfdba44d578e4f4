// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

//go:build !testhooks

package monitor

// testHookEnv adds nothing to the worker's environment in release builds.
func testHookEnv() []string { return nil }
