// SPDX-License-Identifier: GPL-2.0-or-later
// SPDX-FileCopyrightText: 2026 passt-go contributors

package pasta

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// explainSpawn adds to a failure to create or prepare the namespaces what
// a system setting says about it, when one does: user namespaces turned
// off (user.max_user_namespaces is 0), unprivileged ones turned off
// (kernel.unprivileged_userns_clone, a Debian and Ubuntu switch) or
// restricted by AppArmor (kernel.apparmor_restrict_unprivileged_userns),
// or the limit reached. procRoot is where /proc is mounted; euid is the
// caller's. The result stays one line.
func explainSpawn(err error, procRoot string, euid int) error {
	if hint := spawnHint(err, procRoot, euid); hint != "" {
		return fmt.Errorf("%w (%s)", err, hint)
	}
	return err
}

func spawnHint(err error, procRoot string, euid int) string {
	denied := errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) ||
		strings.Contains(err.Error(), unix.EPERM.Error()) || strings.Contains(err.Error(), unix.EACCES.Error())
	full := errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EUSERS)
	if !denied && !full {
		return ""
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(procRoot, "sys", name))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	if read("user/max_user_namespaces") == "0" {
		return "user namespaces are disabled: user.max_user_namespaces is 0"
	}
	if euid != 0 {
		if read("kernel/unprivileged_userns_clone") == "0" {
			return "unprivileged user namespaces are disabled: kernel.unprivileged_userns_clone is 0"
		}
		if read("kernel/apparmor_restrict_unprivileged_userns") == "1" {
			return "AppArmor restricts unprivileged user namespaces: kernel.apparmor_restrict_unprivileged_userns is 1, " +
				"and only a profile that allows userns (contrib/apparmor) lifts it for pasta"
		}
	}
	if full {
		return "the limit of user namespaces, user.max_user_namespaces, is reached"
	}
	return ""
}
