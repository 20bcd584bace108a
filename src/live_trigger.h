/*
 * live_trigger.h — the trigger path's transaction callbacks (live_trigger.c).
 */
#ifndef CUSTOMER_TIER_LIVE_TRIGGER_H
#define CUSTOMER_TIER_LIVE_TRIGGER_H

extern void LiveTriggerInit(void);
extern void CollectPartitionRows(const char *program, Oid relid, bool added);

#endif
