/*
 * order_summary.c — the summary every order_stats metric is computed from,
 * and the bounded state a program stores per customer.
 *
 * A summary holds the order count, the exact total, the first, latest and
 * second latest order time, the exact sum of the squared gaps between
 * consecutive orders, and the orders of each UTC day of the last `horizon`
 * days before the latest order.  That is all the metrics, the churn flags
 * and the models read, and its size depends on the horizon, not on the
 * number of orders.  The aggregate's states, which keep every time, are
 * summarised the same way, so the live path and a recomputation share one
 * rule for every metric.
 *
 * Adding later (or earlier) orders to a summary is exact; an order that
 * falls between its first and latest order, or a removal, is not: the
 * trigger path recomputes that customer from the orders table.
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "order_stats.h"

/* The UTC day of a time, counted from 2000-01-01 (floor division). */
int64
OrderDayOf(int64 t)
{
	return t >= 0 ? t / USECS_PER_DAY : -((-(t + 1)) / USECS_PER_DAY) - 1;
}

/* (later - earlier)^2 exactly; later >= earlier, so the difference fits a uint64. */
static inline uint128
SquaredGap(int64 later, int64 earlier)
{
	uint64		gap = (uint64) later - (uint64) earlier;

	return (uint128) gap * gap;
}

/* Drop the day counts at or before (latest day - horizon). */
static void
TrimDays(OrderSummary *s)
{
	int64		oldest = OrderDayOf(s->last) - s->horizon;
	int32		skip = 0;

	while (skip < s->ndays && s->days[skip].day <= oldest)
		skip++;
	s->days += skip;
	s->ndays -= skip;
}

/*
 * The summary of a state.  A bounded state is its own summary; the times of
 * any other are sorted (in a copy if the state is flat) and summarised with
 * the given horizon.  The total is shared, not copied.
 */
void
OrderStatsGetSummary(const OrderStatsView *view, int32 horizon, OrderSummary *s)
{
	const int64 *t;
	int64		n = view->norders;
	int64		lastday;

	if (view->bounded)
	{
		*s = view->summary;
		return;
	}
	s->timekind = view->timekind;
	s->norders = n;
	s->sum = view->sum;
	s->horizon = horizon;
	s->gap_squares = 0;
	s->ndays = 0;
	s->days = NULL;
	s->first = s->last = s->before_last = 0;
	if (n == 0)
		return;
	t = view->times;
	if (!view->sorted)
	{
		int64	   *copy = view->times;

		/*
		 * Sorting an expanded state in place changes nothing it means (the
		 * times are a multiset); a window aggregate's later calls then find
		 * the times sorted.
		 */
		if (view->expanded == NULL)
		{
			copy = palloc_extended(n * sizeof(int64), MCXT_ALLOC_HUGE);
			memcpy(copy, view->times, n * sizeof(int64));
		}
		SortOrderTimes(copy, n);
		if (view->expanded != NULL)
		{
			view->expanded->sorted = true;
			view->expanded->last_time = copy[n - 1];
		}
		t = copy;
	}
	s->first = t[0];
	s->last = t[n - 1];
	s->before_last = n >= 2 ? t[n - 2] : t[0];
	for (int64 i = 1; i < n; i++)
		s->gap_squares += SquaredGap(t[i], t[i - 1]);

	/* the days of the horizon, scanned back from the latest order, then put in ascending order */
	lastday = OrderDayOf(s->last);
	if (horizon > 0)
	{
		int32		ndays = 0;
		int64		count = 0;

		s->days = palloc(Min((int64) horizon, n) * sizeof(OrderDayCount));
		for (int64 i = n - 1; i >= -1; i--)
		{
			int64		day = i >= 0 ? OrderDayOf(t[i]) : PG_INT64_MIN;

			if (count > 0 && day != s->days[ndays].day)
			{
				if (count > PG_INT32_MAX)
					ereport(ERROR,
							(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							 errmsg("more than %d orders on one day cannot be counted in a bounded state",
									PG_INT32_MAX)));
				s->days[ndays++].orders = (int32) count;
				count = 0;
			}
			if (day <= lastday - horizon)
				break;
			s->days[ndays].day = (int32) day;
			count++;
		}
		for (int32 k = 0; k < ndays / 2; k++)
		{
			OrderDayCount swap = s->days[k];

			s->days[k] = s->days[ndays - 1 - k];
			s->days[ndays - 1 - k] = swap;
		}
		s->ndays = ndays;
	}
}

/*
 * Add the orders of `added` (a summary with the same horizon) to s when that
 * is exact: they all come at or after s's latest order, or at or before its
 * first.  The totals are left to the caller.  False otherwise, and s is then
 * not to be used: the caller recomputes the customer.
 */
bool
OrderSummaryAdd(OrderSummary *s, const OrderSummary *added)
{
	OrderDayCount *days;
	int32		i = 0,
				j = 0,
				n = 0;

	if (added->norders == 0)
	{
		TrimDays(s);
		return true;
	}
	if (s->norders == 0)
	{
		MoneySum	sum = s->sum;

		*s = *added;
		s->sum = sum;
		return true;
	}
	if (added->first >= s->last)
	{
		s->gap_squares += added->gap_squares + SquaredGap(added->first, s->last);
		s->before_last = added->norders >= 2 ? added->before_last : s->last;
		s->last = added->last;
	}
	else if (added->last <= s->first)
	{
		s->gap_squares += added->gap_squares + SquaredGap(s->first, added->last);
		if (s->norders == 1)
			s->before_last = added->last;
		s->first = added->first;
	}
	else
		return false;
	s->norders += added->norders;

	/* merge the day counts, both ascending */
	days = palloc((s->ndays + added->ndays) * sizeof(OrderDayCount) + 1);
	while (i < s->ndays || j < added->ndays)
	{
		if (j == added->ndays || (i < s->ndays && s->days[i].day < added->days[j].day))
			days[n++] = s->days[i++];
		else if (i == s->ndays || added->days[j].day < s->days[i].day)
			days[n++] = added->days[j++];
		else
		{
			days[n] = s->days[i++];
			if (pg_add_s32_overflow(days[n].orders, added->days[j++].orders, &days[n].orders))
				return false;	/* more than 2^31 orders in a day: recomputing will say so */
			n++;
		}
	}
	s->days = days;
	s->ndays = n;
	TrimDays(s);
	return true;
}

/*
 * Orders in the recent window, the UTC days (D - W, D] where D is as_of's
 * day, and in the window before, (D - 2W, D - W].  Exact when the summary's
 * horizon covers 2W days and as_of's day is not before its latest order's.
 */
void
OrderSummaryWindows(const OrderSummary *s, int64 as_of, int32 window_days,
					int64 *recent, int64 *previous)
{
	int64		today = OrderDayOf(as_of);

	*recent = *previous = 0;
	for (int32 i = 0; i < s->ndays; i++)
	{
		int64		day = s->days[i].day;

		if (day > today)
			continue;
		if (day > today - window_days)
			*recent += s->days[i].orders;
		else if (day > today - 2 * (int64) window_days)
			*previous += s->days[i].orders;
	}
}

/*
 * Sample variance of the gaps, in microseconds^2, from their exact sum of
 * squares: (m * sum(g^2) - span^2) / (m (m - 1)) for m = n - 1 gaps, exact
 * up to the final division (long double where m * sum(g^2) passes 2^128).
 */
static double
GapVariance(const OrderSummary *s)
{
	uint128		m = (uint128) (s->norders - 1);
	uint128		span2 = SquaredGap(s->last, s->first);
	uint128		scaled;
	double		denominator = (double) (s->norders - 1) * (double) (s->norders - 2);

	if (!__builtin_mul_overflow(m, s->gap_squares, &scaled))
		return (double) (scaled - span2) / denominator;
	return (double) (((long double) s->gap_squares - (long double) span2 / (long double) m) /
					 (long double) (s->norders - 2));
}

/*
 * The result columns of a summary with at least one order: count, exact
 * total, first and latest order, mean and spread of the gaps in days.  The
 * aggregate's final function and the programs both come here.
 */
void
OrderSummaryResult(const OrderSummary *s, Datum *values, bool *nulls)
{
	int64		n = s->norders;

	Assert(n > 0);
	memset(nulls, 0, ORDER_STATS_RESULT_COLUMNS * sizeof(bool));
	values[0] = Int64GetDatum(n);
	values[1] = NumericGetDatum(MoneySumResult(&s->sum));
	/*
	 * Every kind of order time is stored on one clock: a timestamp (without
	 * time zone) or a date is a UTC wall-clock time, whatever the session's
	 * TimeZone, so its microseconds are those of the timestamptz.
	 */
	values[2] = TimestampTzGetDatum((TimestampTz) s->first);
	values[3] = TimestampTzGetDatum((TimestampTz) s->last);
	if (n >= 2)
	{
		/* the mean of the consecutive gaps telescopes to the span over n - 1 */
		values[4] = Float8GetDatum(TimeSpan(s->last, s->first) / (double) (n - 1) / (double) USECS_PER_DAY);
		if (n >= 3)
			values[5] = Float8GetDatum(sqrt(Max(GapVariance(s), 0.0)) / (double) USECS_PER_DAY);
		else
			nulls[5] = true;
	}
	else
		nulls[4] = nulls[5] = true;
}

PG_FUNCTION_INFO_V1(order_stats_bounded);
/* SQL: the bounded form of a state, keeping the day counts of `horizon` days. */
Datum
order_stats_bounded(PG_FUNCTION_ARGS)
{
	OrderStatsView view;
	OrderSummary s;
	int32		horizon = PG_GETARG_INT32(1);

	if (horizon < 0 || horizon > ORDER_STATS_MAX_HORIZON)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon must be from 0 to %d days, not %d", ORDER_STATS_MAX_HORIZON, horizon)));
	OrderStatsGetView(PG_GETARG_DATUM(0), &view);
	if (view.norders == 0)
		PG_RETURN_NULL();
	OrderStatsGetSummary(&view, horizon, &s);
	if (view.bounded && s.horizon != horizon)
	{
		if (s.horizon < horizon)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a bounded order_stats_state of %d days cannot be widened to %d days",
							s.horizon, horizon),
					 errhint("Aggregate the orders again with customer_tier.order_stats_partial().")));
		s.horizon = horizon;
		TrimDays(&s);
	}
	PG_RETURN_DATUM(OrderSummaryFlatten(&s));
}
