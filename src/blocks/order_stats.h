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
#include "nodes/memnodes.h"
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
 * What every state of one aggregate context shares (order_stats_state.c):
 * the empty child context that each names as its eoh_context, and whether it
 * is still there.
 */
typedef struct OrderStatsMarker
{
	MemoryContext aggcxt;		/* owns the states, their times and this */
	MemoryContext marker;		/* the states' eoh_context */
	bool		gone;			/* the marker was deleted */
	MemoryContextCallback on_delete;
} OrderStatsMarker;

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
	OrderStatsMarker *marker;	/* marker->aggcxt owns this memory */
	int16		timekind;		/* OrderTimeKind */
	bool		sorted;			/* times[] is in ascending order */
} OrderStatsState;

extern void OrderStatsMemoryChanged(const OrderStatsState *state) pg_attribute_noreturn();

/*
 * A state about to be updated in place still lives where it was made: its
 * marker was neither deleted (DeleteExpandedObject) nor moved to another
 * parent (TransferExpandedObject).  The executors of PostgreSQL 15 do
 * neither to a state that its transition function returns unchanged; a
 * version that did would free or move every state of the group set at once,
 * and this check turns that into an error on the next row instead.
 */
static inline void
OrderStatsCheckMemory(const OrderStatsState *state)
{
	if (unlikely(state->marker->gone || state->marker->marker->parent != state->marker->aggcxt))
		OrderStatsMemoryChanged(state);
}

/* The longest horizon: two frequency windows of a century (churn settings). */
#define ORDER_STATS_MAX_HORIZON 73050

/* The orders of one UTC day, in a bounded state. */
typedef struct OrderDayCount
{
	int32		day;			/* days since 2000-01-01, UTC */
	int32		orders;			/* stored in 2 to 10 bytes (order_stats_state.c) */
} OrderDayCount;

/*
 * What every metric is computed from, and all that a bounded (stored) state
 * keeps: its size depends on the horizon, never on the number of orders.
 * The day counts cover the days in (last's day - horizon, last's day].
 */
typedef struct OrderSummary
{
	int32		timekind;
	int64		norders;
	MoneySum	sum;
	int64		first;
	int64		last;
	int64		before_last;	/* the second latest time; first with one order */
	uint128		gap_squares;	/* exact sum of the squared gaps, in microseconds^2 */
	int32		horizon;		/* days of day counts kept */
	int32		ndays;
	OrderDayCount *days;		/* ascending; may point into a flat datum */
} OrderSummary;

/* A read-only look at a state, expanded or flat, holding its times or bounded. */
typedef struct OrderStatsView
{
	int32		timekind;
	bool		sorted;
	bool		bounded;		/* times is NULL; summary holds everything */
	MoneySum	sum;			/* sum.slow may point into a flat datum */
	int64		norders;
	int64	   *times;			/* may point into a flat datum */
	OrderStatsState *expanded;	/* the expanded object, or NULL if flat */
	OrderSummary summary;		/* when bounded */
} OrderStatsView;

extern const ExpandedObjectMethods OrderStatsMethods;

extern OrderStatsState *OrderStatsCreate(MemoryContext aggcxt, int timekind);
extern OrderStatsState *OrderStatsExpandCopy(const OrderStatsView *view, MemoryContext aggcxt);
extern void OrderStatsGetView(Datum state, OrderStatsView *view);
extern void OrderStatsReserve(OrderStatsState *state, int64 extra);
extern const char *OrderTimeKindName(int kind);
extern double TimeSpan(int64 later, int64 earlier);
extern void SortOrderTimes(int64 *times, int64 n);
extern Datum OrderStatsMergeStates(const Datum *states, int n);

/* Bounded states (order_summary.c and the flat form in order_stats_state.c). */
extern void OrderStatsRequireTimes(const OrderStatsView *view, const char *what);
extern void OrderStatsGetSummary(const OrderStatsView *view, int32 horizon, OrderSummary *s);
extern bool OrderSummaryAdd(OrderSummary *s, const OrderSummary *added);
extern Datum OrderSummaryFlatten(const OrderSummary *s);
extern void OrderSummaryWindows(const OrderSummary *s, int64 as_of, int32 window_days,
								int64 *recent, int64 *previous);
extern int64 OrderDayOf(int64 t);
extern bool OrderSummarySame(const OrderSummary *a, const OrderSummary *b);
extern void OrderSummaryResult(const OrderSummary *s, Datum *values, bool *nulls);

/* What becomes of a customer's stored state when a transaction's delta is applied (in rising severity). */
typedef enum DeltaOutcome
{
	DELTA_APPLIED,				/* *result is the new state (NULL: no orders) */
	DELTA_RECOMPUTE,			/* a bounded state cannot take it: recompute the customer */
	DELTA_DRIFT					/* removed orders the state cannot hold: drift, recompute */
} DeltaOutcome;
extern DeltaOutcome OrderStatsApplyDelta(NullableDatum stored, NullableDatum added,
										 NullableDatum removed, int32 horizon,
										 NullableDatum *result);

/* Times of a customer's orders a transaction keeps per kind of delta (OrderStatsFoldDeltas). */
#define DELTA_TIMES_KEPT 64
extern bool OrderStatsFoldDeltas(const Datum *states, int n, int32 horizon, bool bounded, Datum *result);

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
