/*
 * order_stats.c — the order_stats metrics aggregate.
 *
 * customer_tier.order_stats(ordered_at, amount) gives, in one pass, a
 * customer's order count, exact monetary total, first and last order, and
 * the mean and sample standard deviation of the gaps between orders.  There
 * is one transition function per (time type, amount type) pair so that a
 * CRM's columns work without casts; they all share one state type, one
 * combine function and one final function.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/cash.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "result_desc.h"
#include "money.h"
#include "order_stats.h"

/* What SQL type the amount argument has. */
typedef enum OrderAmountKind
{
	AMOUNT_NUMERIC,
	AMOUNT_BIGINT,
	AMOUNT_INTEGER,
	AMOUNT_FLOAT8,
	AMOUNT_MONEY
} OrderAmountKind;

/* Sort order times ascending (PostgreSQL's sort template, specialised for int64). */
#define ST_SORT sort_order_times
#define ST_ELEMENT_TYPE int64
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

/* The error for an order time that is infinite, or a date beyond the timestamp range. */
static void
BadOrderTime(bool infinite, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg(infinite ? "order time must be finite" : "order time out of range"),
			 errdetail("%s", detail),
			 errhint("Filter out or correct such orders before aggregating them.")));
}

/* The order time as microseconds (a date as its midnight), refusing infinities. */
static pg_attribute_always_inline int64
OrderTime(Datum value, int timekind)
{
	if (timekind == ORDER_TIME_DATE)
	{
		DateADT		d = DatumGetDateADT(value);
		int			overflow = 0;
		Timestamp	t;

		if (DATE_NOT_FINITE(d))
			BadOrderTime(true, "The order date is infinity or -infinity.");
		t = date2timestamp_opt_overflow(d, &overflow);
		if (overflow != 0)
			BadOrderTime(false, "Dates after 294276-12-31 cannot be converted to timestamp.");
		return t;
	}
	else
	{
		int64		t = DatumGetInt64(value);

		if (TIMESTAMP_NOT_FINITE(t))
			BadOrderTime(true, "The order time is infinity or -infinity.");
		return t;
	}
}

/* The state to update in place: the aggregate's own, or a new one in its context. */
static OrderStatsState *
StateForUpdate(FunctionCallInfo fcinfo, int timekind)
{
	MemoryContext aggcxt;
	OrderStatsView view;

	/* the per-row path: the aggregate's own read/write state */
	if (likely(!PG_ARGISNULL(0)) &&
		VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(PG_GETARG_DATUM(0))))
	{
		OrderStatsState *state = (OrderStatsState *) DatumGetEOHP(PG_GETARG_DATUM(0));

		if (likely(state->hdr.eoh_methods == &OrderStatsMethods &&
				   (state->timekind == timekind || timekind == 0)))
		{
			OrderStatsCheckMemory(state);
			return state;
		}
	}
	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("order_stats transition and combine functions can only be called as part of an aggregate")));
	if (PG_ARGISNULL(0))
		return OrderStatsCreate(aggcxt, timekind);
	OrderStatsGetView(PG_GETARG_DATUM(0), &view);
	if (timekind != 0 && view.timekind != timekind)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("order_stats state of %s orders cannot take %s orders",
						OrderTimeKindName(view.timekind), OrderTimeKindName(timekind))));
	return OrderStatsExpandCopy(&view, aggcxt);
}

/* Add one order's amount and append its time. */
static pg_attribute_always_inline void
AddOrder(OrderStatsState *state, int64 t, Datum amount, OrderAmountKind amountkind)
{
	MemoryContext cxt = state->marker->aggcxt;

	switch (amountkind)
	{
		case AMOUNT_NUMERIC:
			MoneySumAddNumeric(&state->sum, PG_DETOAST_DATUM_PACKED(amount), cxt);
			break;
		case AMOUNT_BIGINT:
			MoneySumAddScaledInt64(&state->sum, DatumGetInt64(amount), 0, cxt);
			break;
		case AMOUNT_INTEGER:
			MoneySumAddScaledInt64(&state->sum, DatumGetInt32(amount), 0, cxt);
			break;
		case AMOUNT_FLOAT8:
			MoneySumAddFloat8(&state->sum, DatumGetFloat8(amount), cxt);
			break;
		case AMOUNT_MONEY:
			MoneySumAddScaledInt64(&state->sum, DatumGetCash(amount), MoneyCashScale(), cxt);
			break;
	}
	OrderStatsAppend(state, t);
}

/* One row: skip it if either value is NULL, else append its time and add its amount. */
static pg_attribute_always_inline Datum
OrderStatsTrans(FunctionCallInfo fcinfo, int timekind, OrderAmountKind amountkind)
{
	OrderStatsState *state;
	int64		t;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	/* a bad time is reported before a bad amount of the same row */
	t = OrderTime(PG_GETARG_DATUM(1), timekind);
	if (amountkind == AMOUNT_FLOAT8)
		CheckAmountFloat8(PG_GETARG_FLOAT8(2));

	state = StateForUpdate(fcinfo, timekind);
	AddOrder(state, t, PG_GETARG_DATUM(2), amountkind);
	PG_RETURN_DATUM(EOHPGetRWDatum(&state->hdr));
}

/* One SQL-callable transition function per (time type, amount type) pair. */
#define ORDER_STATS_TRANSFN(name, timekind, amountkind) \
	PG_FUNCTION_INFO_V1(name); \
	Datum name(PG_FUNCTION_ARGS) { return OrderStatsTrans(fcinfo, timekind, amountkind); }

/* timestamptz order times */
ORDER_STATS_TRANSFN(order_stats_trans_tz_numeric, ORDER_TIME_TIMESTAMPTZ, AMOUNT_NUMERIC)
ORDER_STATS_TRANSFN(order_stats_trans_tz_int8, ORDER_TIME_TIMESTAMPTZ, AMOUNT_BIGINT)
ORDER_STATS_TRANSFN(order_stats_trans_tz_int4, ORDER_TIME_TIMESTAMPTZ, AMOUNT_INTEGER)
ORDER_STATS_TRANSFN(order_stats_trans_tz_float8, ORDER_TIME_TIMESTAMPTZ, AMOUNT_FLOAT8)
ORDER_STATS_TRANSFN(order_stats_trans_tz_money, ORDER_TIME_TIMESTAMPTZ, AMOUNT_MONEY)
/* timestamp order times */
ORDER_STATS_TRANSFN(order_stats_trans_ts_numeric, ORDER_TIME_TIMESTAMP, AMOUNT_NUMERIC)
ORDER_STATS_TRANSFN(order_stats_trans_ts_int8, ORDER_TIME_TIMESTAMP, AMOUNT_BIGINT)
ORDER_STATS_TRANSFN(order_stats_trans_ts_int4, ORDER_TIME_TIMESTAMP, AMOUNT_INTEGER)
ORDER_STATS_TRANSFN(order_stats_trans_ts_float8, ORDER_TIME_TIMESTAMP, AMOUNT_FLOAT8)
ORDER_STATS_TRANSFN(order_stats_trans_ts_money, ORDER_TIME_TIMESTAMP, AMOUNT_MONEY)
/* date order times */
ORDER_STATS_TRANSFN(order_stats_trans_date_numeric, ORDER_TIME_DATE, AMOUNT_NUMERIC)
ORDER_STATS_TRANSFN(order_stats_trans_date_int8, ORDER_TIME_DATE, AMOUNT_BIGINT)
ORDER_STATS_TRANSFN(order_stats_trans_date_int4, ORDER_TIME_DATE, AMOUNT_INTEGER)
ORDER_STATS_TRANSFN(order_stats_trans_date_float8, ORDER_TIME_DATE, AMOUNT_FLOAT8)
ORDER_STATS_TRANSFN(order_stats_trans_date_money, ORDER_TIME_DATE, AMOUNT_MONEY)

/*
 * SQL: the state of one order, as order_stats_partial over that one row gives
 * it (NULL when its time or amount is NULL), whatever the pair of types: the
 * trigger path's collect of a statement of a row or two sums its rows with
 * this rather than set up an aggregate.
 */
PG_FUNCTION_INFO_V1(order_stats_of);
Datum
order_stats_of(PG_FUNCTION_ARGS)
{
	/* a domain counts as its base type, as the aggregate's implicit casts take it */
	Oid			timetype = getBaseType(get_fn_expr_argtype(fcinfo->flinfo, 0));
	Oid			amounttype = getBaseType(get_fn_expr_argtype(fcinfo->flinfo, 1));
	int			timekind;
	OrderAmountKind amountkind;
	int64		t;
	OrderStatsState *state;

	timekind = timetype == TIMESTAMPTZOID ? ORDER_TIME_TIMESTAMPTZ :
		timetype == TIMESTAMPOID ? ORDER_TIME_TIMESTAMP :
		timetype == DATEOID ? ORDER_TIME_DATE : -1;
	amountkind = amounttype == NUMERICOID ? AMOUNT_NUMERIC :
		amounttype == INT8OID ? AMOUNT_BIGINT :
		amounttype == INT4OID ? AMOUNT_INTEGER :
		amounttype == FLOAT8OID ? AMOUNT_FLOAT8 :
		amounttype == CASHOID ? AMOUNT_MONEY : -1;
	if (timekind < 0 || (int) amountkind < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("order_stats_of() takes a timestamptz, timestamp or date and a numeric, bigint, integer, double precision or money amount, not %s and %s",
						format_type_be(timetype), format_type_be(amounttype))));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	t = OrderTime(PG_GETARG_DATUM(0), timekind);
	if (amountkind == AMOUNT_FLOAT8)
		CheckAmountFloat8(PG_GETARG_FLOAT8(1));
	state = OrderStatsCreate(CurrentMemoryContext, timekind);
	AddOrder(state, t, PG_GETARG_DATUM(1), amountkind);
	PG_RETURN_DATUM(EOHPGetRWDatum(&state->hdr));
}

PG_FUNCTION_INFO_V1(order_stats_combine);
/* Merge two partial states (sums and time lists); either may be NULL, flat or expanded. */
Datum
order_stats_combine(PG_FUNCTION_ARGS)
{
	OrderStatsState *state;
	OrderStatsView other;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	OrderStatsGetView(PG_GETARG_DATUM(1), &other);
	OrderStatsRequireTimes(&other, "order_stats_combine");
	if (PG_ARGISNULL(0))
	{
		MemoryContext aggcxt;

		if (!AggCheckCallContext(fcinfo, &aggcxt))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("order_stats transition and combine functions can only be called as part of an aggregate")));
		state = OrderStatsExpandCopy(&other, aggcxt);
		PG_RETURN_DATUM(EOHPGetRWDatum(&state->hdr));
	}
	state = StateForUpdate(fcinfo, 0);
	if (state->timekind != other.timekind)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot combine order_stats states of %s and %s orders",
						OrderTimeKindName(state->timekind), OrderTimeKindName(other.timekind)),
				 errhint("Aggregate order times of one type only; cast them to timestamptz.")));
	OrderStatsReserve(state, other.norders);
	if (!other.sorted ||
		(state->norders > 0 && other.times[0] < state->times[state->norders - 1]))
		state->sorted = false;
	memcpy(state->times + state->norders, other.times, other.norders * sizeof(int64));
	state->norders += other.norders;
	state->last_time = state->times[state->norders - 1];
	MoneySumMerge(&state->sum, &other.sum, state->marker->aggcxt);
	PG_RETURN_DATUM(EOHPGetRWDatum(&state->hdr));
}

/*
 * later - earlier in microseconds as a double.  Two valid order times can lie
 * further apart than int64 holds (4714 BC to 294276 AD is about 9.4e18 us):
 * the exact difference where it fits, else the difference of the doubles.
 */
double
TimeSpan(int64 later, int64 earlier)
{
	int64		span;

	if (!pg_sub_s64_overflow(later, earlier, &span))
		return (double) span;
	return (double) later - (double) earlier;
}

/* Sort order times ascending: the one sort every summary of times goes through. */
void
SortOrderTimes(int64 *times, int64 n)
{
	sort_order_times(times, n);
}

/* The result columns of a state with at least one order (OrderSummaryResult). */
void
OrderStatsResult(const OrderStatsView *view, Datum *values, bool *nulls)
{
	OrderSummary s;

	OrderStatsGetSummary(view, 0, &s);
	OrderSummaryResult(&s, values, nulls);
}

PG_FUNCTION_INFO_V1(order_stats_final);
/* The result row of the order_stats aggregate. */
Datum
order_stats_final(PG_FUNCTION_ARGS)
{
	OrderStatsView view;
	Datum		values[ORDER_STATS_RESULT_COLUMNS];
	bool		nulls[ORDER_STATS_RESULT_COLUMNS];

	OrderStatsGetView(PG_GETARG_DATUM(0), &view);
	if (view.norders == 0)
		PG_RETURN_NULL();
	OrderStatsResult(&view, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(CachedResultDesc(fcinfo), values, nulls)));
}
