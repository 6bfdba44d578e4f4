// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package test

import (
	"path/filepath"
	"testing"

	"passt-go/test/nstest"
)

// TCP through pasta's tap device: pasta --config-net runs in Host and
// gives the topology's Guest namespace Host's addresses and routes, so the
// Guest's own kernel is pasta's guest. The checks are those passt passes
// with its guest (TestTCPTransfer, TestTCPResets, TestTCPConcurrent):
// byte-exact transfers, small and 100 MiB, both ways, IPv4 and IPv6, to
// the gateway (Host's loopback) and to Remote, with the half-closes in
// either order; refused connections and resets both ways; a thousand
// connections transferring at once.
func TestPastaTCP(t *testing.T) {
	nstest.NeedRoot(t)
	dir, _ := binaries(t)
	topo := nstest.NewTopology(t, nstest.TopologyOptions{Guest: true})
	pidFile := filepath.Join(sharedDir(t), "pasta.pid")
	p := nstest.Start(t, topo.Host, pastaArgv(runAs{"root", -1}, dir,
		"-f", "-P", pidFile, "--config-net", "--netns", topo.Guest.Name)...)
	waitPIDFile(t, pidFile, p)

	t.Run("transfer", func(t *testing.T) { tcpTransfers(t, topo, 7000) })
	t.Run("resets", func(t *testing.T) { tcpResets(t, topo, 7300) })
	t.Run("concurrent", func(t *testing.T) { tcpConcurrent(t, topo, 7400) })
	if p.Exited() {
		t.Errorf("pasta exited during the test:\n%s", p.Output())
	}
}
