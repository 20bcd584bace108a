/*
 * compat.h — PostgreSQL version differences, in one place.
 *
 * The extension targets PostgreSQL 15; anything that differs in later
 * versions is wrapped here so that the rest of the code never tests
 * PG_VERSION_NUM itself.
 */
#ifndef CUSTOMER_TIER_COMPAT_H
#define CUSTOMER_TIER_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "customer_tier requires PostgreSQL 15 or later"
#endif

#ifndef HAVE_INT128
#error "customer_tier needs a compiler with a 128-bit integer type"
#endif

/* Executor state for writing a table directly (live_rows.c): PostgreSQL 16 added permission infos. */
#if PG_VERSION_NUM >= 160000
#define CompatExecInitRangeTable(estate, rtable) ExecInitRangeTable((estate), (rtable), NIL)
#define CompatEvalPlanQualInit(epq, estate) EvalPlanQualInit((epq), (estate), NULL, NIL, -1, NIL)
#else
#define CompatExecInitRangeTable(estate, rtable) ExecInitRangeTable((estate), (rtable))
#define CompatEvalPlanQualInit(epq, estate) EvalPlanQualInit((epq), (estate), NULL, NIL, -1)
#endif

/* This backend's local transaction id (needs storage/proc.h): PostgreSQL 17 moved it into vxid. */
#if PG_VERSION_NUM >= 170000
#define CompatLocalTransactionId() (MyProc->vxid.lxid)
#else
#define CompatLocalTransactionId() (MyProc->lxid)
#endif

#endif							/* CUSTOMER_TIER_COMPAT_H */
