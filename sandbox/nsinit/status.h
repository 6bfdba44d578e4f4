/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SPDX-FileCopyrightText: 2026 passt-go contributors */

/*
 * Result of the worker's start-up confinement, written once by the
 * constructor in nsinit.c before the Go runtime starts, read by
 * sandbox.Confined() through a weak reference (so that a binary without
 * sandbox/nsinit links, and reports that the constructor is missing).
 */

#ifndef PASST_NSINIT_STATUS_H
#define PASST_NSINIT_STATUS_H

/* Environment variable that must be "1" for the constructor to act. */
#define NSINIT_MARKER "PASST_GO_NSINIT"

/* Environment variable naming a step to fail on purpose (testhooks builds). */
#define NSINIT_FAIL_AT "PASST_GO_NSINIT_FAIL_AT"

/* Values of passt_nsinit_status.state. Zero: the constructor never ran. */
#define NSINIT_NOT_RUN	0
#define NSINIT_SKIPPED	1	/* ran, marker absent: did nothing */
#define NSINIT_DONE	2	/* every step succeeded */
#define NSINIT_FAILED	3	/* a step failed: see step and err */

/* Steps, in the order the constructor takes them. */
#define NSINIT_STEP_NONE          0
#define NSINIT_STEP_ARENAS        1   /* one malloc arena: glibc never counts CPUs */
#define NSINIT_STEP_UNSHARE       2   /* unshare user, mount, IPC, UTS */
#define NSINIT_STEP_PRIVATE       3   /* make / recursively unbindable */
#define NSINIT_STEP_MOUNT         4   /* mount the empty tmpfs */
#define NSINIT_STEP_CHDIR         5   /* chdir into the tmpfs */
#define NSINIT_STEP_PIVOT         6   /* pivot_root(".", ".") */
#define NSINIT_STEP_DETACH        7   /* detach the old root */
#define NSINIT_STEP_CHDIR_ROOT    8   /* chdir("/") */
#define NSINIT_STEP_BOUNDING      9   /* empty the bounding set */
#define NSINIT_STEP_AMBIENT       10  /* empty the ambient set */
#define NSINIT_STEP_CAPSET        11  /* empty effective, permitted, inheritable */
#define NSINIT_STEP_NO_NEW_PRIVS  12  /* PR_SET_NO_NEW_PRIVS */
#define NSINIT_STEP_DUMPABLE      13  /* PR_SET_DUMPABLE 0 */
#define NSINIT_STEP_PDEATHSIG     14  /* restore the parent-death signal */
#define NSINIT_STEP_VERIFY        15  /* a capability is left after the drop */
#define NSINIT_STEP_COUNT         16

struct passt_nsinit_status {
	int state;	/* NSINIT_NOT_RUN ... NSINIT_FAILED */
	int step;	/* first failed step, NSINIT_STEP_NONE if none */
	int err;	/* errno of that step */
};

#endif /* PASST_NSINIT_STATUS_H */
