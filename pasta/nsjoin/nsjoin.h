/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SPDX-FileCopyrightText: 2026 passt-go contributors */

/*
 * Result of joining pasta's target namespaces, written once by the
 * constructor in nsjoin.c before the Go runtime starts and read by
 * nsjoin.Result().
 */

#ifndef PASST_NSJOIN_H
#define PASST_NSJOIN_H

/* Both must be set for the constructor to act: the first to "1", the
 * second to "USERFD,NETFD" (USERFD -1 to join the network namespace only). */
#define NSJOIN_MARKER	"PASST_GO_PASTA_KEEPER"
#define NSJOIN_FDS	"PASST_GO_NSJOIN"

/* Values of passt_nsjoin_status.state. Zero: nothing was asked. */
#define NSJOIN_NOT_ASKED	0
#define NSJOIN_DONE		1	/* joined every namespace asked for */
#define NSJOIN_FAILED		2	/* see step and err */

/* Steps, in order. */
#define NSJOIN_STEP_NONE	0
#define NSJOIN_STEP_PARSE	1	/* NSJOIN_FDS is malformed */
#define NSJOIN_STEP_USER	2	/* setns(CLONE_NEWUSER) */
#define NSJOIN_STEP_NET		3	/* setns(CLONE_NEWNET) */

struct passt_nsjoin_status {
	int state;
	int step;
	int err;
};

#endif /* PASST_NSJOIN_H */
