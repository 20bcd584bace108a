/*
 * live_apply.h — the apply step of the trigger path (live_apply.c).
 */
#ifndef CUSTOMER_TIER_LIVE_APPLY_H
#define CUSTOMER_TIER_LIVE_APPLY_H

#include "postgres.h"

#include "executor/spi.h"

/* One customer's net change: the states of its orders added and removed. */
typedef struct CustomerDelta
{
	Datum		key;
	NullableDatum add_purchases;
	NullableDatum remove_purchases;
	NullableDatum add_refunds;
	NullableDatum remove_refunds;
	const char *source;			/* who scores it: changed_by, tier_history.source */
	bool		satisfaction;	/* its answers changed: read its recent satisfaction again */
	bool		contact;		/* its contacts changed: read its last contact again */
	bool		recompute;		/* its orders were too many to keep: recompute it */
} CustomerDelta;

/*
 * Apply a program's deltas, sorted by key (no key twice), to its customers:
 * inside SPI, as customer_tier_owner.
 */
/* Run a kept plan (inside SPI), staying in the caller's memory context; an array of n values of type. */
extern void RunPlan(SPIPlanPtr plan, Datum *args, const char *nulls, int expected);
extern Datum MakeArray(Datum *values, int n, Oid type);

extern void ApplyCustomerDeltas(const char *program, Oid keytype, const CustomerDelta *deltas, int n);

/* Settle the satisfaction rows of the deltas marked satisfaction (live_feedback.c). */
extern void SettleSatisfaction(const char *program, Oid keytype, const CustomerDelta *deltas, int n);

#endif
