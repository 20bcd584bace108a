/*
 * live_trigger.h — the trigger path's transaction callbacks (live_trigger.c).
 */
#ifndef CUSTOMER_TIER_LIVE_TRIGGER_H
#define CUSTOMER_TIER_LIVE_TRIGGER_H

#include "postgres.h"

#include "commands/trigger.h"

extern void LiveTriggerInit(void);
/*
 * Whether the commit step runs for a PREPARE TRANSACTION (a write of a
 * two-phase transaction, as Citus commits one over several nodes): a
 * prepared transaction may not NOTIFY, so nothing is announced.
 */
extern bool LiveTransactionPreparing(void);
/* The program a trigger serves (its one argument), the trigger protocol checked. */
extern const char *TriggerProgram(FunctionCallInfo fcinfo, const char *function, bool after_statement);
extern void CollectPartitionRows(const char *program, Oid relid, bool added);
/* A TRUNCATE of a Citus shard of a program's customers: the shard group's pending deltas before it go. */
extern void PendShardTruncate(const char *program, Oid customers, Oid customers_shard);
/* What a write of a table beside the orders changed for some customers. */
typedef enum PendingInput
{
	PENDING_SATISFACTION,		/* their answers (live_feedback.c) */
	PENDING_CONTACT				/* their contacts (live_contacts.c) */
} PendingInput;
extern void PendCustomers(const char *program, Oid keytype, const Datum *keys, int n, TriggerEvent event,
						  PendingInput input);
/* Under reject_mode = error, fail the write with the last unusable row's reason and SQLSTATE. */
extern void CheckRejectMode(const char *program, int64 problems, const char *reason,
							const char *sqlstate, const char *what, const char *kept_in);

#endif
