// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

//go:build !testhooks

package main

import (
	"errors"

	"passt-go/sandbox"
)

// Without the testhooks tag the worker builds (so that go vet ./... works)
// but cannot probe or misbehave.
var errNoHooks = errors.New("built without the testhooks tag")

func loadProbeFilter(sandbox.Profile) error { return errNoHooks }

func forbiddenSyscall() error { return errNoHooks }
