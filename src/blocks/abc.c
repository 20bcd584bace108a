/*
 * abc.c — ABC / Pareto classification by cumulative share of revenue.
 *
 * abc_class(revenue, a_cutoff, b_cutoff) OVER (ORDER BY revenue DESC) is a
 * window function.  On a partition's first row it reads the whole partition
 * once (WinGetFuncArgInPartition) to total the positive revenue and to check
 * that revenue never rises along the partition, i.e. that the window is
 * ordered as the classification needs; then each row is classed from a running
 * sum kept in partition-local memory.
 *
 * Rule: a customer's "revenue before" is the revenue of every customer with
 * strictly higher revenue, so tied customers always get the same class
 * whatever order the sort left them in.  A if revenue before is below
 * a_cutoff% of the total, else B if below b_cutoff%, else C: the customer who
 * crosses 80% is still A.  Zero or negative revenue is C and not in the total.
 *
 * abc_class_of(share_before, a_cutoff, b_cutoff) applies the same rule to a
 * share the user computed.
 *
 * abc_thresholds(revenue, a_cutoff, b_cutoff) is an aggregate giving the
 * least revenue classed A and the least classed B by the same rule, as a
 * float8[] of two: a customer's class is then a comparison of its revenue
 * with them, since the class only falls as revenue falls.  Its state keeps
 * the positive revenues (value_state.h), so Citus and parallel query compute
 * partial states where the rows are and combine them; the final function
 * sorts them and runs the window's sums in the window's order, so it gives
 * exactly the classes abc_class gives.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "windowapi.h"

#include "catalog/pg_type.h"
#include "utils/array.h"

#include "compat.h"
#include "value_state.h"

PG_FUNCTION_INFO_V1(abc_class);
PG_FUNCTION_INFO_V1(abc_class_of);
PG_FUNCTION_INFO_V1(abc_thresholds_accum);
PG_FUNCTION_INFO_V1(abc_thresholds_combine);
PG_FUNCTION_INFO_V1(abc_thresholds_final);

/* What one partition needs to remember between rows. */
typedef struct AbcPartition
{
	bool		initialized;
	double		total;			/* positive revenue of the whole partition */
	double		a_cutoff;
	double		b_cutoff;
	double		running;		/* positive revenue of the rows seen so far */
	double		before;			/* revenue strictly higher than the current row's */
	double		previous;		/* revenue of the last non-NULL row seen */
	bool		have_previous;
	int64		next_position;	/* the row we expect to be called for next */
} AbcPartition;

/* Cut-offs are cumulative percentages: 0 < a_cutoff < b_cutoff <= 100. */
static void
CheckCutoffs(double a_cutoff, double b_cutoff)
{
	if (!(a_cutoff > 0 && a_cutoff < b_cutoff && b_cutoff <= 100))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ABC cut-offs must satisfy 0 < a_cutoff < b_cutoff <= 100, not a_cutoff = %s and b_cutoff = %s",
						float8out_internal(a_cutoff), float8out_internal(b_cutoff)),
				 errhint("Cut-offs are cumulative revenue percentages, such as 80 and 95.")));
}

/* A NULL cut-off has no meaning; hint says how to get the usual ones. */
static void
CheckCutoffNotNull(bool isnull, const char *hint)
{
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ABC cut-offs must not be NULL"),
				 errhint("%s", hint)));
}

/* Revenue must be finite to add up. */
static void
CheckRevenue(double revenue)
{
	if (isnan(revenue) || isinf(revenue))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("revenue must be finite, not %s", float8out_internal(revenue)),
				 errhint("Filter out or correct non-finite revenue before classifying.")));
}

/* The positive revenue of a population must add up in double precision. */
static void
CheckTotal(double total)
{
	if (isinf(total))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("total revenue of the partition is out of range for double precision"),
				 errhint("Classify in a smaller unit of currency.")));
}

/* Class of a customer from the revenue before it and the total, in percent. */
static const char *
ClassOf(double before, double total, double a_cutoff, double b_cutoff)
{
	/*
	 * Compare before * 100 < cutoff * total rather than a quotient, so that a
	 * customer starting exactly at 80% is B; scale first if products could
	 * overflow.
	 */
	if (total > 1e300)
	{
		before = ldexp(before, -64);
		total = ldexp(total, -64);
	}
	if (before * 100 < a_cutoff * total)
		return "A";
	if (before * 100 < b_cutoff * total)
		return "B";
	return "C";
}

/* Read the partition once: total its positive revenue and check its order. */
static void
ScanPartition(WindowObject winobj, AbcPartition *part)
{
	double		total = 0;
	double		previous = 0;
	bool		have_previous = false;
	int64		pos;

	for (pos = 0;; pos++)
	{
		bool		isnull;
		bool		isout;
		double		revenue;
		Datum		d;

		d = WinGetFuncArgInPartition(winobj, 0, pos, WINDOW_SEEK_HEAD, false,
									 &isnull, &isout);
		if (isout)
			break;
		if (isnull)
			continue;
		revenue = DatumGetFloat8(d);
		CheckRevenue(revenue);
		if (have_previous && revenue > previous)
			ereport(ERROR,
					(errcode(ERRCODE_WINDOWING_ERROR),
					 errmsg("abc_class needs its window ordered by revenue, highest first"),
					 errdetail("Revenue rises from %s to %s at row %lld of the partition.",
							   float8out_internal(previous), float8out_internal(revenue),
							   (long long) pos + 1),
					 errhint("Write OVER (ORDER BY revenue DESC), with PARTITION BY before ORDER BY if needed.")));
		previous = revenue;
		have_previous = true;
		if (revenue > 0)
			total += revenue;
	}
	CheckTotal(total);
	part->total = total;
}

/* Window function: 'A', 'B' or 'C' for the current row, NULL for NULL revenue. */
Datum
abc_class(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	AbcPartition *part;
	int64		pos = WinGetCurrentPosition(winobj);
	bool		isnull;
	double		revenue;
	double		a_cutoff;
	double		b_cutoff;
	Datum		d;

	part = (AbcPartition *) WinGetPartitionLocalMemory(winobj, sizeof(AbcPartition));

	/* Cut-offs: not NULL, valid, and the same on every row of the partition. */
	d = WinGetFuncArgCurrent(winobj, 1, &isnull);
	CheckCutoffNotNull(isnull, "Omit them to use the defaults 80 and 95.");
	a_cutoff = DatumGetFloat8(d);
	d = WinGetFuncArgCurrent(winobj, 2, &isnull);
	CheckCutoffNotNull(isnull, "Omit them to use the defaults 80 and 95.");
	b_cutoff = DatumGetFloat8(d);

	if (!part->initialized)
	{
		CheckCutoffs(a_cutoff, b_cutoff);
		ScanPartition(winobj, part);
		part->a_cutoff = a_cutoff;
		part->b_cutoff = b_cutoff;
		part->initialized = true;
	}
	else if (a_cutoff != part->a_cutoff || b_cutoff != part->b_cutoff)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ABC cut-offs changed within a partition from (%s, %s) to (%s, %s)",
						float8out_internal(part->a_cutoff), float8out_internal(part->b_cutoff),
						float8out_internal(a_cutoff), float8out_internal(b_cutoff)),
				 errhint("Pass constants as a_cutoff and b_cutoff.")));

	/* The running sums assume one call per row, in order, as WindowAgg does. */
	if (pos != part->next_position)
		elog(ERROR, "abc_class called for row " INT64_FORMAT ", expected " INT64_FORMAT,
			 pos, part->next_position);
	part->next_position = pos + 1;

	d = WinGetFuncArgCurrent(winobj, 0, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	revenue = DatumGetFloat8(d);
	if (revenue <= 0)
		PG_RETURN_TEXT_P(cstring_to_text("C"));

	/* A new, lower revenue starts a new group of peers. */
	if (!part->have_previous || revenue < part->previous)
		part->before = part->running;
	part->previous = revenue;
	part->have_previous = true;
	part->running += revenue;

	PG_RETURN_TEXT_P(cstring_to_text(ClassOf(part->before, part->total,
											 part->a_cutoff, part->b_cutoff)));
}

/* Scalar form: class from a cumulative share before the customer, in percent. */
Datum
abc_class_of(PG_FUNCTION_ARGS)
{
	double		share = PG_GETARG_FLOAT8(0);
	double		a_cutoff = PG_GETARG_FLOAT8(1);
	double		b_cutoff = PG_GETARG_FLOAT8(2);

	CheckCutoffs(a_cutoff, b_cutoff);
	if (!(share >= 0 && share <= 100))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cumulative share must be a percentage between 0 and 100, not %s",
						float8out_internal(share)),
				 errhint("Pass 100 * (revenue of the customers before this one) / (total revenue).")));
	if (share < a_cutoff)
		PG_RETURN_TEXT_P(cstring_to_text("A"));
	if (share < b_cutoff)
		PG_RETURN_TEXT_P(cstring_to_text("B"));
	PG_RETURN_TEXT_P(cstring_to_text("C"));
}

/* The header of an abc_thresholds state: valid cut-offs, the ones asked for. */
static void
CheckThresholdsHeader(const ValueStateKind *kind, const double *stored, const double *given)
{
	if (!(stored[0] > 0 && stored[0] < stored[1] && stored[1] <= 100))
		BadValueState(kind, "The first two elements are not cut-offs with 0 < a_cutoff < b_cutoff <= 100.");
	if (given != NULL && (stored[0] != given[0] || stored[1] != given[1]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ABC cut-offs changed within one abc_thresholds aggregate from (%s, %s) to (%s, %s)",
						float8out_internal(stored[0]), float8out_internal(stored[1]),
						float8out_internal(given[0]), float8out_internal(given[1])),
				 errhint("Pass constants as a_cutoff and b_cutoff.")));
}

static const ValueStateKind thresholds_state = {
	.name = "abc_thresholds",
	.nheader = 2,
	.too_short = "The array is not a one-dimensional array holding at least the two cut-offs.",
	.hint = "The state is a one-dimensional double precision array holding a_cutoff and b_cutoff, then the positive revenues.",
	.check_header = CheckThresholdsHeader
};

/*
 * Transition: check the cut-offs, keep a positive revenue; NULL, zero and
 * negative revenue are C and count in no total, as in abc_class.
 */
Datum
abc_thresholds_accum(PG_FUNCTION_ARGS)
{
	double		cutoffs[2];
	double		revenue;

	CheckCutoffNotNull(PG_ARGISNULL(2) || PG_ARGISNULL(3), "Pass 80 and 95 for the usual cut-offs.");
	cutoffs[0] = PG_GETARG_FLOAT8(2);
	cutoffs[1] = PG_GETARG_FLOAT8(3);
	CheckCutoffs(cutoffs[0], cutoffs[1]);
	if (!PG_ARGISNULL(1))
	{
		revenue = PG_GETARG_FLOAT8(1);
		CheckRevenue(revenue);
		if (revenue > 0)
			PG_RETURN_DATUM(AppendValueState(&thresholds_state, fcinfo, cutoffs, revenue));
	}
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

/* Combine: concatenate the revenues of two states with the same cut-offs. */
Datum
abc_thresholds_combine(PG_FUNCTION_ARGS)
{
	return CombineValueStates(&thresholds_state, fcinfo);
}

/*
 * Final: {least revenue classed A, least classed B}, an element NULL when no
 * customer has that class; NULL when no revenue was positive.  The revenues
 * are summed highest first, as abc_class sums its window.
 */
Datum
abc_thresholds_final(PG_FUNCTION_ARGS)
{
	double		cutoffs[2];
	double	   *values;
	int			count;
	double		total = 0;
	double		running = 0;
	double		before = 0;
	Datum		least[2] = {0, 0};
	bool		none[2] = {true, true};
	int			dims[1] = {2};
	int			lbs[1] = {1};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	/* A copy: the state may be read again (window aggregates, shared states). */
	values = ReadValueState(&thresholds_state, PG_GETARG_ANY_ARRAY_P(0), cutoffs, &count);
	for (int i = 0; i < count; i++)
		if (!(values[i] > 0))
			BadValueState(&thresholds_state, "A revenue is not positive.");
	if (count == 0)
		PG_RETURN_NULL();
	SortValues(values, count);
	/* highest first, from the end of the sorted values */
	for (int i = count - 1; i >= 0; i--)
		total += values[i];
	CheckTotal(total);
	for (int i = count - 1; i >= 0; i--)
	{
		const char *class;

		/* a new, lower revenue starts a new group of peers */
		if (i == count - 1 || values[i] < values[i + 1])
			before = running;
		running += values[i];
		class = ClassOf(before, total, cutoffs[0], cutoffs[1]);
		if (class[0] != 'C')
		{
			least[class[0] - 'A'] = Float8GetDatum(values[i]);
			none[class[0] - 'A'] = false;
		}
	}
	PG_RETURN_ARRAYTYPE_P(construct_md_array(least, none, 1, dims, lbs, FLOAT8OID, sizeof(float8),
											 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
