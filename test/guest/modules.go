// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package guest

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"strings"
)

// GuestModules are the kernel modules the guest needs for its network card
// (a virtio-net device on the PCI bus), named as in modules.dep without
// the .ko suffix. Those the kernel has built in are left out; the others
// are loaded with their dependencies, dependencies first.
var GuestModules = []string{"virtio_pci", "virtio_net"}

// moduleIndex is what depmod wrote about one kernel: module paths
// (relative to /lib/modules/VERSION) with their dependencies, and the
// built-in modules.
type moduleIndex struct {
	deps    map[string][]string // path -> dependency paths
	byName  map[string]string   // module name -> path
	builtin map[string]bool     // module name -> built in
}

// moduleName turns "kernel/drivers/net/virtio_net.ko[.xz]" into
// "virtio_net". Dashes and underscores are the same to the kernel.
func moduleName(p string) string {
	base := path.Base(p)
	if i := strings.Index(base, ".ko"); i >= 0 {
		base = base[:i]
	}
	return strings.ReplaceAll(base, "-", "_")
}

// parseModuleIndex reads modules.dep and modules.builtin.
func parseModuleIndex(dep, builtin []byte) (*moduleIndex, error) {
	idx := &moduleIndex{deps: map[string][]string{}, byName: map[string]string{}, builtin: map[string]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(dep))
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		mod, rest, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("modules.dep: malformed line %q", line)
		}
		idx.deps[mod] = strings.Fields(rest)
		idx.byName[moduleName(mod)] = mod
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(builtin), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			idx.builtin[moduleName(line)] = true
		}
	}
	return idx, nil
}

// loadOrder returns the module files to load for names, each after the
// ones it depends on, each once. A name built into the kernel needs no
// file; a name that is neither built in nor a module is an error.
func (idx *moduleIndex) loadOrder(names []string) ([]string, error) {
	var order []string
	state := map[string]int{} // 1: visiting, 2: done
	var visit func(p string) error
	visit = func(p string) error {
		switch state[p] {
		case 1:
			return fmt.Errorf("modules.dep: dependency cycle through %s", p)
		case 2:
			return nil
		}
		state[p] = 1
		deps, ok := idx.deps[p]
		if !ok {
			return fmt.Errorf("modules.dep: %s is listed as a dependency but has no entry", p)
		}
		for _, d := range deps {
			if err := visit(d); err != nil {
				return err
			}
		}
		state[p] = 2
		order = append(order, p)
		return nil
	}
	for _, n := range names {
		n = strings.ReplaceAll(n, "-", "_")
		if p, ok := idx.byName[n]; ok {
			if err := visit(p); err != nil {
				return nil, err
			}
			continue
		}
		if !idx.builtin[n] {
			return nil, fmt.Errorf("kernel has no module %s, and it is not built in", n)
		}
	}
	return order, nil
}
