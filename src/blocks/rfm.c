/*
 * rfm.c — RFM segment names and the weighted value score from R, F and M
 * scores on 1..5.
 *
 * The segment grid works on R and FM = ceil((F + M) / 2), the common
 * simplification that keeps a 5x5 table a marketer can read; docs/rfm.md
 * prints it.  The value score is a weighted mean of each score rescaled from
 * 1..5 to 0..100.
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

PG_FUNCTION_INFO_V1(rfm_segment);
PG_FUNCTION_INFO_V1(value_score);

/* Rows: R = 5 down to 1; columns: FM = 1 to 5.  Keep in step with docs/rfm.md. */
static const char *const SegmentGrid[5][5] = {
	/* R5 */ {"New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"},
	/* R4 */ {"Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Champions"},
	/* R3 */ {"About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"},
	/* R2 */ {"Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"},
	/* R1 */ {"Lost", "Hibernating", "At Risk", "Can't Lose Them", "Can't Lose Them"},
};

/* An R, F or M score must be an integer 1..5; the message names which one. */
static void
CheckRfmScore(int32 score, const char *which)
{
	if (score < 1 || score > 5)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s score must be between 1 and 5, not %d", which, score),
				 errhint("Compute scores with score(value, breakpoints) over quintile breakpoints: breakpoints(value, 5).")));
}

/* The segment name for scores r, f, m on 1..5. */
const char *
RfmSegment(int32 r, int32 f, int32 m)
{
	int			fm;

	CheckRfmScore(r, "R (recency)");
	CheckRfmScore(f, "F (frequency)");
	CheckRfmScore(m, "M (monetary)");
	fm = (f + m + 1) / 2;		/* ceil((f + m) / 2) for positive integers */
	return SegmentGrid[5 - r][fm - 1];
}

/* SQL: rfm_segment(r, f, m); see RfmSegment. */
Datum
rfm_segment(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(RfmSegment(PG_GETARG_INT32(0), PG_GETARG_INT32(1), PG_GETARG_INT32(2))));
}

/*
 * Validate the weights: exactly three, one-dimensional, no NULL, each finite
 * and non-negative, not all zero.
 */
static void
CheckWeights(ArrayType *weights, double w[3])
{
	const double *values;
	int			i;

	if (ARR_NDIM(weights) != 1 || ARR_DIMS(weights)[0] != 3)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("weights must be a one-dimensional array of exactly 3 elements"),
				 errdetail("The array has %d dimension(s) and %d element(s).",
						   ARR_NDIM(weights),
						   ArrayGetNItems(ARR_NDIM(weights), ARR_DIMS(weights))),
				 errhint("Pass the weights of R, F and M in that order, for example '{2,1,1}'.")));
	if (ARR_HASNULL(weights))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("weights must not contain NULL"),
				 errhint("Use 0 to leave a score out.")));
	values = (const double *) ARR_DATA_PTR(weights);
	for (i = 0; i < 3; i++)
	{
		if (isnan(values[i]) || isinf(values[i]) || values[i] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("weight %d must be a finite number of at least 0, not %s",
							i + 1, float8out_internal(values[i])),
					 errhint("Weights are relative importances of R, F and M, such as '{2,1,1}'.")));
		w[i] = values[i];
	}
	if (w[0] == 0 && w[1] == 0 && w[2] == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weights must not all be zero"),
				 errhint("Give at least one of R, F and M a positive weight.")));
}

/* Weighted mean of the scores rescaled from 1..5 to 0..100. */
double
ValueScore(int32 r, int32 f, int32 m, ArrayType *weights)
{
	double		w[3];
	double		largest;
	double		weighted;
	double		total;
	double		result;

	CheckRfmScore(r, "R (recency)");
	CheckRfmScore(f, "F (frequency)");
	CheckRfmScore(m, "M (monetary)");
	CheckWeights(weights, w);

	/* Relative to the largest weight, so no weight can overflow or vanish the sums. */
	largest = Max(w[0], Max(w[1], w[2]));
	w[0] /= largest;
	w[1] /= largest;
	w[2] /= largest;
	weighted = w[0] * (r - 1) + w[1] * (f - 1) + w[2] * (m - 1);
	total = w[0] + w[1] + w[2];
	/* (score - 1) / 4 * 100, averaged: sum(w * (score - 1)) * 25 / sum(w). */
	result = weighted * 25.0 / total;
	/* Rounding must not step outside the documented 0..100 scale. */
	return Min(Max(result, 0.0), 100.0);
}

/* SQL: value_score(r, f, m, weights); see ValueScore. */
Datum
value_score(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(ValueScore(PG_GETARG_INT32(0), PG_GETARG_INT32(1), PG_GETARG_INT32(2),
								PG_GETARG_ARRAYTYPE_P(3)));
}
