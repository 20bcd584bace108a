/*
 * order_stats.h — the order_stats aggregate's state, shared between the
 * aggregate functions (order_stats.c) and the state type (order_stats_state.c).
 *
 * While an aggregate runs, its state is an expanded object that lives in the
 * aggregate's memory context and is updated in place, one O(1) append per
 * row.  The flat varlena form exists only when the state leaves the node that
 * owns it: shipped from a parallel worker, printed as text, stored.
 */
#ifndef CUSTOMER_TIER_ORDER_STATS_H
#define CUSTOMER_TIER_ORDER_STATS_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "utils/expandeddatum.h"

#include "compat.h"
#include "money.h"

/* Which SQL type fed the order times; states of different kinds never mix. */
typedef enum OrderTimeKind
{
	ORDER_TIME_TIMESTAMPTZ = 1,
	ORDER_TIME_TIMESTAMP = 2,
	ORDER_TIME_DATE = 3
} OrderTimeKind;

/*
 * The in-memory (expanded) state: exactly 128 bytes, an AllocSet chunk size,
 * because memory per group decides when hash aggregation spills to disk.
 */
typedef struct OrderStatsState
{
	ExpandedObjectHeader hdr;
	MoneySum	sum;			/* exact total of the amounts */
	int64		norders;		/* rows counted; also the length of times[] */
	int64		capacity;		/* allocated length of times[] */
	int64	   *times;			/* microseconds; dates are midnight timestamps */
	int64		last_time;		/* times[norders - 1], kept here to spare a cache miss */
	MemoryContext memcxt;		/* the aggregate context, which owns this memory */
	int16		timekind;		/* OrderTimeKind */
	bool		sorted;			/* times[] is in ascending order */
} OrderStatsState;

/* A read-only look at a state, expanded or flat. */
typedef struct OrderStatsView
{
	int32		timekind;
	bool		sorted;
	MoneySum	sum;			/* sum.slow may point into a flat datum */
	int64		norders;
	int64	   *times;			/* may point into a flat datum */
	OrderStatsState *expanded;	/* the expanded object, or NULL if flat */
} OrderStatsView;

extern const ExpandedObjectMethods OrderStatsMethods;

extern OrderStatsState *OrderStatsCreate(MemoryContext aggcxt, int timekind);
extern OrderStatsState *OrderStatsExpandCopy(const OrderStatsView *view, MemoryContext aggcxt);
extern void OrderStatsGetView(Datum state, OrderStatsView *view);
extern void OrderStatsReserve(OrderStatsState *state, int64 extra);
extern const char *OrderTimeKindName(int kind);
extern double TimeSpan(int64 later, int64 earlier);
extern Datum OrderStatsMergeStates(const Datum *states, int n);
extern NullableDatum OrderStatsSubtract(Datum stored, Datum removed);
extern bool OrderStatsHolds(Datum stored, Datum removed);

/* Columns of the order_stats result: orders, monetary, first_order, last_order, mean and stddev of gaps. */
#define ORDER_STATS_RESULT_COLUMNS 6
extern void OrderStatsResult(const OrderStatsView *view, Datum *values, bool *nulls);
/* The same columns for a customer's purchases and refunds (NULL: none), refunds in monetary. */
extern void CustomerMetrics(NullableDatum purchases, NullableDatum refunds, Datum *values, bool *nulls);

/* Append one order time; the caller has checked that it is finite. */
static inline void
OrderStatsAppend(OrderStatsState *state, int64 t)
{
	if (unlikely(state->norders == state->capacity))
		OrderStatsReserve(state, 1);
	/*
	 * Input that arrives in time order is never sorted again.  The previous
	 * time is read from the state, not times[]: a store into times[] does not
	 * stall on a cache miss, a load would.
	 */
	if (t < state->last_time && state->norders > 0)
		state->sorted = false;
	state->last_time = t;
	state->times[state->norders++] = t;
}

#endif							/* CUSTOMER_TIER_ORDER_STATS_H */
