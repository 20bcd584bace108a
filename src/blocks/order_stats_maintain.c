/*
 * order_stats_maintain.c — merging and subtracting stored order_stats states
 * outside an aggregate.
 *
 * A program keeps each customer's order_stats_state in a table.  Its triggers
 * aggregate the rows a statement inserted or deleted into a delta state and
 * apply it to the stored one: merge for inserted orders, subtract for deleted
 * ones (an update is both).  Both are exact: the total is an exact decimal,
 * and the order times are a multiset from which exactly the deleted times are
 * removed, so the stored state always equals a from-scratch aggregate.
 *
 * The results are flat values built in the caller's memory context: they are
 * stored at once, and a flat value has no owner to transfer.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/float.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "compat.h"
#include "result_desc.h"
#include "money.h"
#include "order_stats.h"

/* States fed by different time types never mix (a timestamp is not a timestamptz). */
static void
CheckSameTimeKind(const OrderStatsView *a, const OrderStatsView *b)
{
	if (a->timekind != b->timekind)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot combine order_stats states of %s and %s orders",
						OrderTimeKindName(a->timekind), OrderTimeKindName(b->timekind))));
}

/* The flat form of an expanded state, allocated in the caller's context. */
static Datum
FlattenState(OrderStatsState *state, MemoryContext target)
{
	Size		size = EOH_get_flat_size(&state->hdr);
	void	   *flat = MemoryContextAllocHuge(target, size);

	EOH_flatten_into(&state->hdr, flat, size);
	return PointerGetDatum(flat);
}

/* The order times of a view, sorted, in a copy owned by the current context if needed. */
static int64 *
SortedTimes(const OrderStatsView *view)
{
	int64	   *times = view->times;

	if (!view->sorted)
	{
		times = palloc_extended(view->norders * sizeof(int64), MCXT_ALLOC_HUGE);
		memcpy(times, view->times, view->norders * sizeof(int64));
		SortOrderTimes(times, view->norders);
	}
	return times;
}

/* Add -other to sum: subtraction of an exact total. */
static void
MoneySumSubtract(MoneySum *sum, const MoneySum *other, MemoryContext cxt)
{
	MoneySum	negated = *other;

	negated.slow = NULL;
	if (other->fast == -other->fast && other->fast != 0)
	{
		/* INT128_MIN, the one value without a negation, goes the exact slow way */
		Numeric		n = Int128ToNumeric(other->fast, other->scale);

		negated.fast = 0;
		negated.slow = DatumGetNumeric(DirectFunctionCall1(numeric_uminus, NumericGetDatum(n)));
	}
	else
		negated.fast = -other->fast;
	if (other->slow != NULL)
	{
		Numeric		minus_slow = DatumGetNumeric(DirectFunctionCall1(numeric_uminus,
																	 NumericGetDatum(other->slow)));

		negated.slow = negated.slow == NULL ? minus_slow :
			numeric_add_opt_error(negated.slow, minus_slow, NULL);
	}
	MoneySumMerge(sum, &negated, cxt);
}

/*
 * The flat state of the orders of n flat states, in the current context,
 * built in one pass: the trigger path merges all the deltas of a customer at
 * once, where merging them pairwise would copy the growing state each time.
 */
Datum
OrderStatsMergeStates(const Datum *states, int n)
{
	MemoryContext target = CurrentMemoryContext;
	MemoryContext work;
	OrderStatsView first;
	OrderStatsState *state;
	Datum		result;

	OrderStatsGetView(states[0], &first);
	OrderStatsRequireTimes(&first, "merging order_stats states");
	work = AllocSetContextCreate(CurrentMemoryContext, "order_stats_state_merge",
								 ALLOCSET_DEFAULT_SIZES);
	state = OrderStatsExpandCopy(&first, work);
	for (int k = 1; k < n; k++)
	{
		OrderStatsView b;

		OrderStatsGetView(states[k], &b);
		OrderStatsRequireTimes(&b, "merging order_stats states");
		CheckSameTimeKind(&first, &b);
		OrderStatsReserve(state, b.norders);
		for (int64 i = 0; i < b.norders; i++)
			OrderStatsAppend(state, b.times[i]);
		MoneySumMerge(&state->sum, &b.sum, state->hdr.eoh_context);
	}
	result = FlattenState(state, target);
	MemoryContextDelete(work);
	return result;
}

PG_FUNCTION_INFO_V1(order_stats_state_merge);
/* The state of all the orders of both states; NULL stands for no orders. */
Datum
order_stats_state_merge(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_ARGISNULL(0) ? PG_GETARG_DATUM(1) : PG_GETARG_DATUM(0));
	}
	{
		Datum		both[2] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)};

		PG_RETURN_DATUM(OrderStatsMergeStates(both, 2));
	}
}

/*
 * The state a without the orders of b (both not NULL), or NULL when no order
 * is left.  Every removed order time must be in a: anything else means the
 * stored state no longer matches the orders, which must fail loudly.
 */
static NullableDatum
OrderStatsSubtract(Datum stored, Datum removed)
{
	MemoryContext target = CurrentMemoryContext;
	MemoryContext work;
	OrderStatsView a;
	OrderStatsView b;
	OrderStatsState *state;
	int64	   *have;
	int64	   *gone;
	int64		kept = 0;
	int64		j = 0;
	NullableDatum result = {.value = (Datum) 0, .isnull = true};

	OrderStatsGetView(removed, &b);
	OrderStatsGetView(stored, &a);
	OrderStatsRequireTimes(&a, "order_stats_state_subtract");
	OrderStatsRequireTimes(&b, "order_stats_state_subtract");
	CheckSameTimeKind(&a, &b);
	if (b.norders > a.norders)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("cannot remove %lld orders from an order_stats state of %lld orders",
						(long long) b.norders, (long long) a.norders),
				 errhint("The maintained state no longer matches the orders; rebuild the program.")));

	work = AllocSetContextCreate(CurrentMemoryContext, "order_stats_state_subtract",
								 ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	have = SortedTimes(&a);
	gone = SortedTimes(&b);
	state = OrderStatsCreate(work, a.timekind);
	OrderStatsReserve(state, a.norders);
	for (int64 i = 0; i < a.norders; i++)
	{
		if (j < b.norders && gone[j] == have[i])
			j++;				/* this occurrence is removed */
		else
			state->times[kept++] = have[i];
	}
	if (j < b.norders)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("cannot remove an order that the order_stats state does not hold"),
				 errhint("The maintained state no longer matches the orders; rebuild the program.")));
	if (kept > 0)
	{
		state->norders = kept;
		state->sorted = true;
		state->last_time = state->times[kept - 1];
		state->sum = a.sum;
		if (a.sum.slow != NULL)
			state->sum.slow = DatumGetNumericCopy(NumericGetDatum(a.sum.slow));
		MoneySumSubtract(&state->sum, &b.sum, state->hdr.eoh_context);
		result.value = FlattenState(state, target);
		result.isnull = false;
	}
	/* with no order left the customer has no metrics */
	MemoryContextSwitchTo(target);
	MemoryContextDelete(work);
	return result;
}

PG_FUNCTION_INFO_V1(order_stats_state_subtract);
/* SQL: the state without the orders of the second one (OrderStatsSubtract); NULL stands for no orders. */
Datum
order_stats_state_subtract(PG_FUNCTION_ARGS)
{
	NullableDatum result;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (PG_ARGISNULL(0))
	{
		OrderStatsView b;

		OrderStatsGetView(PG_GETARG_DATUM(1), &b);
		if (b.norders == 0)
			PG_RETURN_NULL();
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("cannot remove %lld orders from an order_stats state of 0 orders",
						(long long) b.norders),
				 errhint("The maintained state no longer matches the orders; rebuild the program.")));
	}
	result = OrderStatsSubtract(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1));
	if (result.isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result.value);
}

/*
 * A customer's metrics from the stored states of its purchases and refunds:
 * the order_stats columns of the purchases, with the refunds (negative
 * amounts) added to the monetary value.  A refund is not an order.
 */
void
CustomerMetrics(NullableDatum purchases, NullableDatum refunds, Datum *values, bool *nulls)
{
	OrderStatsView view;

	if (!purchases.isnull)
	{
		OrderStatsGetView(purchases.value, &view);
		OrderStatsResult(&view, values, nulls);
	}
	else
	{
		values[0] = Int64GetDatum(0);
		values[1] = NumericGetDatum(int64_to_numeric(0));
		nulls[0] = nulls[1] = false;
		for (int i = 2; i < ORDER_STATS_RESULT_COLUMNS; i++)
			nulls[i] = true;
	}
	if (!refunds.isnull)
	{
		OrderStatsGetView(refunds.value, &view);
		values[1] = NumericGetDatum(numeric_add_opt_error(DatumGetNumeric(values[1]),
														  MoneySumResult(&view.sum), NULL));
	}
}

PG_FUNCTION_INFO_V1(customer_metrics);
/* SQL: CustomerMetrics. */
Datum
customer_metrics(PG_FUNCTION_ARGS)
{
	Datum		values[ORDER_STATS_RESULT_COLUMNS];
	bool		nulls[ORDER_STATS_RESULT_COLUMNS];

	CustomerMetrics(fcinfo->args[0], fcinfo->args[1], values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(CachedResultDesc(fcinfo), values, nulls)));
}

/* Whether two exact totals are the same decimal, written the same way. */
static bool
MoneySumSame(const MoneySum *a, const MoneySum *b)
{
	if (a->slow == NULL && b->slow == NULL)
		return a->fast == b->fast && a->scale == b->scale;
	/* rare: a total too large for the fast path; compare the printed totals */
	return strcmp(DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(MoneySumResult(a)))),
				  DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(MoneySumResult(b))))) == 0;
}

/*
 * Whether two states hold the same orders: the same multiset of order times
 * and the same exact total (NULL, no orders, equals only NULL).  A rebuild
 * uses it to leave alone the stored states that are already right, so that
 * repairing a program writes only the customers that drifted.
 */
static bool
StatesSame(NullableDatum x, NullableDatum y)
{
	OrderStatsView a;
	OrderStatsView b;
	int64	   *ta;
	int64	   *tb;

	if (x.isnull || y.isnull)
		return x.isnull && y.isnull;
	OrderStatsGetView(x.value, &a);
	OrderStatsGetView(y.value, &b);
	if (a.timekind != b.timekind || a.norders != b.norders || !MoneySumSame(&a.sum, &b.sum))
		return false;
	/* a state of times is never the same as a bounded one: a rebuild rewrites it bounded */
	if (a.bounded != b.bounded)
		return false;
	if (a.bounded)
		return OrderSummarySame(&a.summary, &b.summary);
	if (a.norders == 0)
		return true;			/* an empty state may have no times array at all */
	ta = SortedTimes(&a);
	tb = SortedTimes(&b);
	return memcmp(ta, tb, a.norders * sizeof(int64)) == 0;
}

PG_FUNCTION_INFO_V1(order_stats_state_same);
/* SQL: StatesSame. */
Datum
order_stats_state_same(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(StatesSame(fcinfo->args[0], fcinfo->args[1]));
}

/* One metric, stored and recomputed, IS NOT DISTINCT FROM by its type's equality. */
static bool
MetricSame(int column, NullableDatum stored, bool isnull, Datum value)
{
	if (stored.isnull || isnull)
		return stored.isnull && isnull;
	switch (column)
	{
		case 1:					/* monetary: numeric equality (1.0 = 1.00) */
			return DatumGetBool(DirectFunctionCall2(numeric_eq, stored.value, value));
		case 4:
		case 5:					/* the gaps: float8 equality (NaN = NaN) */
			return float8_cmp_internal(DatumGetFloat8(stored.value), DatumGetFloat8(value)) == 0;
		default:				/* orders, first and last order: int8 and timestamptz */
			return DatumGetInt64(stored.value) == DatumGetInt64(value);
	}
}

PG_FUNCTION_INFO_V1(stored_customer_same);
/*
 * SQL: whether a customer's stored states (arguments 0, 1) and metrics (2-7:
 * orders, monetary, first and last order, mean gap, gap deviation) are what
 * its recomputed states (8, 9) give: the states the same orders
 * (StatesSame), the metrics equal to CustomerMetrics of them.  A rebuild's
 * test of which stored customers drifted, in one call instead of two state
 * comparisons, a composite and a row comparison.
 */
Datum
stored_customer_same(PG_FUNCTION_ARGS)
{
	Datum		values[ORDER_STATS_RESULT_COLUMNS];
	bool		nulls[ORDER_STATS_RESULT_COLUMNS];

	if (!StatesSame(fcinfo->args[0], fcinfo->args[8]) || !StatesSame(fcinfo->args[1], fcinfo->args[9]))
		PG_RETURN_BOOL(false);
	CustomerMetrics(fcinfo->args[8], fcinfo->args[9], values, nulls);
	for (int i = 0; i < ORDER_STATS_RESULT_COLUMNS; i++)
		if (!MetricSame(i, fcinfo->args[2 + i], nulls[i], values[i]))
			PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(true);
}

/*
 * Whether every order of removed is in stored (as a multiset of times, of
 * the same kind): whether order_stats_state_subtract can remove them.
 */
static bool
OrderStatsHolds(Datum stored, Datum removed)
{
	OrderStatsView a;
	OrderStatsView b;
	int64	   *have;
	int64	   *gone;
	int64		j = 0;

	OrderStatsGetView(stored, &a);
	OrderStatsGetView(removed, &b);
	OrderStatsRequireTimes(&a, "order_stats_state_holds");
	OrderStatsRequireTimes(&b, "order_stats_state_holds");
	if (a.timekind != b.timekind || b.norders > a.norders)
		return false;
	have = SortedTimes(&a);
	gone = SortedTimes(&b);
	for (int64 i = 0; i < a.norders && j < b.norders; i++)
		if (gone[j] == have[i])
			j++;
		else if (gone[j] < have[i])
			break;				/* gone[j] is not among the times held */
	return j == b.norders;
}

PG_FUNCTION_INFO_V1(order_stats_state_holds);
/* SQL: OrderStatsHolds; NULL stands for no orders. */
Datum
order_stats_state_holds(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(1))
		PG_RETURN_BOOL(true);
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(OrderStatsHolds(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)));
}

/* Whether an exact total is zero. */
static bool
MoneySumIsZero(const MoneySum *sum)
{
	if (sum->slow == NULL)
		return sum->fast == 0;
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(MoneySumResult(sum)),
											 NumericGetDatum(int64_to_numeric(0)))) == 0;
}

/* Whether two summaries are the same, day counts and horizon included (totals compared by the caller). */
bool
OrderSummarySame(const OrderSummary *a, const OrderSummary *b)
{
	return a->first == b->first && a->last == b->last && a->before_last == b->before_last &&
		a->gap_squares == b->gap_squares && a->horizon == b->horizon && a->ndays == b->ndays &&
		(a->ndays == 0 || memcmp(a->days, b->days, a->ndays * sizeof(OrderDayCount)) == 0);
}

/* The sorted times of a delta (NULL: none, or bounded). */
static int64 *
DeltaTimes(NullableDatum delta, OrderStatsView *view)
{
	if (delta.isnull)
	{
		memset(view, 0, sizeof(*view));
		MoneySumInit(&view->sum);
		return NULL;
	}
	OrderStatsGetView(delta.value, view);
	return view->bounded ? NULL : SortedTimes(view);
}

/*
 * The orders of n deltas of one kind (flat states of times, or bounded ones
 * with horizon days) as one, in the current context.  A transaction keeps
 * at most DELTA_TIMES_KEPT times of a customer's orders added: more, and they
 * are kept as a bounded state, which is exact as long as each part comes at
 * or after (or at or before) the ones before it (a load in time order; the
 * stored state must then take them as a whole, OrderStatsApplyDelta).
 * False when they cannot be kept exactly: the customer is recomputed at
 * commit.  Removals (bounded false) keep their times up to the same number,
 * since an update that keeps an order's time cancels against them; more
 * removals recompute the customer anyway.
 */
bool
OrderStatsFoldDeltas(const Datum *states, int n, int32 horizon, bool bounded, Datum *result)
{
	OrderSummary acc;
	OrderSummary *parts;
	int64		times = 0;
	bool		any_bounded = false;
	OrderStatsView *views = palloc(n * sizeof(OrderStatsView));

	for (int k = 0; k < n; k++)
	{
		OrderStatsGetView(states[k], &views[k]);
		any_bounded |= views[k].bounded;
		times += views[k].bounded ? 0 : views[k].norders;
		if (k > 0)
			CheckSameTimeKind(&views[0], &views[k]);
	}
	if (!any_bounded && times <= DELTA_TIMES_KEPT)
	{
		*result = n == 1 ? states[0] : OrderStatsMergeStates(states, n);
		return true;
	}
	if (!bounded)
		return false;

	/* as summaries, each added after (or before) the ones before it */
	parts = palloc(n * sizeof(OrderSummary));
	for (int k = 0; k < n; k++)
	{
		OrderStatsGetSummary(&views[k], horizon, &parts[k]);
		if (parts[k].horizon < horizon)
			return false;
		parts[k].horizon = horizon;
	}
	acc = parts[0];
	if (acc.sum.slow != NULL)
		acc.sum.slow = DatumGetNumericCopy(NumericGetDatum(acc.sum.slow));
	for (int k = 1; k < n; k++)
	{
		if (!OrderSummaryAdd(&acc, &parts[k]))
			return false;
		MoneySumMerge(&acc.sum, &parts[k].sum, CurrentMemoryContext);
	}
	*result = OrderSummaryFlatten(&acc);
	return true;
}

/*
 * Apply a transaction's delta of one customer (the orders it added and
 * removed, as states of times) to the stored state, giving a bounded state
 * with horizon days of day counts.
 *
 * An order both added and removed (an UPDATE that kept the order's time)
 * cancels out, so only the total changes.  What is left must be added at or
 * after the latest stored order (or at or before the first) to be exact;
 * anything else, and any removal, needs the customer recomputed from the
 * orders table.  A removal the stored state cannot hold at all (more orders
 * than it has, or a time outside its first and latest) is drift.
 */
DeltaOutcome
OrderStatsApplyDelta(NullableDatum stored, NullableDatum added, NullableDatum removed,
					 int32 horizon, NullableDatum *result)
{
	OrderStatsView av,
				rv,
				sv;
	int64	   *at = DeltaTimes(added, &av);
	int64	   *rt = DeltaTimes(removed, &rv);
	int64		na = 0,
				nr = 0,
				i = 0,
				j = 0;
	OrderSummary s;
	OrderSummary a;
	MoneySum	total;

	/* a bounded delta has no times to cancel against: its customer is recomputed */
	if (rv.bounded || (av.bounded && !removed.isnull))
		return DELTA_RECOMPUTE;
	if (!added.isnull && !removed.isnull)
		CheckSameTimeKind(&av, &rv);
	/* cancel the times both added and removed (both lists sorted, in place) */
	while (!av.bounded && (i < av.norders || j < rv.norders))
	{
		if (j == rv.norders || (i < av.norders && at[i] < rt[j]))
			at[na++] = at[i++];
		else if (i == av.norders || rt[j] < at[i])
			rt[nr++] = rt[j++];
		else
			i++, j++;
	}

	if (stored.isnull)
	{
		memset(&s, 0, sizeof(s));
		s.timekind = !added.isnull ? av.timekind : rv.timekind;
		MoneySumInit(&s.sum);
	}
	else
	{
		OrderStatsGetView(stored.value, &sv);
		if (!added.isnull || !removed.isnull)
			CheckSameTimeKind(&sv, added.isnull ? &rv : &av);
		OrderStatsGetSummary(&sv, horizon, &s);
		if (s.horizon < horizon)
			return DELTA_RECOMPUTE; /* the days it no longer keeps are needed */
	}
	if (nr > 0)
	{
		if (nr > s.norders || rt[0] < s.first || rt[nr - 1] > s.last)
			return DELTA_DRIFT;
		return DELTA_RECOMPUTE;
	}

	/* the exact total: stored + added - removed */
	total = s.sum;
	if (total.slow != NULL)
		total.slow = DatumGetNumericCopy(NumericGetDatum(total.slow));
	MoneySumMerge(&total, &av.sum, CurrentMemoryContext);
	MoneySumSubtract(&total, &rv.sum, CurrentMemoryContext);

	if (!av.bounded)
	{
		av.times = at;
		av.norders = na;
		av.sorted = true;
		av.expanded = NULL;
	}
	OrderStatsGetSummary(&av, horizon, &a);
	if (a.horizon < horizon)
		return DELTA_RECOMPUTE;
	a.horizon = horizon;
	s.horizon = horizon;
	if (!OrderSummaryAdd(&s, &a))
		return DELTA_RECOMPUTE;
	if (s.norders == 0)
	{
		/* every order came and went within the transaction: nothing is left, not even money */
		*result = (NullableDatum) {.value = (Datum) 0, .isnull = true};
		return MoneySumIsZero(&total) ? DELTA_APPLIED : DELTA_DRIFT;
	}
	s.sum = total;
	*result = (NullableDatum) {.value = OrderSummaryFlatten(&s), .isnull = false};
	return DELTA_APPLIED;
}
