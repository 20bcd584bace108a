/*
 * satisfaction.c — NPS and CSAT aggregates.
 *
 * The state is a bigint[] histogram with one counter per answer on the scale
 * (11 for NPS 0..10, 5 for CSAT 1..5): a real array type that parallel query
 * and Citus can ship as text, that combines by adding counters, and that keeps
 * the full distribution rather than only the two numbers the final needs.
 * Inside an aggregate the transition function increments the counter in place,
 * as PostgreSQL's int4_avg_accum does with its int8[] state (and pgvector with
 * its float8[] accumulator): the state was copied from the initcond into the
 * aggregate context and belongs to this group alone.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "utils/array.h"

#include "compat.h"

PG_FUNCTION_INFO_V1(nps_accum);
PG_FUNCTION_INFO_V1(nps_final);
PG_FUNCTION_INFO_V1(nps_retract);
PG_FUNCTION_INFO_V1(csat_accum);
PG_FUNCTION_INFO_V1(csat_retract);
PG_FUNCTION_INFO_V1(csat_final);
PG_FUNCTION_INFO_V1(nps_combine);
PG_FUNCTION_INFO_V1(csat_combine);

/* An answer scale: its name for messages and its lowest and highest answer. */
typedef struct Scale
{
	const char *name;
	int32		low;
	int32		high;
} Scale;

static const Scale NpsScale = {"NPS", 0, 10};
static const Scale CsatScale = {"CSAT", 1, 5};

/* An answer must lie on its scale; the message names the scale. */
static void
CheckAnswer(const Scale *scale, int32 answer)
{
	if (answer < scale->low || answer > scale->high)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s answer must be between %d and %d, not %d",
						scale->name, scale->low, scale->high, answer),
				 errhint("Map answers on other scales onto %d..%d, or filter them out, before aggregating.",
						 scale->low, scale->high)));
}

static void ReportCountOverflow(const Scale *scale) pg_attribute_noreturn();

/* A counter would pass the end of bigint: only a corrupt state gets there. */
static void
ReportCountOverflow(const Scale *scale)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s answer count out of range for bigint", scale->name),
			 errhint("Pass only states made by the nps or csat aggregate.")));
}

/*
 * Validate a histogram state against the number of counters it must have,
 * and return its counters.  Counters must be non-negative.
 */
static int64 *
CheckState(ArrayType *state, int width)
{
	int64	   *counters;
	int			i;

	if (ARR_NDIM(state) != 1 || ARR_DIMS(state)[0] != width || ARR_HASNULL(state))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid satisfaction state"),
				 errdetail("The state must be a one-dimensional bigint array of %d counters without NULLs.",
						   width),
				 errhint("Pass only states made by the nps or csat aggregate.")));
	counters = (int64 *) ARR_DATA_PTR(state);
	for (i = 0; i < width; i++)
		if (counters[i] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid satisfaction state"),
					 errdetail("Counter %d is negative.", i + 1),
					 errhint("Pass only states made by the nps or csat aggregate.")));
	return counters;
}

/* The state to update: in place inside an aggregate, else a private copy. */
static ArrayType *
WritableState(FunctionCallInfo fcinfo, int argno)
{
	if (AggCheckCallContext(fcinfo, NULL))
		return PG_GETARG_ARRAYTYPE_P(argno);
	return PG_GETARG_ARRAYTYPE_P_COPY(argno);
}

/*
 * Shared transition: count one answer (NULL answers never get here: STRICT).
 * Every counter is checked, not only the one counted: eleven comparisons per
 * row are cheap, and counting into a state with a negative counter could turn
 * it into one that looks valid ({-1, ..} + answer 0 = {0, ..}).
 */
static Datum
SatisfactionAccum(FunctionCallInfo fcinfo, const Scale *scale)
{
	ArrayType  *state = WritableState(fcinfo, 0);
	int32		answer = PG_GETARG_INT32(1);
	int64	   *counters;
	int64		count;

	counters = CheckState(state, scale->high - scale->low + 1);
	CheckAnswer(scale, answer);
	/* A hand-made state at the end of bigint must not wrap to negative. */
	if (pg_add_s64_overflow(counters[answer - scale->low], 1, &count))
		ReportCountOverflow(scale);
	counters[answer - scale->low] = count;
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Transition of nps(score): count one 0..10 answer. */
Datum
nps_accum(PG_FUNCTION_ARGS)
{
	return SatisfactionAccum(fcinfo, &NpsScale);
}

/* Transition of csat(score): count one 1..5 answer. */
Datum
csat_accum(PG_FUNCTION_ARGS)
{
	return SatisfactionAccum(fcinfo, &CsatScale);
}

/*
 * Shared inverse transition, for moving windows (a rolling 30-day NPS): take
 * back one answer that the window counted before.
 */
static Datum
SatisfactionRetract(FunctionCallInfo fcinfo, const Scale *scale)
{
	ArrayType  *state = WritableState(fcinfo, 0);
	int32		answer = PG_GETARG_INT32(1);
	int64	   *counters;

	counters = CheckState(state, scale->high - scale->low + 1);
	CheckAnswer(scale, answer);
	if (counters[answer - scale->low] <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid satisfaction state"),
				 errdetail("The state counts no answer %d to take back.", answer),
				 errhint("Pass only states made by the nps or csat aggregate.")));
	counters[answer - scale->low]--;
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Inverse transition of nps(score) in moving windows. */
Datum
nps_retract(PG_FUNCTION_ARGS)
{
	return SatisfactionRetract(fcinfo, &NpsScale);
}

/* Inverse transition of csat(score) in moving windows. */
Datum
csat_retract(PG_FUNCTION_ARGS)
{
	return SatisfactionRetract(fcinfo, &CsatScale);
}

/* Shared combine: add the second histogram into the first. */
static Datum
SatisfactionCombine(FunctionCallInfo fcinfo, const Scale *scale)
{
	int			width = scale->high - scale->low + 1;
	ArrayType  *state = WritableState(fcinfo, 0);
	int64	   *mine = CheckState(state, width);
	int64	   *theirs = CheckState(PG_GETARG_ARRAYTYPE_P(1), width);
	int			i;

	for (i = 0; i < width; i++)
		if (pg_add_s64_overflow(mine[i], theirs[i], &mine[i]))
			ReportCountOverflow(scale);
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Combine of nps: add two 11-counter histograms. */
Datum
nps_combine(PG_FUNCTION_ARGS)
{
	return SatisfactionCombine(fcinfo, &NpsScale);
}

/* Combine of csat: add two 5-counter histograms. */
Datum
csat_combine(PG_FUNCTION_ARGS)
{
	return SatisfactionCombine(fcinfo, &CsatScale);
}

/* Sum the counters from index from to index to, inclusive, without overflow. */
static int64
CountRange(const Scale *scale, const int64 *counters, int from, int to)
{
	int64		sum = 0;
	int			i;

	for (i = from; i <= to; i++)
		if (pg_add_s64_overflow(sum, counters[i], &sum))
			ReportCountOverflow(scale);
	return sum;
}

/* Final of nps: % promoters (9-10) minus % detractors (0-6); NULL if no answers. */
Datum
nps_final(PG_FUNCTION_ARGS)
{
	int64	   *counters = CheckState(PG_GETARG_ARRAYTYPE_P(0), NpsScale.high - NpsScale.low + 1);
	int64		total = CountRange(&NpsScale, counters, 0, 10);
	int64		promoters = counters[9] + counters[10];	/* <= total: no overflow */
	int64		detractors = CountRange(&NpsScale, counters, 0, 6);

	if (total == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(((double) promoters - (double) detractors) * 100.0 / (double) total);
}

/* Final of csat: % of answers that are 4 or 5; NULL if no answers. */
Datum
csat_final(PG_FUNCTION_ARGS)
{
	int64	   *counters = CheckState(PG_GETARG_ARRAYTYPE_P(0), CsatScale.high - CsatScale.low + 1);
	int64		total = CountRange(&CsatScale, counters, 0, 4);
	int64		satisfied = counters[3] + counters[4];

	if (total == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8((double) satisfied * 100.0 / (double) total);
}
