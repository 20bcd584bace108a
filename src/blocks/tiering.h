/*
 * tiering.h — the one scoring path from a customer's metrics to a tier.
 *
 * A program's tiers are compiled by customer_tier.tier_rules(program) into a
 * two-dimensional double precision array: one row per tier, best (rank 1)
 * first, one column per condition in the order of TierCondition below.  NaN
 * means "no such condition"; the ABC class is coded 1 = A, 2 = B, 3 = C.  The
 * last row is all NaN (the catch-all), so every customer gets a tier.
 *
 * The triggers and the batch job call the same functions: qualify_tier and
 * next_tier from SQL, or TierQualify and TierNextStep from C.
 */
#ifndef CUSTOMER_TIER_TIERING_H
#define CUSTOMER_TIER_TIERING_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/numeric.h"

/* Columns of the compiled rules, 0-based (SQL subscripts are one more). */
typedef enum TierCondition
{
	TIER_MIN_VALUE_SCORE = 0,
	TIER_MIN_MONETARY,
	TIER_MIN_ORDERS,
	TIER_MIN_TENURE_DAYS,
	TIER_ABC_CLASS,
	TIER_NCONDITIONS
} TierCondition;

/* One customer's metrics; a NULL metric fails every condition on it. */
typedef struct TierMetrics
{
	bool		value_score_null;
	double		value_score;
	bool		monetary_null;
	double		monetary;		/* nearest double of the exact total */
	Numeric		monetary_exact; /* the exact total, or NULL if only the double is known */
	bool		orders_null;
	int64		orders;
	bool		tenure_null;
	double		tenure_days;
	int			abc_class;		/* 1 = A, 2 = B, 3 = C, 0 = NULL */
} TierMetrics;

/* Why next_tier chose its rank; the names are what next_tier returns. */
typedef enum TierReason
{
	TIER_REASON_PINNED,
	TIER_REASON_NEW,
	TIER_REASON_UPGRADE,
	TIER_REASON_UNCHANGED,
	TIER_REASON_DOWNGRADE_PENDING,
	TIER_REASON_DOWNGRADE
} TierReason;

/* A customer's tier with its pending downgrade, as kept between runs. */
typedef struct TierState
{
	bool		has_rank;		/* false: the customer has no tier yet */
	int32		rank;
	bool		pending;		/* a downgrade is pending since pending_since */
	TimestampTz pending_since;
} TierState;

extern const double *TierCheckRules(ArrayType *rules, int *ntiers);
extern int	TierQualify(const double *rules, int ntiers, const TierMetrics *metrics);
extern TierReason TierNextStep(const TierState *current, int32 qualified_rank,
							   bool pinned, int32 pinned_rank, const Interval *grace,
							   TimestampTz as_of, TierState *next);
extern const char *TierReasonName(TierReason reason);
extern int32 TierQualifyArgs(const NullableDatum *args);
extern int32 TierQualifyModelArgs(const NullableDatum *args);
extern TierReason TierNextArgs(const NullableDatum *args, TierState *next);

#endif							/* CUSTOMER_TIER_TIERING_H */
