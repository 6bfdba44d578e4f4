// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// nobodyID is the usual ID of nobody, used when the account is missing.
const nobodyID = 65534

// RootWarning is the warning LookupRunas returns when it replaces root
// with nobody.
const RootWarning = "started as root in the initial user namespace: switching to user nobody"

// LookupRunas resolves the identity to run as, like passt's --runas.
//
// spec is UID, UID:GID, LOGIN or LOGIN:GROUP. Numbers are decimal, or
// hexadecimal with 0x, or octal with a leading 0 (as passt reads them);
// a numeric UID alone gives GID = UID; a LOGIN alone gives that account's primary group. A LOGIN that
// resolves to uid 0 is refused (only a numeric 0 selects root).
//
// An empty spec means no --runas: the current effective uid and gid,
// unless they are root's in the initial user namespace, where the result
// is nobody (65534 if the account does not exist) and warning is
// RootWarning for the caller to log.
func LookupRunas(spec string) (uid, gid uint32, warning string, err error) {
	if spec != "" {
		uid, gid, err = parseRunas(spec)
		if err != nil {
			return 0, 0, "", fmt.Errorf("invalid --runas option %q: %w", spec, err)
		}
		return uid, gid, "", nil
	}
	uid, gid = uint32(os.Geteuid()), uint32(os.Getegid())
	if uid != 0 {
		return uid, gid, "", nil
	}
	m, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return 0, 0, "", fmt.Errorf("can't determine if we're in the initial user namespace: %w", err)
	}
	if !isInitialUIDMap(string(m)) {
		return uid, gid, "", nil
	}
	uid, gid = nobodyID, nobodyID
	if u, err := user.Lookup("nobody"); err == nil {
		if n, gn, err := accountIDs(u); err == nil {
			uid, gid = n, gn
		}
	}
	return uid, gid, RootWarning, nil
}

// isInitialUIDMap reports whether a uid_map's content is the initial user
// namespace's: the single identity mapping of all 2^32-1 IDs.
func isInitialUIDMap(m string) bool {
	f := strings.Fields(m)
	return len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295"
}

func parseRunas(spec string) (uid, gid uint32, err error) {
	login, group, hasGroup := strings.Cut(spec, ":")
	if login == "" || (hasGroup && group == "") {
		return 0, 0, errors.New("empty user or group")
	}
	if n, err := parseID(login); err == nil {
		uid, gid = uint32(n), uint32(n)
	} else {
		u, err := user.Lookup(login)
		if err != nil {
			return 0, 0, err
		}
		uid, gid, err = accountIDs(u)
		if err != nil {
			return 0, 0, err
		}
		if uid == 0 {
			return 0, 0, errors.New("user name resolves to root")
		}
	}
	if !hasGroup {
		return uid, gid, nil
	}
	if n, err := parseID(group); err == nil {
		return uid, uint32(n), nil
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return 0, 0, err
	}
	n, err := strconv.ParseUint(g.Gid, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("group %s has gid %q", group, g.Gid)
	}
	return uid, uint32(n), nil
}

// parseID reads a numeric ID: decimal, 0x hexadecimal or 0 octal.
func parseID(s string) (uint64, error) {
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		return strconv.ParseUint(s[2:], 16, 32)
	case len(s) > 1 && s[0] == '0':
		return strconv.ParseUint(s[1:], 8, 32)
	}
	return strconv.ParseUint(s, 10, 32)
}

func accountIDs(u *user.User) (uid, gid uint32, err error) {
	n, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("user %s has uid %q", u.Username, u.Uid)
	}
	gn, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("user %s has gid %q", u.Username, u.Gid)
	}
	return uint32(n), uint32(gn), nil
}
