/*
 * breakpoints.c — quantile breakpoints of a population, and the score of a
 * value against them.
 *
 * breakpoints(value, n) is an aggregate whose state is a plain float8[]:
 * element 1 holds n, the rest are the non-NULL values seen so far
 * (value_state.h: a real array type, which parallel query and Citus ship as
 * text, appended to in place once large).
 *
 * score(value, breakpoints, higher_is_better) maps a value to 1..n against
 * n-1 sorted cut points.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "compat.h"
#include "rfm.h"
#include "value_state.h"

/* More quantiles than this is a histogram, not a score scale. */
#define BREAKPOINTS_MAX_N 1000

PG_FUNCTION_INFO_V1(breakpoints_accum);
PG_FUNCTION_INFO_V1(breakpoints_combine);
PG_FUNCTION_INFO_V1(breakpoints_final);
PG_FUNCTION_INFO_V1(score);

/* The number of quantiles must be a small integer of at least 2. */
static void
CheckQuantileCount(int32 n)
{
	if (n < 2 || n > BREAKPOINTS_MAX_N)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of quantiles must be between 2 and %d, not %d",
						BREAKPOINTS_MAX_N, n),
				 errhint("Use 5 for quintiles, 4 for quartiles, 10 for deciles.")));
}

/* A population value must be finite: NaN or infinity has no rank. */
static void
CheckPopulationValue(double value)
{
	if (isnan(value) || isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("breakpoints population value must be finite, not %s",
						isnan(value) ? "NaN" : (value > 0 ? "Infinity" : "-Infinity")),
				 errhint("Filter out non-finite values, or map them to finite ones, before aggregating.")));
}

/* Every row of one aggregate call must ask for the same number of quantiles. */
static void
CheckSameQuantileCount(int32 have, int32 n)
{
	if (have != n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of quantiles changed from %d to %d within one breakpoints aggregate",
						have, n),
				 errhint("Pass a constant as the second argument of breakpoints().")));
}

/* The header of a breakpoints state: n, a valid quantile count, the one asked for. */
static void
CheckBreakpointsHeader(const ValueStateKind *kind, const double *stored, const double *given)
{
	double		first = stored[0];

	if (!(first >= 2 && first <= BREAKPOINTS_MAX_N) || first != floor(first))
		BadValueState(kind, "The first element is not a number of quantiles between 2 and 1000.");
	if (given != NULL)
		CheckSameQuantileCount((int32) first, (int32) given[0]);
}

static const ValueStateKind breakpoints_state = {
	.name = "breakpoints",
	.nheader = 1,
	.too_short = "The array is not a one-dimensional array holding at least the number of quantiles.",
	.hint = "The state is a one-dimensional double precision array holding the number of quantiles, then the finite values.",
	.check_header = CheckBreakpointsHeader
};

/* Transition: check n, skip NULL values, append the value to the state. */
Datum
breakpoints_accum(PG_FUNCTION_ARGS)
{
	double		n;
	double		value;

	if (PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(1))
		{
			/* Nothing to check or add. */
			if (PG_ARGISNULL(0))
				PG_RETURN_NULL();
			PG_RETURN_DATUM(PG_GETARG_DATUM(0));
		}
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("number of quantiles must not be NULL"),
				 errhint("Pass a constant such as 5 as the second argument of breakpoints().")));
	}
	CheckQuantileCount(PG_GETARG_INT32(2));
	n = PG_GETARG_INT32(2);

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	value = PG_GETARG_FLOAT8(1);
	CheckPopulationValue(value);
	PG_RETURN_DATUM(AppendValueState(&breakpoints_state, fcinfo, &n, value));
}

/* Combine: concatenate the values of two states with the same n. */
Datum
breakpoints_combine(PG_FUNCTION_ARGS)
{
	return CombineValueStates(&breakpoints_state, fcinfo);
}

/*
 * percentile_cont's interpolation between neighbours lo and hi; if hi - lo
 * overflows (values near +-DBL_MAX) the weighted form keeps the result finite.
 */
static double
Interpolate(double lo, double hi, double fraction)
{
	double		span = hi - lo;

	if (isinf(span))
		return lo * (1.0 - fraction) + hi * fraction;
	return lo + span * fraction;
}

/* Final: sort a copy of the values and read the n-1 cut points off it. */
Datum
breakpoints_final(PG_FUNCTION_ARGS)
{
	double	   *values;
	Datum	   *cuts;
	double		header;
	int32		n;
	int			count;
	int			k;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	/* A copy: the state may be read again (window aggregates, shared states). */
	values = ReadValueState(&breakpoints_state, PG_GETARG_ANY_ARRAY_P(0), &header, &count);
	n = (int32) header;
	if (count == 0)
		PG_RETURN_NULL();
	/* only the values at the cut points' positions need their sorted place */
	{
		int		   *positions = palloc(sizeof(int) * 2 * (n - 1));
		int			npositions = 0;

		for (k = 1; k < n; k++)
		{
			double		position = (double) k / (double) n * (count - 1);

			for (int side = 0; side < 2; side++)
			{
				int			p = (int) (side == 0 ? floor(position) : ceil(position));

				if (npositions == 0 || positions[npositions - 1] < p)
					positions[npositions++] = p;
			}
		}
		SelectValues(values, count, positions, npositions);
	}

	cuts = palloc(sizeof(Datum) * (n - 1));
	for (k = 1; k < n; k++)
	{
		/* Same arithmetic as percentile_cont(k/n), so results agree exactly. */
		double		fraction = (double) k / (double) n;
		double		position = fraction * (count - 1);
		int64		first = (int64) floor(position);
		int64		second = (int64) ceil(position);

		if (first == second)
			cuts[k - 1] = Float8GetDatum(values[first]);
		else
			cuts[k - 1] = Float8GetDatum(Interpolate(values[first], values[second],
													 position - first));
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(cuts, n - 1, FLOAT8OID, sizeof(float8),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * Validate a breakpoints array: one-dimensional, non-empty, no NULLs, finite,
 * nondecreasing.  Returns a pointer to its values and their count.
 */
static const double *
CheckBreakpoints(ArrayType *breakpoints, int *count)
{
	const double *cuts;
	int			nitems;
	int			i;

	if (ARR_NDIM(breakpoints) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("breakpoints must have at least one element"),
				 errhint("n scores need n - 1 breakpoints, for example ARRAY[50] for two scores.")));
	if (ARR_NDIM(breakpoints) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("breakpoints must be a one-dimensional array"),
				 errhint("Pass the array returned by breakpoints(), for example ARRAY[10, 20, 30, 40] for five scores.")));
	nitems = ARR_DIMS(breakpoints)[0];
	if (ARR_HASNULL(breakpoints))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("breakpoints must not contain NULL"),
				 errhint("breakpoints() returns NULL as a whole for an empty population; filter that case out.")));
	cuts = (const double *) ARR_DATA_PTR(breakpoints);
	for (i = 0; i < nitems; i++)
	{
		if (isnan(cuts[i]) || isinf(cuts[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("breakpoint %d is not finite", i + 1),
					 errhint("Breakpoints are finite cut points, as breakpoints() returns.")));
		if (i > 0 && cuts[i] < cuts[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("breakpoints must be nondecreasing, but breakpoint %d is less than breakpoint %d",
							i + 1, i),
					 errdetail("Breakpoint %d is %s and breakpoint %d is %s.",
							   i, float8out_internal(cuts[i - 1]),
							   i + 1, float8out_internal(cuts[i])),
					 errhint("Sort the breakpoints in ascending order, as breakpoints() returns them.")));
	}
	*count = nitems;
	return cuts;
}

/*
 * Score a value 1..n against n-1 breakpoints: higher is better counts the
 * breakpoints strictly below the value; lower is better (recency in days)
 * counts those strictly above it.
 */
int32
ScoreAgainst(double value, ArrayType *breakpoints, bool higher_is_better)
{
	const double *cuts;
	int			count;
	int			result = 1;
	int			i;

	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot score NaN"),
				 errhint("Score only numbers; map NaN to NULL to leave the customer unscored.")));
	cuts = CheckBreakpoints(breakpoints, &count);

	for (i = 0; i < count; i++)
	{
		if (higher_is_better ? cuts[i] < value : cuts[i] > value)
			result++;
	}
	return result;
}

/* SQL: score(value, breakpoints, higher_is_better); see ScoreAgainst. */
Datum
score(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(ScoreAgainst(PG_GETARG_FLOAT8(0), PG_GETARG_ARRAYTYPE_P(1), PG_GETARG_BOOL(2)));
}
