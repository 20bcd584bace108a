/*
 * live_trigger.h — the trigger path's transaction callbacks (live_trigger.c).
 */
#ifndef CUSTOMER_TIER_LIVE_TRIGGER_H
#define CUSTOMER_TIER_LIVE_TRIGGER_H

#include "postgres.h"

#include "commands/trigger.h"

extern void LiveTriggerInit(void);
extern void CollectPartitionRows(const char *program, Oid relid, bool added);
extern void PendSatisfaction(const char *program, Oid keytype, const Datum *keys, int n,
							 TriggerEvent event);
/* Under reject_mode = error, fail the write with the last unusable row's reason and SQLSTATE. */
extern void CheckRejectMode(const char *program, int64 problems, const char *reason,
							const char *sqlstate, const char *what, const char *kept_in);

#endif
