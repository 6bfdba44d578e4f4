/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SPDX-FileCopyrightText: 2026 passt-go contributors */

/*
 * Confinement of the worker before the Go runtime starts: see doc.go for
 * the order of steps and why they happen here. This file runs while the
 * process has exactly one thread, which is what unshare(CLONE_NEWUSER)
 * requires and what makes the capability drop reach every later thread.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "status.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#endif
#ifndef PR_CAP_AMBIENT_CLEAR_ALL
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* Highest capability number we try to drop; the kernel answers EINVAL above
 * its own last capability, which ends the loop earlier. */
#define NSINIT_CAP_MAX 63

/* Read by sandbox.Confined() through a weak reference. */
struct passt_nsinit_status passt_nsinit_status;

/* Directories the empty tmpfs may be mounted on, first that works wins.
 * The mount happens in the worker's own mount namespace, so the host
 * never sees it. */
static const char *const nsinit_mountpoints[] = {
	"/tmp", "/mnt", "/run", "/dev", NULL,
};

static int nsinit_fail_at = -1;

/* nsinit_record() - note the first failing step and its errno */
static void nsinit_record(int step, int err)
{
	if (passt_nsinit_status.step == NSINIT_STEP_NONE) {
		passt_nsinit_status.step = step;
		passt_nsinit_status.err = err ? err : EIO;
	}
}

/* nsinit_forced() - whether testhooks make @step fail without running it
 * Return: 1, with errno set to EPERM, if so; 0 otherwise */
static int nsinit_forced(int step)
{
	if (step != nsinit_fail_at)
		return 0;
	errno = EPERM;
	return 1;
}

/* NSINIT_RUN() - run @call as @step, unless forced to fail; record failure
 * Return: 0 if the step succeeded, -1 if it failed */
#define NSINIT_RUN(step, call) \
	nsinit_check((step), nsinit_forced(step) ? -1L : (long)(call))

/* nsinit_check() - record a failure of @step if @rc is negative
 * Return: 0 if the step succeeded, -1 if it failed */
static int nsinit_check(int step, long rc)
{
	if (rc < 0) {
		nsinit_record(step, errno);
		return -1;
	}
	return 0;
}

/* nsinit_arenas() - keep glibc malloc from reading files later
 *
 * A thread's first malloc or free may create a new arena; past a few, glibc
 * sizes its limit from the CPU count, read from /sys, which is gone after
 * the pivot and forbidden by the seccomp filter. With an explicit limit it
 * never asks. The worker's C allocations are few (thread start-up), so one
 * arena is plenty.
 * Return: 0 on success, -1 after recording the failure */
static int nsinit_arenas(void)
{
	errno = EINVAL;	/* mallopt() reports failure without errno */
	return NSINIT_RUN(NSINIT_STEP_ARENAS,
			  mallopt(M_ARENA_MAX, 1) == 1 ? 0 : -1);
}

/* nsinit_isolate() - own namespaces and an empty, read-only root
 * Return: 0 on success, -1 after recording the failed step */
static int nsinit_isolate(void)
{
	const unsigned long flags = MS_RDONLY | MS_NODEV | MS_NOEXEC |
				    MS_NOSUID;
	const char *opts = "size=4k,nr_inodes=2,mode=0555";
	const char *const *mp;
	int rc = -1, err = ENOENT;

	if (NSINIT_RUN(NSINIT_STEP_UNSHARE,
		       unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC |
			       CLONE_NEWUTS)))
		return -1;

	/* Nothing we do below may propagate back to the host's mounts, and
	 * pivot_root() refuses shared parents. */
	if (NSINIT_RUN(NSINIT_STEP_PRIVATE,
		       mount("", "/", NULL, MS_REC | MS_UNBINDABLE, NULL)))
		return -1;

	mp = nsinit_mountpoints;
	if (nsinit_forced(NSINIT_STEP_MOUNT))
		err = errno;
	else
		for (; *mp; mp++) {
			rc = mount("tmpfs", *mp, "tmpfs", flags, opts);
			if (!rc)
				break;
			err = errno;
		}
	if (rc)
		errno = err;
	if (nsinit_check(NSINIT_STEP_MOUNT, rc))
		return -1;

	if (NSINIT_RUN(NSINIT_STEP_CHDIR, chdir(*mp)))
		return -1;

	/* The old root ends up stacked on ".", then goes away entirely. */
	if (NSINIT_RUN(NSINIT_STEP_PIVOT, syscall(SYS_pivot_root, ".", ".")))
		return -1;

	if (NSINIT_RUN(NSINIT_STEP_DETACH, umount2(".", MNT_DETACH)))
		return -1;

	if (NSINIT_RUN(NSINIT_STEP_CHDIR_ROOT, chdir("/")))
		return -1;

	return 0;
}

/* nsinit_drop() - leave no capability in any set, no way to gain one
 * Every step runs even if an earlier one failed; the first failure is
 * recorded. */
static void nsinit_drop(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[2];
	int cap, rc = 0;

	if (nsinit_forced(NSINIT_STEP_BOUNDING))
		rc = -1;
	for (cap = 0; !rc && cap <= NSINIT_CAP_MAX; cap++) {
		rc = prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
		if (rc < 0 && errno == EINVAL && cap > 0) {
			rc = 0;	/* past the kernel's last capability */
			break;
		}
	}
	nsinit_check(NSINIT_STEP_BOUNDING, rc);

	rc = nsinit_forced(NSINIT_STEP_AMBIENT) ? -1 :
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (rc < 0 && errno == EINVAL)
		rc = 0;	/* no ambient set in this kernel: nothing to clear */
	nsinit_check(NSINIT_STEP_AMBIENT, rc);

	memset(data, 0, sizeof(data));
	NSINIT_RUN(NSINIT_STEP_CAPSET, syscall(SYS_capset, &hdr, data));

	NSINIT_RUN(NSINIT_STEP_NO_NEW_PRIVS,
		   prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));

	NSINIT_RUN(NSINIT_STEP_DUMPABLE, prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
}

/* nsinit_verify() - capget and the bounding set show nothing left
 * Return: 0 if clean, -1 otherwise (recorded) */
static int nsinit_verify(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[2];
	int cap, i;

	memset(data, 0, sizeof(data));
	if (NSINIT_RUN(NSINIT_STEP_VERIFY, syscall(SYS_capget, &hdr, data)))
		return -1;
	for (i = 0; i < 2; i++) {
		if (data[i].effective || data[i].permitted ||
		    data[i].inheritable) {
			errno = EPERM;
			return nsinit_check(NSINIT_STEP_VERIFY, -1);
		}
	}
	for (cap = 0; cap <= NSINIT_CAP_MAX; cap++) {
		int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (in < 0)
			break;	/* EINVAL: past the last capability */
		if (in > 0) {
			errno = EPERM;
			return nsinit_check(NSINIT_STEP_VERIFY, -1);
		}
	}
	return 0;
}

/* nsinit() - constructor: confine the worker if, and only if, the marker is
 * set. Runs before main(), hence before the Go runtime creates threads. */
__attribute__((constructor)) static void nsinit(void)
{
	const char *marker = getenv(NSINIT_MARKER);
	int pdeathsig = 0;
	pid_t ppid;

	if (!marker || strcmp(marker, "1")) {
		passt_nsinit_status.state = NSINIT_SKIPPED;
		return;
	}

#ifdef NSINIT_TESTHOOKS
	{
		const char *at = getenv(NSINIT_FAIL_AT);

		if (at && *at)
			nsinit_fail_at = atoi(at);
	}
#endif

	ppid = getppid();
	if (prctl(PR_GET_PDEATHSIG, &pdeathsig, 0, 0, 0) < 0)
		pdeathsig = 0;

	/* On failure the namespace steps stop, but the drop still runs:
	 * whatever happens next, no capability is left. */
	if (!nsinit_arenas())
		nsinit_isolate();
	nsinit_drop();

	/* Credential changes can clear the parent-death signal: set it
	 * again, and act on it if the parent already went away. */
	if (pdeathsig &&
	    !NSINIT_RUN(NSINIT_STEP_PDEATHSIG,
			prctl(PR_SET_PDEATHSIG, pdeathsig, 0, 0, 0)) &&
	    getppid() != ppid)
		kill(getpid(), pdeathsig);

	nsinit_verify();

	passt_nsinit_status.state =
		passt_nsinit_status.step == NSINIT_STEP_NONE ? NSINIT_DONE :
							       NSINIT_FAILED;
}
