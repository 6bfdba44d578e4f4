// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

//go:build !testhooks

package worker

// testHookAfterReady does nothing in release builds.
func testHookAfterReady() {}
