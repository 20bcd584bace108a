/*
 * customer_tier.c — module entry point.
 */
#include "postgres.h"

#include "fmgr.h"

#include "compat.h"
#include "live_trigger.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* The trigger path applies each transaction's deltas at commit. */
void
_PG_init(void)
{
	LiveTriggerInit();
}
