// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

// Package guest builds and runs a small qemu guest for the integration
// tests: a Debian kernel and an initramfs holding busybox, the kernel
// modules of a virtio network card, a static checker program (gcheck) and
// an init script that runs the checks and prints one line per check on
// the serial console:
//
//	RESULT NAME PASS|FAIL|SKIP [KEY=VALUE]...
//
// then powers the machine off. The image is cached under a directory
// named by a hash of everything that goes into it (package versions, the
// init script, the checker's binary), so a later run reuses it.
//
// Everything comes from Debian packages already installed: the kernel from
// linux-image-cloud-amd64 or linux-image-amd64 (/boot and /lib/modules),
// busybox from busybox-static; qemu from qemu-system-x86.
package guest

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

//go:embed init.sh
var initScript []byte

//go:embed udhcpc.sh
var udhcpcScript []byte

// buildVersion changes when the layout of the image changes in a way the
// other inputs of the cache key do not show.
const buildVersion = "1"

// Busybox is the statically linked busybox of busybox-static.
const Busybox = "/bin/busybox"

// ErrMissing wraps the errors of Build that a package installation fixes:
// no kernel with its modules, no static busybox.
var ErrMissing = errors.New("missing Debian package")

// Image is a bootable guest.
type Image struct {
	Kernel  string // bzImage
	Initrd  string // uncompressed newc cpio
	Release string // kernel release, as uname -r says
	Key     string // cache key: hash of the inputs
	Reused  bool   // found in the cache
}

// Options tells Build where things are.
type Options struct {
	// ModuleRoot is the top of the passt-go source tree, where gcheck is
	// built from; empty means the tree this file was compiled from.
	ModuleRoot string
	// CacheDir holds built images, one directory per key; empty means
	// ModuleRoot/test/.cache.
	CacheDir string
	// Boot is where kernels are found (default /boot), Modules where
	// their modules are (default /lib/modules).
	Boot, Modules string
}

// SourceRoot is the top of the source tree this package was compiled
// from.
func SourceRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// Build returns the guest image, building it if the cache lacks it.
func Build(opts Options) (Image, error) {
	if opts.ModuleRoot == "" {
		opts.ModuleRoot = SourceRoot()
	}
	if opts.CacheDir == "" {
		opts.CacheDir = filepath.Join(opts.ModuleRoot, "test", ".cache")
	}
	if opts.Boot == "" {
		opts.Boot = "/boot"
	}
	if opts.Modules == "" {
		opts.Modules = "/lib/modules"
	}
	release, err := FindKernel(opts.Boot, opts.Modules)
	if err != nil {
		return Image{}, err
	}
	kernel := filepath.Join(opts.Boot, "vmlinuz-"+release)
	if err := checkStatic(Busybox); err != nil {
		return Image{}, err
	}

	if err := os.MkdirAll(opts.CacheDir, 0o755); err != nil {
		return Image{}, err
	}
	work, err := os.MkdirTemp(opts.CacheDir, "build-")
	if err != nil {
		return Image{}, err
	}
	defer os.RemoveAll(work)

	gcheck := filepath.Join(work, "gcheck")
	if err := buildGcheck(opts.ModuleRoot, gcheck); err != nil {
		return Image{}, err
	}
	gbin, err := os.ReadFile(gcheck)
	if err != nil {
		return Image{}, err
	}

	// The key: package versions (or, without dpkg, file identities), the
	// files the image is made of, and this builder's version.
	h := sha256.New()
	fmt.Fprintf(h, "build %s\nkernel %s %s\nbusybox %s\n", buildVersion, release,
		packageVersion("linux-image-"+release, kernel), packageVersion("busybox-static", Busybox))
	for _, b := range [][]byte{initScript, udhcpcScript, gbin} {
		sum := sha256.Sum256(b)
		h.Write(sum[:])
	}
	for _, m := range GuestModules {
		fmt.Fprintf(h, "module %s\n", m)
	}
	key := hex.EncodeToString(h.Sum(nil))[:16]
	dir := filepath.Join(opts.CacheDir, "guest-"+key)
	img := Image{
		Kernel:  filepath.Join(dir, "vmlinuz"),
		Initrd:  filepath.Join(dir, "initramfs.cpio"),
		Release: release,
		Key:     key,
	}
	if fileExists(img.Kernel) && fileExists(img.Initrd) {
		img.Reused = true
		return img, nil
	}

	stage := filepath.Join(work, "image")
	if err := os.Mkdir(stage, 0o755); err != nil {
		return Image{}, err
	}
	if err := copyFile(kernel, filepath.Join(stage, "vmlinuz")); err != nil {
		return Image{}, err
	}
	modDir := filepath.Join(opts.Modules, release)
	if err := writeInitramfs(filepath.Join(stage, "initramfs.cpio"), modDir, gbin); err != nil {
		return Image{}, err
	}
	if err := os.Rename(stage, dir); err != nil {
		// Another test binary may have built the same key meanwhile.
		if fileExists(img.Kernel) && fileExists(img.Initrd) {
			img.Reused = true
			return img, nil
		}
		return Image{}, err
	}
	pruneCache(opts.CacheDir, "guest-"+key)
	return img, nil
}

// FindKernel picks the kernel release to boot: one that has both a
// /boot/vmlinuz-RELEASE and a modules directory, preferring the cloud
// flavour (smaller, made for virtual machines), then the newest.
func FindKernel(boot, modules string) (string, error) {
	matches, _ := filepath.Glob(filepath.Join(boot, "vmlinuz-*"))
	var releases []string
	for _, m := range matches {
		r := strings.TrimPrefix(filepath.Base(m), "vmlinuz-")
		if fileExists(filepath.Join(modules, r, "modules.dep")) {
			releases = append(releases, r)
		}
	}
	if len(releases) == 0 {
		return "", fmt.Errorf("%w: no kernel with modules in %s and %s (apt-get install linux-image-cloud-amd64)", ErrMissing, boot, modules)
	}
	sort.Slice(releases, func(i, j int) bool {
		ci, cj := strings.Contains(releases[i], "cloud"), strings.Contains(releases[j], "cloud")
		if ci != cj {
			return ci
		}
		return versionLess(releases[j], releases[i])
	})
	return releases[0], nil
}

// versionLess compares kernel releases number by number ("6.1.0-9" <
// "6.1.0-10").
func versionLess(a, b string) bool {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '-' })
	}
	pa, pb := split(a), split(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if pa[i] == pb[i] {
			continue
		}
		var na, nb int
		_, ea := fmt.Sscan(pa[i], &na)
		_, eb := fmt.Sscan(pb[i], &nb)
		if ea == nil && eb == nil {
			return na < nb
		}
		return pa[i] < pb[i]
	}
	return len(pa) < len(pb)
}

// packageVersion is the installed version of a Debian package, or, where
// dpkg cannot tell, the size and time of a file the package provides.
func packageVersion(pkg, file string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
	if err == nil && len(out) > 0 {
		return pkg + "=" + string(out)
	}
	if st, err := os.Stat(file); err == nil {
		return fmt.Sprintf("%s size %d mtime %d", file, st.Size(), st.ModTime().UnixNano())
	}
	return pkg + " unknown"
}

// checkStatic makes sure the program needs no dynamic loader: the guest
// has no libraries.
func checkStatic(file string) error {
	f, err := elf.Open(file)
	if err != nil {
		return fmt.Errorf("%w: %s: %v (apt-get install busybox-static)", ErrMissing, file, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%w: %s is dynamically linked (apt-get install busybox-static)", ErrMissing, file)
		}
	}
	return nil
}

// buildGcheck compiles the guest's checker, statically.
func buildGcheck(root, out string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, "./test/guest/cmd/gcheck")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build gcheck: %v\n%s", err, b)
	}
	return nil
}

// writeInitramfs lays out the guest's root file system:
//
//	/init                 init.sh
//	/bin/busybox          applets are linked at boot (busybox --install)
//	/bin/gcheck           the checker
//	/etc/udhcpc.script    applies a DHCPv4 lease, records it
//	/lib/modules/*.ko     in load order, listed in /lib/modules/order
//	/dev/console          so that init has a console before devtmpfs
func writeInitramfs(out, modDir string, gcheck []byte) error {
	depBytes, err := os.ReadFile(filepath.Join(modDir, "modules.dep"))
	if err != nil {
		return err
	}
	builtin, err := os.ReadFile(filepath.Join(modDir, "modules.builtin"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	idx, err := parseModuleIndex(depBytes, builtin)
	if err != nil {
		return err
	}
	mods, err := idx.loadOrder(GuestModules)
	if err != nil {
		return err
	}
	busybox, err := os.ReadFile(Busybox)
	if err != nil {
		return err
	}

	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := newCPIOWriter(f)
	for _, d := range []string{"bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys", "tmp", "run", "root", "lib", "lib/modules"} {
		w.Dir(d, 0o755)
	}
	w.CharDev("dev/console", 0o600, 5, 1)
	w.CharDev("dev/null", 0o666, 1, 3)
	w.File("init", 0o755, initScript)
	w.File("bin/busybox", 0o755, busybox)
	w.Symlink("bin/sh", "busybox")
	w.File("bin/gcheck", 0o755, gcheck)
	w.File("etc/udhcpc.script", 0o755, udhcpcScript)
	var order bytes.Buffer
	for _, m := range mods {
		data, err := readModule(filepath.Join(modDir, m))
		if err != nil {
			f.Close()
			return err
		}
		name := moduleName(m) + ".ko"
		w.File(path.Join("lib/modules", name), 0o644, data)
		order.WriteString(name + "\n")
	}
	w.File("lib/modules/order", 0o644, order.Bytes())
	if err := w.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readModule returns a module file, uncompressed: busybox's insmod reads
// plain ELF objects.
func readModule(file string) ([]byte, error) {
	var tool string
	switch {
	case strings.HasSuffix(file, ".ko"):
		return os.ReadFile(file)
	case strings.HasSuffix(file, ".ko.xz"):
		tool = "xz"
	case strings.HasSuffix(file, ".ko.zst"):
		tool = "zstd"
	case strings.HasSuffix(file, ".ko.gz"):
		tool = "gzip"
	default:
		return nil, fmt.Errorf("%s: unknown module compression", file)
	}
	out, err := exec.Command(tool, "-dc", file).Output()
	if err != nil {
		return nil, fmt.Errorf("%s -dc %s: %w", tool, file, err)
	}
	return out, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// pruneCache removes the images of other keys: only the current one is
// worth keeping. Unfinished builds of other processes are left alone.
func pruneCache(dir, keep string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "guest-") && e.Name() != keep {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}
