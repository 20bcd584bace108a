/*
 * tier_changes.h — recording changes of tier (tier_changes.c).
 */
#ifndef CUSTOMER_TIER_TIER_CHANGES_H
#define CUSTOMER_TIER_TIER_CHANGES_H

#include "postgres.h"


/* One customer's change of tier, as its tier_history row takes it. */
typedef struct TierChange
{
	Datum		customer;
	NullableDatum from_tier;
	NullableDatum to_tier;
	NullableDatum reason;
	NullableDatum source;
} TierChange;

/*
 * Write changes (in order) to the program's tier_history and announce each:
 * one statement, inside SPI, as customer_tier_owner; customers is the
 * program's customers table.
 */
extern void RecordTierChanges(const char *program, Oid customers, const TierChange *changes, int n);

#endif
