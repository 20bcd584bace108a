/*
 * churn.c — churn flags, lifecycle stage, p_alive and predicted CLV of one
 * customer, for the one scoring path of a program (docs/churn.md).
 *
 * Everything is read off the customer's maintained order_stats state, whose
 * summary keeps first, latest and second latest order, the order count and
 * the orders of each UTC day of the two frequency windows, so the window
 * counts are exact without reading the orders table.
 *
 * churn_assess() depends on its arguments only (timestamp and date order
 * times are read as UTC, as order_stats reads them, whatever the session's
 * TimeZone): the program's compiled thresholds, its fitted
 * models, the stored stage and the instant are arguments, so the triggers
 * and the runs get the same answer for the same input.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "result_desc.h"
#include "models.h"
#include "order_stats.h"
#include "churn.h"

PG_FUNCTION_INFO_V1(churn_assess);
PG_FUNCTION_INFO_V1(btyd_summary);

#define USECS_PER_DAY_F		86400000000.0
#define DAYS_PER_WEEK		7.0
/* a customer whose first order is this instant is one second old */
#define MIN_AGE_WEEKS		(1.0 / (7.0 * 86400.0))
#define CLV_MAX_WEEKS		520
/* a century: twice this in microseconds stays far inside int64 */
#define MAX_WINDOW_DAYS		36525
/* the most terms of eq. 10's series one CLV may need (about 10 ms) */
#define MAX_SERIES_TERMS	1e6

/* Positions in the compiled settings (customer_tier.churn_settings_array). */
typedef enum ChurnSetting
{
	CS_SILENT_GAP_FACTOR,
	CS_SILENT_FLOOR_DAYS,
	CS_FREQUENCY_WINDOW_DAYS,
	CS_FREQUENCY_DROP_RATIO,
	CS_FREQUENCY_MIN_PREVIOUS,
	CS_P_ALIVE_BELOW,
	CS_SATISFACTION_BELOW,
	CS_NEW_DAYS,
	CS_LAPSED_DAYS,
	CS_LOST_DAYS,
	CS_LOST_P_ALIVE_BELOW,
	CS_WON_BACK_DAYS,
	CS_CLV_HORIZON_WEEKS,
	CS_CLV_DISCOUNT_RATE,
	CS_CLV_MARGIN,
	CS_NSETTINGS
} ChurnSetting;

static const char *const setting_names[CS_NSETTINGS] = {
	"silent_gap_factor", "silent_floor_days", "frequency_window_days",
	"frequency_drop_ratio", "frequency_min_previous", "p_alive_below",
	"satisfaction_below", "new_days", "lapsed_days", "lost_days",
	"lost_p_alive_below", "won_back_days", "clv_horizon_weeks",
	"clv_discount_rate", "clv_margin"
};

/* What one pass over a customer's order times finds. */
typedef struct OrderTimes
{
	int64		norders;
	TimestampTz first;
	TimestampTz last;
	TimestampTz before_last;	/* the order before the last one; first if only one */
	int64		recent;			/* orders in (as_of - W, as_of] */
	int64		previous;		/* orders in (as_of - 2W, as_of - W] */
	TimestampTz as_of;			/* every kind of order time is on this clock (UTC) */
} OrderTimes;

/* The BG/NBD / Gamma-Gamma summary of one customer, time in weeks. */
typedef struct BtydSummary
{
	double		x;
	double		t_x;
	double		t;
	double		orders;			/* purchases the mean spend is over: Gamma-Gamma's x */
	double		mean_spend;		/* NaN when monetary / orders is not positive */
} BtydSummary;

/* A setting must be a finite number in its own range; 22023 names it. */
static void
CheckSetting(int i, double v)
{
	bool		ok = isfinite(v) && v >= 0;

	if (ok)
		switch (i)
		{
			case CS_FREQUENCY_DROP_RATIO:
			case CS_P_ALIVE_BELOW:
			case CS_LOST_P_ALIVE_BELOW:
				ok = v <= 1;
				break;
			case CS_FREQUENCY_WINDOW_DAYS:
				/* whole days: the windows are counted in UTC days */
				ok = v >= 1 && v <= MAX_WINDOW_DAYS && v == floor(v);
				break;
			case CS_FREQUENCY_MIN_PREVIOUS:
				ok = v >= 1 && v == floor(v);
				break;
			case CS_CLV_HORIZON_WEEKS:
				ok = v <= CLV_MAX_WEEKS;
				break;
			default:
				break;
		}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("churn setting %s has an invalid value %g", setting_names[i], v),
				 errhint("Build the settings with customer_tier.churn_settings_array() from a row of customer_tier.churn_settings.")));
}

/* Check the shape and values of compiled settings; returns the values. */
static const double *
CheckSettings(ArrayType *settings)
{
	const double *data;

	if (ARR_ELEMTYPE(settings) != FLOAT8OID)
		elog(ERROR, "churn settings must be a double precision array, not type %u",
			 ARR_ELEMTYPE(settings));
	if (ARR_NDIM(settings) != 1 || ARR_DIMS(settings)[0] != CS_NSETTINGS)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("churn settings must be a one-dimensional array of %d values", CS_NSETTINGS),
				 errhint("Build the settings with customer_tier.churn_settings_array() from a row of customer_tier.churn_settings.")));
	if (array_contains_nulls(settings))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("churn settings must not contain NULL")));
	data = (const double *) ARR_DATA_PTR(settings);
	for (int i = 0; i < CS_NSETTINGS; i++)
		CheckSetting(i, data[i]);
	return data;
}

/*
 * First, latest and second latest order, the order count and both window
 * counts, read off the state's summary (whole UTC days: see
 * OrderSummaryWindows); with window_days 0 both window counts are 0.  The
 * times of an unbounded state are summarised over the 2W days the windows
 * need, so both kinds of state give the same counts.
 */
static void
ScanOrderTimes(Datum state, TimestampTz as_of, double window_days, OrderTimes *ot)
{
	OrderStatsView view;
	OrderSummary s;
	int32		w = (int32) window_days;

	OrderStatsGetView(state, &view);
	OrderStatsGetSummary(&view, 2 * w, &s);
	ot->as_of = as_of;
	ot->norders = s.norders;
	ot->first = s.first;
	ot->last = s.last;
	ot->before_last = s.before_last;
	OrderSummaryWindows(&s, as_of, w, &ot->recent, &ot->previous);
}

/*
 * The day counts a program's stored states keep: the two frequency windows
 * (W and the W before it), so that the counts stay exact.  0 without settings.
 */
int32
ChurnStateHorizon(NullableDatum settings)
{
	if (settings.isnull)
		return 0;
	return 2 * (int32) CheckSettings(DatumGetArrayTypeP(settings.value))[CS_FREQUENCY_WINDOW_DAYS];
}

/*
 * The model summary: x = orders - 1, t_x = last - first, T = as_of - first,
 * in weeks.  Orders all at one instant count as one purchase (x = 0), since
 * BG/NBD needs t_x > 0 when x > 0; T is at least t_x (orders dated in the
 * future) and at least one second.
 */
static void
Summarise(const OrderTimes *ot, double monetary, BtydSummary *s)
{
	double		week = USECS_PER_DAY_F * DAYS_PER_WEEK;

	s->x = (double) Min(ot->norders - 1, (int64) PG_INT32_MAX);
	s->t_x = TimeSpan(ot->last, ot->first) / week;
	if (!(s->t_x > 0))
	{
		s->x = 0;
		s->t_x = 0;
	}
	s->t = Max(TimeSpan(ot->as_of, ot->first) / week, s->t_x);
	s->t = Max(s->t, MIN_AGE_WEEKS);
	s->orders = (double) Min(ot->norders, (int64) PG_INT32_MAX);
	s->mean_spend = monetary / (double) ot->norders;
	if (!(s->mean_spend > 0) || !isfinite(s->mean_spend))
		s->mean_spend = NAN;
}

/* BG/NBD P(alive | x, t_x, T) (Fader, Hardie & Lee 2005, eq. 11), in log space. */
static double
PAlive(const double *bg, const BtydSummary *s)
{
	double		z;

	if (s->x == 0)
		return 1.0;
	z = log(bg[2]) - log(bg[3] + s->x - 1) +
		(bg[0] + s->x) * (log(bg[1] + s->t) - log(bg[1] + s->t_x));
	return exp(-(Max(z, 0.0) + log1p(exp(-fabs(z)))));
}

/*
 * Predicted CLV: margin x Gamma-Gamma expected spend x expected purchases
 * per week over the horizon, discounted weekly (as customer_tier.clv).  The
 * state keeps the total, not each amount, so the spend model reads the mean
 * over all the customer's purchases, with x = their number (the mean of n
 * gamma(p, v) amounts is gamma(np, nv): the same model).  A customer whose
 * mean spend is not positive gets the population's mean spend.  NaN when the
 * spend model has no finite mean.  Without discount the sum telescopes to
 * one evaluation of the expected purchases.
 */
static double
PredictedClv(const double *bg, const double *gg, const BtydSummary *s,
			 double horizon, double rate, double margin)
{
	double		x = isnan(s->mean_spend) ? 0 : s->orders;
	double		m = isnan(s->mean_spend) ? 0 : s->mean_spend;
	double		denominator = gg[0] * x + gg[1] - 1;
	double		spend,
				total = 0,
				previous = 0;
	double		z = horizon / (bg[1] + s->t + horizon);

	if (!(denominator > 0))
		return NAN;
	/*
	 * The series of eq. 10 needs about (r + x) z / (1 - z) terms; a customer
	 * with so many orders that it would need millions gets no CLV rather than
	 * an error, which would refuse the CRM's write in the trigger.
	 */
	if ((bg[0] + s->x) * z / (1 - z) > MAX_SERIES_TERMS)
		return NAN;
	spend = (gg[2] + m * x) * gg[0] / denominator;
	if (rate == 0)
		total = BgnbdExpectedPurchases(bg, horizon, s->x, s->t_x, s->t);
	else
		for (int k = 1; k <= (int) ceil(horizon); k++)
		{
			double		end = Min((double) k, horizon);
			double		cumulative = BgnbdExpectedPurchases(bg, end, s->x, s->t_x, s->t);

			total += (cumulative - previous) / pow(1 + rate, end);
			previous = cumulative;
		}
	total *= margin * spend;
	return isfinite(total) ? total : NAN;
}

/* Days from a to b (TimeSpan: valid order times can lie further apart than int64 holds). */
static inline double
DaysBetween(TimestampTz a, TimestampTz b)
{
	return TimeSpan(b, a) / USECS_PER_DAY_F;
}

/*
 * Won back: the customer ordered again after a silence longer than
 * lapsed_days (read off the gap before the last order, so it needs no stored
 * stage) and that order is at most won_back_days old; or the stored stage was
 * lapsed or lost (lost by p_alive, say) and an order came after it was set;
 * or the stored stage is won back and was set at most won_back_days ago.
 */
static bool
WonBack(const OrderTimes *ot, const double *cs, double silent_days,
		const char *stage, TimestampTz stage_since)
{
	if (DaysBetween(ot->before_last, ot->last) > cs[CS_LAPSED_DAYS] &&
		silent_days <= cs[CS_WON_BACK_DAYS])
		return true;
	if (stage == NULL || TIMESTAMP_NOT_FINITE(stage_since))
		return false;
	if (strcmp(stage, "lapsed") == 0 || strcmp(stage, "lost") == 0)
		return ot->last > stage_since;
	if (strcmp(stage, "won back") == 0)
		return DaysBetween(stage_since, ot->as_of) <= cs[CS_WON_BACK_DAYS];
	return false;
}

/* A text[] from C strings. */
static ArrayType *
TextArray(const char *const *items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(items[i]);
	return construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * churn_assess(settings, bg, gg, purchases, monetary, recent_satisfaction,
 *              stage, stage_since, as_of)
 *   -> (p_alive, clv, churn_flags, churn_reasons, lifecycle)
 * All NULL for a customer without purchases or a program without settings;
 * p_alive NULL without a BG/NBD model, clv NULL without both models.
 */
void
ChurnAssessArgs(const NullableDatum *args, Datum *values, bool *nulls)
{
	const double *cs;
	OrderTimes	ot;
	BtydSummary s;
	TimestampTz as_of;
	double		p_alive = NAN,
				clv = NAN,
				silent_days,
				monetary;
	const char *flags[4];
	const char *reasons[4];
	int			nflags = 0;
	const char *stage;
	bool		have_since = !args[7].isnull;

	for (int i = 0; i < CHURN_ASSESS_NCOLS; i++)
		nulls[i] = true;
	if (args[0].isnull || args[3].isnull || args[8].isnull)
		return;
	cs = CheckSettings(DatumGetArrayTypeP(args[0].value));
	as_of = DatumGetTimestampTz(args[8].value);
	if (TIMESTAMP_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of must be finite")));
	ScanOrderTimes(args[3].value, as_of, cs[CS_FREQUENCY_WINDOW_DAYS], &ot);
	if (ot.norders == 0)
		return;
	monetary = args[4].isnull ? 0 : NumericToDouble(DatumGetNumeric(args[4].value));
	Summarise(&ot, monetary, &s);

	if (!args[1].isnull)
	{
		static const char *const bg_names[] = {"r", "alpha", "a", "b"};
		double		bg[4];

		ModelReadParams(DatumGetHeapTupleHeader(args[1].value), 4, bg_names, "bgnbd", bg);
		p_alive = PAlive(bg, &s);
		if (!args[2].isnull)
		{
			static const char *const gg_names[] = {"p", "q", "gamma"};
			double		gg[3];

			ModelReadParams(DatumGetHeapTupleHeader(args[2].value), 3, gg_names, "gamma_gamma", gg);
			clv = PredictedClv(bg, gg, &s, cs[CS_CLV_HORIZON_WEEKS],
							   cs[CS_CLV_DISCOUNT_RATE], cs[CS_CLV_MARGIN]);
		}
	}

	/* the flags, each with its reason */
	silent_days = DaysBetween(ot.last, ot.as_of);
	{
		double		limit = cs[CS_SILENT_FLOOR_DAYS];
		double		gap = ot.norders >= 2 ? DaysBetween(ot.first, ot.last) / (double) (ot.norders - 1) : 0;

		if (ot.norders >= 2)
			limit = Max(limit, cs[CS_SILENT_GAP_FACTOR] * gap);
		if (silent_days > limit)
		{
			flags[nflags] = "silent";
			/*
			 * The reasons name no quantity that moves by time alone (days
			 * since the last order, p_alive): a stored reason then changes
			 * only when its flag's inputs do, and a nightly run need not
			 * rewrite every silent customer (docs/churn.md).
			 */
			reasons[nflags++] = ot.norders >= 2
				? psprintf("no order for more than %.1f days (%g x the usual gap of %.1f days, floor %g)",
						   limit, cs[CS_SILENT_GAP_FACTOR], gap, cs[CS_SILENT_FLOOR_DAYS])
				: psprintf("no order for more than %g days since the only one (the floor)",
						   cs[CS_SILENT_FLOOR_DAYS]);
		}
	}
	if ((double) ot.previous >= cs[CS_FREQUENCY_MIN_PREVIOUS] &&
		(double) ot.recent < cs[CS_FREQUENCY_DROP_RATIO] * (double) ot.previous)
	{
		flags[nflags] = "frequency_falling";
		reasons[nflags++] = psprintf("%lld order(s) in the last %g days against %lld in the %g days before (below %g x)",
									 (long long) ot.recent, cs[CS_FREQUENCY_WINDOW_DAYS],
									 (long long) ot.previous, cs[CS_FREQUENCY_WINDOW_DAYS],
									 cs[CS_FREQUENCY_DROP_RATIO]);
	}
	if (!isnan(p_alive) && p_alive < cs[CS_P_ALIVE_BELOW])
	{
		flags[nflags] = "low_p_alive";
		reasons[nflags++] = psprintf("p_alive below %g", cs[CS_P_ALIVE_BELOW]);
	}
	if (!args[5].isnull)
	{
		double		sat = DatumGetFloat8(args[5].value);

		if (!isnan(sat) && sat < cs[CS_SATISFACTION_BELOW])
		{
			flags[nflags] = "low_satisfaction";
			reasons[nflags++] = psprintf("recent satisfaction %g below %g", sat, cs[CS_SATISFACTION_BELOW]);
		}
	}

	/* the lifecycle stage, first rule that holds (the stored stage read only for won back) */
	if (silent_days > cs[CS_LOST_DAYS] || (!isnan(p_alive) && p_alive < cs[CS_LOST_P_ALIVE_BELOW]))
		stage = "lost";
	else if (silent_days > cs[CS_LAPSED_DAYS])
		stage = "lapsed";
	else if (nflags > 0)
		stage = "at risk";
	else if (WonBack(&ot, cs, silent_days, args[6].isnull ? NULL : text_to_cstring(DatumGetTextPP(args[6].value)),
					 have_since ? DatumGetTimestampTz(args[7].value) : DT_NOBEGIN))
		stage = "won back";
	else if (DaysBetween(ot.first, ot.as_of) <= cs[CS_NEW_DAYS])
		stage = "new";
	else
		stage = "active";

	if (!isnan(p_alive))
	{
		values[0] = Float8GetDatum(p_alive);
		nulls[0] = false;
	}
	if (!isnan(clv))
	{
		values[1] = Float8GetDatum(clv);
		nulls[1] = false;
	}
	values[2] = PointerGetDatum(TextArray(flags, nflags));
	values[3] = PointerGetDatum(TextArray(reasons, nflags));
	values[4] = CStringGetTextDatum(stage);
	nulls[2] = nulls[3] = nulls[4] = false;
}

/* SQL: churn_assess(...); see ChurnAssessArgs. */
Datum
churn_assess(PG_FUNCTION_ARGS)
{
	Datum		values[CHURN_ASSESS_NCOLS];
	bool		nulls[CHURN_ASSESS_NCOLS];

	ChurnAssessArgs(fcinfo->args, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(CachedResultDesc(fcinfo), values, nulls)));
}

/*
 * btyd_summary(purchases, monetary, as_of) -> (x, t_x, t, orders, mean_spend): the
 * customer summary the program's model is fitted to, in weeks, by the same
 * rules churn_assess scores with.  NULL for a customer without purchases.
 */
Datum
btyd_summary(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	OrderTimes	ot;
	BtydSummary s;
	TimestampTz as_of = PG_GETARG_TIMESTAMPTZ(2);

	desc = CachedResultDesc(fcinfo);
	if (TIMESTAMP_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of must be finite")));
	ScanOrderTimes(PG_GETARG_DATUM(0), as_of, 0, &ot);
	if (ot.norders == 0)
		PG_RETURN_NULL();
	Summarise(&ot, NumericToDouble(PG_GETARG_NUMERIC(1)), &s);
	values[0] = Int32GetDatum((int32) s.x);
	values[1] = Float8GetDatum(s.t_x);
	values[2] = Float8GetDatum(s.t);
	values[3] = Int32GetDatum((int32) s.orders);
	values[4] = Float8GetDatum(s.mean_spend);
	nulls[4] = isnan(s.mean_spend);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
