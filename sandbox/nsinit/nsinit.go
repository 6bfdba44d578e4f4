// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package nsinit

// The constructor lives in nsinit.c; this file only makes cgo compile it.

// #cgo CFLAGS: -O2 -Wall -Wextra -Werror
import "C"
