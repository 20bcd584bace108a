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

/*
 * Executor state for writing one table directly (live_rows.c), with the
 * columns an update sets (UPDATE OF triggers read them): PostgreSQL 16 moved
 * them from the range table entry to its permission info.
 */
#if PG_VERSION_NUM >= 160000
#define CompatExecInitRangeTable(estate, rte, updated) \
	do { \
		List	   *perms_ = NIL; \
		addRTEPermissionInfo(&perms_, (rte))->updatedCols = (updated); \
		ExecInitRangeTable((estate), list_make1(rte), perms_); \
	} while (0)
#define CompatEvalPlanQualInit(epq, estate) EvalPlanQualInit((epq), (estate), NULL, NIL, -1, NIL)
#else
#define CompatExecInitRangeTable(estate, rte, updated) \
	do { \
		(rte)->updatedCols = (updated); \
		ExecInitRangeTable((estate), list_make1(rte)); \
	} while (0)
#define CompatEvalPlanQualInit(epq, estate) EvalPlanQualInit((epq), (estate), NULL, NIL, -1)
#endif

#endif							/* CUSTOMER_TIER_COMPAT_H */
