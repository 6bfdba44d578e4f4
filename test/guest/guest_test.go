// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package guest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// cpioEntry is an entry read back from a newc archive.
type cpioEntry struct {
	name             string
	mode             uint32
	data             string
	rdevMaj, rdevMin uint32
}

// readNewc parses a newc archive up to its trailer, checking the
// alignment of every header and body.
func readNewc(t *testing.T, b []byte) []cpioEntry {
	t.Helper()
	var out []cpioEntry
	off := 0
	field := func(i int) uint32 {
		v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
		if err != nil {
			t.Fatalf("offset %d field %d: %v", off, i, err)
		}
		return uint32(v)
	}
	align := func(n int) int { return (n + 3) &^ 3 }
	for {
		if off%4 != 0 {
			t.Fatalf("header at offset %d is not aligned", off)
		}
		if off+110 > len(b) || string(b[off:off+6]) != "070701" {
			t.Fatalf("no newc header at offset %d", off)
		}
		mode, size, rmaj, rmin, nsize := field(1), int(field(6)), field(9), field(10), int(field(11))
		name := string(b[off+110 : off+110+nsize-1])
		if b[off+110+nsize-1] != 0 {
			t.Fatalf("name %q not NUL-terminated", name)
		}
		data := align(off + 110 + nsize)
		if name == "TRAILER!!!" {
			return out
		}
		out = append(out, cpioEntry{name, mode, string(b[data : data+size]), rmaj, rmin})
		off = align(data + size)
	}
}

func TestCPIOWriter(t *testing.T) {
	var buf bytes.Buffer
	w := newCPIOWriter(&buf)
	w.Dir("bin", 0o755)
	w.File("bin/x", 0o755, []byte("hello"))
	w.File("empty", 0o644, nil)
	w.Symlink("bin/sh", "busybox")
	w.CharDev("dev/console", 0o600, 5, 1)
	w.File("odd-name-length", 0o600, []byte("abc"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := readNewc(t, buf.Bytes())
	want := []cpioEntry{
		{"bin", cpioDir | 0o755, "", 0, 0},
		{"bin/x", cpioRegular | 0o755, "hello", 0, 0},
		{"empty", cpioRegular | 0o644, "", 0, 0},
		{"bin/sh", cpioSymlink | 0o777, "busybox", 0, 0},
		{"dev/console", cpioCharDev | 0o600, "", 5, 1},
		{"odd-name-length", cpioRegular | 0o600, "abc", 0, 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}

	// The same inputs give the same bytes.
	var again bytes.Buffer
	w = newCPIOWriter(&again)
	w.Dir("bin", 0o755)
	w.File("bin/x", 0o755, []byte("hello"))
	w.File("empty", 0o644, nil)
	w.Symlink("bin/sh", "busybox")
	w.CharDev("dev/console", 0o600, 5, 1)
	w.File("odd-name-length", 0o600, []byte("abc"))
	w.Close()
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two archives of the same entries differ")
	}

	// GNU cpio, where installed, agrees.
	if _, err := exec.LookPath("cpio"); err == nil {
		cmd := exec.Command("cpio", "-t", "--quiet")
		cmd.Stdin = bytes.NewReader(buf.Bytes())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("cpio -t: %v", err)
		}
		if got, want := strings.Fields(string(out)), []string{"bin", "bin/x", "empty", "bin/sh", "dev/console", "odd-name-length"}; !reflect.DeepEqual(got, want) {
			t.Errorf("cpio -t: got %q, want %q", got, want)
		}
	}
}

func TestCPIOWriterRejectsNUL(t *testing.T) {
	w := newCPIOWriter(&bytes.Buffer{})
	w.File("a\x00b", 0o644, nil)
	if err := w.Close(); err == nil {
		t.Error("got no error for a name with NUL")
	}
}

const testModulesDep = `kernel/drivers/virtio/virtio.ko:
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/net/core/failover.ko:
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
`

func TestModuleLoadOrder(t *testing.T) {
	tests := []struct {
		name    string
		dep     string
		builtin string
		want    []string
		wantErr string
	}{
		{
			name: "all modules",
			dep:  testModulesDep,
			want: []string{
				"kernel/drivers/virtio/virtio_pci_legacy_dev.ko", "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
				"kernel/drivers/virtio/virtio.ko", "kernel/drivers/virtio/virtio_ring.ko",
				"kernel/drivers/virtio/virtio_pci.ko", "kernel/net/core/failover.ko",
				"kernel/drivers/net/net_failover.ko", "kernel/drivers/net/virtio_net.ko",
			},
		},
		{
			name:    "built in",
			dep:     "kernel/other.ko:\n",
			builtin: "kernel/drivers/virtio/virtio_pci.ko\nkernel/drivers/net/virtio_net.ko\n",
			want:    nil,
		},
		{
			name:    "missing",
			dep:     "kernel/drivers/virtio/virtio_pci.ko:\n",
			wantErr: "no module virtio_net",
		},
		{
			name:    "dependency without entry",
			dep:     "kernel/drivers/virtio/virtio_pci.ko: kernel/gone.ko\nkernel/drivers/net/virtio_net.ko:\n",
			wantErr: "has no entry",
		},
		{
			name:    "cycle",
			dep:     "kernel/drivers/virtio/virtio_pci.ko: kernel/a.ko\nkernel/a.ko: kernel/drivers/virtio/virtio_pci.ko\nkernel/drivers/net/virtio_net.ko:\n",
			wantErr: "cycle",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idx, err := parseModuleIndex([]byte(tc.dep), []byte(tc.builtin))
			if err != nil {
				t.Fatal(err)
			}
			got, err := idx.loadOrder(GuestModules)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"kernel/drivers/net/virtio_net.ko":     "virtio_net",
		"kernel/drivers/net/virtio-net.ko.xz":  "virtio_net",
		"kernel/drivers/virtio/virtio.ko.zst":  "virtio",
		"kernel/drivers/virtio/virtio_pci.ko":  "virtio_pci",
		"kernel/net/core/failover.ko.gz":       "failover",
		"kernel/drivers/net/net_failover.ko":   "net_failover",
		"kernel/drivers/virtio/virtio_ring.ko": "virtio_ring",
	} {
		if got := moduleName(in); got != want {
			t.Errorf("moduleName(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestFindKernel(t *testing.T) {
	tests := []struct {
		name    string
		kernels []string // vmlinuz-* in boot
		modules []string // releases with modules.dep
		want    string
	}{
		{"cloud first", []string{"6.1.0-9-amd64", "6.1.0-9-cloud-amd64"}, []string{"6.1.0-9-amd64", "6.1.0-9-cloud-amd64"}, "6.1.0-9-cloud-amd64"},
		{"newest", []string{"6.1.0-9-amd64", "6.1.0-10-amd64"}, []string{"6.1.0-9-amd64", "6.1.0-10-amd64"}, "6.1.0-10-amd64"},
		{"needs modules", []string{"6.1.0-9-cloud-amd64", "6.1.0-8-amd64"}, []string{"6.1.0-8-amd64"}, "6.1.0-8-amd64"},
		{"none", []string{"6.1.0-9-amd64"}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			boot, mods := t.TempDir(), t.TempDir()
			for _, k := range tc.kernels {
				if err := os.WriteFile(filepath.Join(boot, "vmlinuz-"+k), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, m := range tc.modules {
				os.MkdirAll(filepath.Join(mods, m), 0o755)
				if err := os.WriteFile(filepath.Join(mods, m, "modules.dep"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := FindKernel(boot, mods)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestParseResults(t *testing.T) {
	out := strings.Join([]string{
		"[    1.2] Run /init as init process\r",
		"RESULT boot PASS uptime=1.55 kernel=6.1.0\r",
		"RESULT dhcp4 PASS ip=192.0.2.2 mask=24\r",
		"[    2.0] random kernel message RESULT fake",
		"RESULT ping4-gw FAIL 192.0.2.1: 0 packets received\r",
		"RESULT ping4-gw PASS addr=192.0.2.1\r",
		"RESULT serve SKIP\r",
		"DONE\r",
	}, "\n")
	got, done := ParseResults(out)
	if !done {
		t.Error("DONE not seen")
	}
	want := map[string]Result{
		"boot":     {"boot", "PASS", "uptime=1.55 kernel=6.1.0"},
		"dhcp4":    {"dhcp4", "PASS", "ip=192.0.2.2 mask=24"},
		"ping4-gw": {"ping4-gw", "FAIL", "192.0.2.1: 0 packets received"},
		"serve":    {"serve", "SKIP", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if v, ok := got["dhcp4"].Value("mask"); !ok || v != "24" {
		t.Errorf("Value(mask): got %q, %v; want \"24\", true", v, ok)
	}
	if _, ok := got["dhcp4"].Value("mtu"); ok {
		t.Error("Value(mtu): got a value, want none")
	}
	if _, done := ParseResults("RESULT boot PASS\n"); done {
		t.Error("DONE seen where there is none")
	}
}

func TestQemuArgs(t *testing.T) {
	img := Image{Kernel: "/k", Initrd: "/i"}
	args := img.QemuArgs(TCG, map[string]string{"b": "2", "a": "1"})
	joined := strings.Join(args, " ")
	for _, want := range []string{"-accel tcg", "-kernel /k", "-initrd /i", "-no-reboot", "-serial stdio", "pgo_a=1 pgo_b=2"} {
		if !strings.Contains(joined, want) {
			t.Errorf("got %q, want it to contain %q", joined, want)
		}
	}
	if strings.Contains(joined, "-cpu host") {
		t.Errorf("TCG with -cpu host: %q", joined)
	}
	if kvm := strings.Join(img.QemuArgs(KVM, nil), " "); !strings.Contains(kvm, "-accel kvm -cpu host") {
		t.Errorf("got %q, want KVM with the host's CPU", kvm)
	}
}

// Build makes an image from what is installed, reuses it the second
// time, and the initramfs holds what init needs.
func TestBuild(t *testing.T) {
	if _, err := FindKernel("/boot", "/lib/modules"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command to build gcheck")
	}
	cache := t.TempDir()
	img, err := Build(Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if img.Reused {
		t.Error("first build: got Reused, want a new image")
	}
	again, err := Build(Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Reused || again.Key != img.Key {
		t.Errorf("second build: got %+v, want the first image reused", again)
	}
	b, err := os.ReadFile(img.Initrd)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]cpioEntry{}
	for _, e := range readNewc(t, b) {
		names[e.name] = e
	}
	for _, n := range []string{"init", "bin/busybox", "bin/sh", "bin/gcheck", "etc/udhcpc.script", "dev/console", "lib/modules/order"} {
		if _, ok := names[n]; !ok {
			t.Errorf("initramfs lacks %s", n)
		}
	}
	for _, m := range strings.Fields(names["lib/modules/order"].data) {
		if _, ok := names["lib/modules/"+m]; !ok {
			t.Errorf("lib/modules/order names %s, which is missing", m)
		}
	}
	if names["init"].mode&0o111 == 0 {
		t.Errorf("init mode %o: not executable", names["init"].mode)
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 1 {
		t.Errorf("cache holds %d entries, want 1 (build directories removed): %v", len(entries), fmt.Sprint(entries))
	}
}
