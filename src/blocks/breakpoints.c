/*
 * breakpoints.c — quantile breakpoints of a population, and the score of a
 * value against them.
 *
 * breakpoints(value, n) is an aggregate whose state is a plain float8[]:
 * element 1 holds n, the rest are the non-NULL values seen so far.  Keeping a
 * real array type (rather than internal) lets parallel query and Citus ship
 * partial states as text.  Once a state holds more than a few hundred values
 * the transition function appends in place through PostgreSQL's expanded
 * arrays (array_set_element on a read/write expanded object grows its Datum
 * array geometrically, as array_append does), so each row costs O(1)
 * amortized; nodeAgg keeps a read/write expanded state whose memory context is
 * a child of the aggregate context without copying it.  Smaller states stay
 * flat (see BREAKPOINTS_FLAT_MAX for why).
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

/* More quantiles than this is a histogram, not a score scale. */
#define BREAKPOINTS_MAX_N 1000

/*
 * A state of up to this many elements stays a flat array, copied one value
 * longer per row; a larger one becomes an expanded array appended in place.
 * Each expanded array owns a memory context, and hash aggregation sums the
 * memory of every child context each time it adds a group, so one context per
 * group made GROUP BY with 100,000 small groups take 27 s instead of 0.5 s.
 */
#define BREAKPOINTS_FLAT_MAX 256

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

/* Raise the error for a state array that this module did not make. */
static void
BadState(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid breakpoints state"),
			 errdetail("%s", why),
			 errhint("The state is a one-dimensional double precision array holding the number of quantiles, then the finite values.")));
}

/* Read n from a state's first element, which must be a valid quantile count. */
static int32
StateQuantileCount(double first)
{
	if (!(first >= 2 && first <= BREAKPOINTS_MAX_N) || first != floor(first))
		BadState("The first element is not a number of quantiles between 2 and 1000.");
	return (int32) first;
}

/*
 * Validate a state array (flat or expanded) and return a palloc'd copy of its
 * values, without n; *n receives n and *count the number of values.
 */
static double *
ReadState(AnyArrayType *state, int32 *n, int *count)
{
	int			nitems;
	double	   *values;
	int			i;

	if (AARR_NDIM(state) == 0)
		BadState("The array is empty.");
	if (AARR_NDIM(state) != 1)
		BadState("The array is not one-dimensional.");
	nitems = AARR_DIMS(state)[0];
	if (nitems < 1)
		BadState("The array is empty.");
	values = palloc(sizeof(double) * nitems);

	if (VARATT_IS_EXPANDED_HEADER(state))
	{
		ExpandedArrayHeader *eah = &state->xpn;

		deconstruct_expanded_array(eah);
		for (i = 0; i < nitems; i++)
		{
			if (eah->dnulls && eah->dnulls[i])
				BadState("The array contains a NULL.");
			values[i] = DatumGetFloat8(eah->dvalues[i]);
		}
	}
	else
	{
		ArrayType  *flat = &state->flt;

		if (ARR_HASNULL(flat))
			BadState("The array contains a NULL.");
		memcpy(values, ARR_DATA_PTR(flat), sizeof(double) * nitems);
	}

	*n = StateQuantileCount(values[0]);
	for (i = 1; i < nitems; i++)
		if (isnan(values[i]) || isinf(values[i]))
			BadState("A value is not finite.");
	*count = nitems - 1;
	/* Callers want the values only: shift them down over n. */
	memmove(values, values + 1, sizeof(double) * (nitems - 1));
	return values;
}

/* Append one float8 to a read/write expanded array, in place. */
static void
AppendValue(ExpandedArrayHeader *eah, double value)
{
	int			index = eah->lbound[0] + eah->dims[0];

	(void) array_set_element(EOHPGetRWDatum(&eah->hdr), 1, &index,
							 Float8GetDatum(value), false,
							 -1, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * A flat state {n, first..., second...} in the current memory context; the
 * executor copies it into the aggregate context when it is returned.
 */
static ArrayType *
FlatState(int32 n, const double *first, int nfirst, const double *second, int nsecond)
{
	int			nitems = 1 + nfirst + nsecond;
	Size		size = ARR_OVERHEAD_NONULLS(1) + sizeof(double) * nitems;
	ArrayType  *flat = palloc(size);
	double	   *data;

	SET_VARSIZE(flat, size);
	flat->ndim = 1;
	flat->dataoffset = 0;
	flat->elemtype = FLOAT8OID;
	ARR_DIMS(flat)[0] = nitems;
	ARR_LBOUND(flat)[0] = 1;
	data = (double *) ARR_DATA_PTR(flat);
	data[0] = (double) n;
	if (nfirst > 0)
		memcpy(data + 1, first, sizeof(double) * nfirst);
	if (nsecond > 0)
		memcpy(data + 1 + nfirst, second, sizeof(double) * nsecond);
	return flat;
}

/* The same state as a read/write expanded array owned by memory context cxt. */
static ExpandedArrayHeader *
ExpandState(ArrayType *flat, MemoryContext cxt)
{
	return DatumGetExpandedArray(expand_array(PointerGetDatum(flat), cxt, NULL));
}

/* The memory context that must own the state: the aggregate's, if any. */
static MemoryContext
StateContext(FunctionCallInfo fcinfo)
{
	MemoryContext aggcxt;

	if (AggCheckCallContext(fcinfo, &aggcxt))
		return aggcxt;
	return CurrentMemoryContext;
}

/*
 * Is argument argno a read/write expanded array?  Inside an aggregate that is
 * only ever the state this module made, which it may change in place (the
 * same rule array_append relies on).
 */
static bool
ArgIsWritableExpanded(FunctionCallInfo fcinfo, int argno)
{
	return VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(PG_GETARG_DATUM(argno)));
}

/* Cheap check of a read/write expanded state: its shape and its n. */
static void
CheckExpandedState(ExpandedArrayHeader *eah, int32 n)
{
	if (eah->ndims != 1 || eah->dims[0] < 1)
		BadState("The array is not a one-dimensional array holding at least the number of quantiles.");
	deconstruct_expanded_array(eah);
	if (eah->dnulls && eah->dnulls[0])
		BadState("The array contains a NULL.");
	CheckSameQuantileCount(StateQuantileCount(DatumGetFloat8(eah->dvalues[0])), n);
}

/* Transition: check n, skip NULL values, append the value to the state. */
Datum
breakpoints_accum(PG_FUNCTION_ARGS)
{
	int32		n;
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
	n = PG_GETARG_INT32(2);
	CheckQuantileCount(n);

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	value = PG_GETARG_FLOAT8(1);
	CheckPopulationValue(value);

	if (PG_ARGISNULL(0))
		PG_RETURN_ARRAYTYPE_P(FlatState(n, &value, 1, NULL, 0));

	if (ArgIsWritableExpanded(fcinfo, 0))
	{
		/* A large state: ours to append to in place. */
		ExpandedArrayHeader *eah = PG_GETARG_EXPANDED_ARRAY(0);

		CheckExpandedState(eah, n);
		AppendValue(eah, value);
		PG_RETURN_DATUM(EOHPGetRWDatum(&eah->hdr));
	}
	else
	{
		/* A small state (or one we must not change): copy it one value longer. */
		ArrayType  *flat = PG_GETARG_ARRAYTYPE_P(0);
		const double *data;
		int			nitems;
		ArrayType  *longer;

		if (ARR_NDIM(flat) != 1 || ARR_DIMS(flat)[0] < 1)
			BadState("The array is not a one-dimensional array holding at least the number of quantiles.");
		if (ARR_HASNULL(flat))
			BadState("The array contains a NULL.");
		data = (const double *) ARR_DATA_PTR(flat);
		nitems = ARR_DIMS(flat)[0];
		CheckSameQuantileCount(StateQuantileCount(data[0]), n);
		longer = FlatState(n, data + 1, nitems - 1, &value, 1);
		if (nitems < BREAKPOINTS_FLAT_MAX)
			PG_RETURN_ARRAYTYPE_P(longer);
		PG_RETURN_DATUM(EOHPGetRWDatum(&ExpandState(longer, StateContext(fcinfo))->hdr));
	}
}

/* Combine: concatenate the values of two states with the same n. */
Datum
breakpoints_combine(PG_FUNCTION_ARGS)
{
	double	   *theirs;
	double	   *mine = NULL;
	int32		n1,
				n2;
	int			ntheirs;
	int			nmine = 0;
	int			i;
	ArrayType  *flat;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	theirs = ReadState(PG_GETARG_ANY_ARRAY_P(1), &n2, &ntheirs);
	if (!PG_ARGISNULL(0) && ArgIsWritableExpanded(fcinfo, 0))
	{
		/* A large state we made: check its n only, and append in place. */
		ExpandedArrayHeader *eah = PG_GETARG_EXPANDED_ARRAY(0);

		CheckExpandedState(eah, n2);
		for (i = 0; i < ntheirs; i++)
			AppendValue(eah, theirs[i]);
		PG_RETURN_DATUM(EOHPGetRWDatum(&eah->hdr));
	}
	if (!PG_ARGISNULL(0))
	{
		mine = ReadState(PG_GETARG_ANY_ARRAY_P(0), &n1, &nmine);
		CheckSameQuantileCount(n1, n2);
	}
	flat = FlatState(n2, mine, nmine, theirs, ntheirs);
	if (nmine + ntheirs < BREAKPOINTS_FLAT_MAX)
		PG_RETURN_ARRAYTYPE_P(flat);
	PG_RETURN_DATUM(EOHPGetRWDatum(&ExpandState(flat, StateContext(fcinfo))->hdr));
}

/* qsort comparator for finite doubles. */
static int
CompareDoubles(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
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
	int32		n;
	int			count;
	int			k;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	/* A copy: the state may be read again (window aggregates, shared states). */
	values = ReadState(PG_GETARG_ANY_ARRAY_P(0), &n, &count);
	if (count == 0)
		PG_RETURN_NULL();
	qsort(values, count, sizeof(double), CompareDoubles);

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
