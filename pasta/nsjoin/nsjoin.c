/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SPDX-FileCopyrightText: 2026 passt-go contributors */

/*
 * Joining an existing user and network namespace before the Go runtime
 * starts: see doc.go. setns(CLONE_NEWUSER) is refused to a process with
 * more than one thread, and this constructor runs while there is one.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "nsjoin.h"

struct passt_nsjoin_status passt_nsjoin_status;

/* nsjoin_fd() - parse a descriptor number ending at @end
 * Return: the number, -1 for "-1", or -2 if @s is not one */
static int nsjoin_fd(const char *s, char **end)
{
	long v;

	errno = 0;
	v = strtol(s, end, 10);
	if (errno || *end == s || v < -1 || v > INT_MAX || (v >= 0 && v < 3))
		return -2;
	return (int)v;
}

static void nsjoin_fail(int step, int err)
{
	passt_nsjoin_status.state = NSJOIN_FAILED;
	passt_nsjoin_status.step = step;
	passt_nsjoin_status.err = err ? err : EIO;
}

__attribute__((constructor)) static void passt_nsjoin(void)
{
	const char *marker = getenv(NSJOIN_MARKER);
	const char *fds = getenv(NSJOIN_FDS);
	int userfd, netfd;
	char *end;

	if (!marker || marker[0] != '1' || marker[1] || !fds)
		return;

	userfd = nsjoin_fd(fds, &end);
	if (userfd == -2 || *end != ',') {
		nsjoin_fail(NSJOIN_STEP_PARSE, EINVAL);
		return;
	}
	netfd = nsjoin_fd(end + 1, &end);
	if (netfd < 0 || *end) {
		nsjoin_fail(NSJOIN_STEP_PARSE, EINVAL);
		return;
	}

	/* The user namespace first: it grants the capabilities that joining
	 * a network namespace it owns needs. */
	if (userfd >= 0) {
		if (setns(userfd, CLONE_NEWUSER)) {
			nsjoin_fail(NSJOIN_STEP_USER, errno);
			return;
		}
		close(userfd);
	}
	if (setns(netfd, CLONE_NEWNET)) {
		nsjoin_fail(NSJOIN_STEP_NET, errno);
		return;
	}
	close(netfd);
	passt_nsjoin_status.state = NSJOIN_DONE;
}
