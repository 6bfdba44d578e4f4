// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Binaries built for the integration tests, in a directory every user can
// read and execute: the monitor drops to nobody before it starts the worker,
// so the worker binary must be reachable by nobody.
var (
	binDir     string // release build: passt-monitor, passt-worker, qrap, links
	hookBinDir string // the same, built with the testhooks tag
	buildOnce  sync.Once
	buildErr   error
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range []string{binDir, hookBinDir} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

// moduleRoot is the repository's top directory.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

func buildInto(dir string, tags string) error {
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	for _, cmd := range []string{"passt-monitor", "passt-worker", "qrap"} {
		args := []string{"build", "-o", filepath.Join(dir, cmd)}
		if tags != "" {
			args = append(args, "-tags", tags)
		}
		args = append(args, "./cmd/"+cmd)
		c := exec.Command("go", args...)
		c.Dir = moduleRoot()
		c.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("go %v: %v\n%s", args, err, out)
		}
	}
	for _, link := range []string{"passt", "pasta"} {
		if err := os.Symlink("passt-monitor", filepath.Join(dir, link)); err != nil {
			return err
		}
	}
	return nil
}

// binaries builds (once) and returns the release and the testhooks
// directories.
func binaries(t testing.TB) (release, hooks string) {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "passt-go-bin-"); buildErr != nil {
			return
		}
		if buildErr = buildInto(binDir, ""); buildErr != nil {
			return
		}
		if hookBinDir, buildErr = os.MkdirTemp("", "passt-go-hookbin-"); buildErr != nil {
			return
		}
		buildErr = buildInto(hookBinDir, "testhooks")
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return binDir, hookBinDir
}
