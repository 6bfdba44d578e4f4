// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package sandbox

import (
	"os"
	"os/user"
	"strconv"
	"testing"
)

func TestLookupRunas(t *testing.T) {
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no nobody account: %v", err)
	}
	nUID, _ := strconv.ParseUint(nobody.Uid, 10, 32)
	nGID, _ := strconv.ParseUint(nobody.Gid, 10, 32)
	root, err := user.LookupGroup("root")
	if err != nil {
		t.Skipf("no root group: %v", err)
	}
	rootGID, _ := strconv.ParseUint(root.Gid, 10, 32)

	tests := []struct {
		name     string
		spec     string
		uid, gid uint32
		wantErr  bool
	}{
		{name: "numeric uid", spec: "1000", uid: 1000, gid: 1000},
		{name: "numeric uid and gid", spec: "1000:100", uid: 1000, gid: 100},
		{name: "hexadecimal", spec: "0x10:0x20", uid: 16, gid: 32},
		{name: "octal", spec: "017", uid: 15, gid: 15},
		{name: "numeric root", spec: "0", uid: 0, gid: 0},
		{name: "login", spec: "nobody", uid: uint32(nUID), gid: uint32(nGID)},
		{name: "login and group", spec: "nobody:root", uid: uint32(nUID), gid: uint32(rootGID)},
		{name: "login and numeric group", spec: "nobody:5", uid: uint32(nUID), gid: 5},
		{name: "root by name", spec: "root", wantErr: true},
		{name: "unknown login", spec: "no-such-user-passt-go", wantErr: true},
		{name: "unknown group", spec: "1000:no-such-group-passt-go", wantErr: true},
		{name: "empty group", spec: "1000:", wantErr: true},
		{name: "empty user", spec: ":1000", wantErr: true},
		{name: "too large", spec: "4294967296", wantErr: true},
		{name: "underscores are not numbers", spec: "1_000", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			uid, gid, warning, err := LookupRunas(tc.spec)
			if tc.wantErr {
				if err == nil {
					t.Errorf("got %d:%d, want an error", uid, gid)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if uid != tc.uid || gid != tc.gid || warning != "" {
				t.Errorf("got %d:%d %q, want %d:%d \"\"", uid, gid, warning, tc.uid, tc.gid)
			}
		})
	}
}

// TestLookupRunasDefault: without --runas, root in the initial user
// namespace becomes nobody with a warning; anybody else stays.
func TestLookupRunasDefault(t *testing.T) {
	m, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		t.Fatal(err)
	}
	uid, gid, warning, err := LookupRunas("")
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 && isInitialUIDMap(string(m)) {
		want := uint32(nobodyID)
		if u, err := user.Lookup("nobody"); err == nil {
			n, _ := strconv.ParseUint(u.Uid, 10, 32)
			want = uint32(n)
		}
		if uid != want || warning != RootWarning {
			t.Errorf("got uid %d, warning %q, want %d, %q", uid, warning, want, RootWarning)
		}
		return
	}
	if uid != uint32(os.Geteuid()) || gid != uint32(os.Getegid()) || warning != "" {
		t.Errorf("got %d:%d %q, want %d:%d \"\"", uid, gid, warning, os.Geteuid(), os.Getegid())
	}
}

func TestIsInitialUIDMap(t *testing.T) {
	tests := []struct {
		name string
		m    string
		want bool
	}{
		{name: "initial namespace", m: "         0          0 4294967295\n", want: true},
		{name: "rootless container", m: "         0       1000          1\n", want: false},
		{name: "several lines", m: "0 0 4294967295\n0 0 1\n", want: false},
		{name: "identity but short", m: "0 0 65536\n", want: false},
		{name: "empty", m: "", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isInitialUIDMap(tc.m); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
