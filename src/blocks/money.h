/*
 * money.h — exact accumulation of monetary amounts.
 *
 * A MoneySum holds a running total that always equals the exact decimal sum
 * of what was added to it.  Most amounts take the fast path: an __int128
 * holding the total times 10^scale, where scale is the largest display scale
 * seen so far.  Amounts that do not fit, and totals that would overflow, are
 * moved to a numeric accumulator instead, so nothing ever wraps or rounds.
 */
#ifndef CUSTOMER_TIER_MONEY_H
#define CUSTOMER_TIER_MONEY_H

#include "postgres.h"

#include "utils/numeric.h"

#include "compat.h"

/* Largest scale the fast path keeps: 10^38 is the last power of ten in int128. */
#define MONEY_FAST_MAX_SCALE 38

typedef struct MoneySum
{
	int128		fast;			/* total of the fast-path amounts, times 10^scale */
	Numeric		slow;			/* NULL, or the exact total of everything else */
	int32		scale;			/* decimal scale of fast, 0..MONEY_FAST_MAX_SCALE */
} MoneySum;

extern void MoneySumInit(MoneySum *sum);
extern void CheckAmountNumeric(Numeric value);
extern void CheckAmountFloat8(float8 value);
extern int	MoneyCashScale(void);
extern void MoneySumAddNumeric(MoneySum *sum, struct varlena *value, MemoryContext cxt);
extern void MoneySumAddScaledInt64(MoneySum *sum, int64 value, int scale, MemoryContext cxt);
extern void MoneySumAddFloat8(MoneySum *sum, float8 value, MemoryContext cxt);
extern void MoneySumMerge(MoneySum *sum, const MoneySum *other, MemoryContext cxt);
extern Numeric MoneySumResult(const MoneySum *sum);
extern Numeric Int128ToNumeric(int128 value, int scale);
extern double NumericToDouble(Numeric value);

#endif							/* CUSTOMER_TIER_MONEY_H */
