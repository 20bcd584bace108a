/*
 * churn_tiers.c — tier conditions on the model scores: p_alive and predicted
 * CLV (min_p_alive, min_clv of customer_tier.tier).
 *
 * They are compiled apart from the other conditions, by
 * customer_tier.tier_model_rules(program), into a tiers x 2 array
 * (min_p_alive, min_clv; NaN = no such condition), so that the compiled
 * rules of tier_rules() and the six-argument qualify_tier keep their shape.
 * The nine-argument qualify_tier drops the tiers whose model conditions fail
 * and lets TierQualify choose among the others: the same rules, one place.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/numeric.h"

#include "compat.h"
#include "tiering.h"

PG_FUNCTION_INFO_V1(qualify_tier_model);

#define MODEL_NCONDITIONS	2
#define MODEL_MIN_P_ALIVE	0
#define MODEL_MIN_CLV		1

/* Shape and values of compiled model rules: ntiers x 2, NaN or in range, last row NaN. */
static const double *
CheckModelRules(ArrayType *rules, int ntiers)
{
	const double *data;

	if (ARR_ELEMTYPE(rules) != FLOAT8OID)
		elog(ERROR, "tier model rules must be a double precision array, not type %u", ARR_ELEMTYPE(rules));
	if (ARR_NDIM(rules) != 2 || ARR_DIMS(rules)[0] != ntiers || ARR_DIMS(rules)[1] != MODEL_NCONDITIONS)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("tier model rules must be a %d x %d array", ntiers, MODEL_NCONDITIONS),
				 errdetail("One row per tier (min_p_alive, min_clv), as many rows as the tier rules."),
				 errhint("Build them with customer_tier.tier_model_rules(program).")));
	if (array_contains_nulls(rules))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tier model rules must not contain NULL"),
				 errhint("NaN marks a condition a tier does not have.")));
	data = (const double *) ARR_DATA_PTR(rules);
	for (int r = 0; r < ntiers; r++)
	{
		double		p = data[r * MODEL_NCONDITIONS + MODEL_MIN_P_ALIVE];
		double		c = data[r * MODEL_NCONDITIONS + MODEL_MIN_CLV];

		if ((!isnan(p) && !(p >= 0 && p <= 1)) || (!isnan(c) && !(c >= 0 && !isinf(c))) ||
			(r == ntiers - 1 && (!isnan(p) || !isnan(c))))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("tier model rules: tier %d has an invalid condition", r + 1),
					 errdetail("min_p_alive is between 0 and 1, min_clv a finite number of at least 0, and the last tier has neither."),
					 errhint("Build them with customer_tier.tier_model_rules(program).")));
	}
	return data;
}

/* Whether a score meets a threshold; a NULL (NaN here) score meets none. */
static inline bool
AtLeast(double score, double threshold)
{
	return isnan(threshold) || (!isnan(score) && score >= threshold);
}

/* A model score argument: NULL becomes NaN, NaN itself is refused. */
static double
ScoreArg(const NullableDatum *args, int argno, const char *name)
{
	double		v;

	if (args[argno].isnull)
		return NAN;
	v = DatumGetFloat8(args[argno].value);
	if (isnan(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be NaN", name),
				 errhint("Pass NULL for a score that is unknown: a condition on it then does not hold.")));
	return v;
}

/* The six-argument qualify_tier (TierQualifyArgs) on our arguments 1..5 and the given rules. */
static int32
QualifyWithRules(const NullableDatum *args, Datum rules, bool rules_null)
{
	NullableDatum six[6];

	memcpy(six, args, sizeof(six));
	six[0].value = rules;
	six[0].isnull = rules_null;
	return TierQualifyArgs(six);
}

/*
 * The rank from qualify_tier's nine arguments (rules, value_score, monetary,
 * orders, tenure_days, abc_class, model_rules, p_alive, clv): as the
 * six-argument form, with the tiers' conditions on p_alive and predicted
 * CLV.  NULL model_rules: none.  Exported for score_customer.
 */
int32
TierQualifyModelArgs(const NullableDatum *args)
{
	const double *rules;
	const double *model;
	Datum	   *kept;
	int		   *rank_of;
	int			ntiers;
	int			nkept = 0;
	int			dims[2];
	int			lbs[2] = {1, 1};
	double		p_alive,
				clv;
	ArrayType  *filtered;

	if (args[0].isnull || args[6].isnull)
		return QualifyWithRules(args, args[0].value, args[0].isnull);
	rules = TierCheckRules(DatumGetArrayTypeP(args[0].value), &ntiers);
	model = CheckModelRules(DatumGetArrayTypeP(args[6].value), ntiers);
	p_alive = ScoreArg(args, 7, "p_alive");
	clv = ScoreArg(args, 8, "clv");

	kept = palloc(sizeof(Datum) * ntiers * TIER_NCONDITIONS);
	rank_of = palloc(sizeof(int) * ntiers);
	for (int r = 0; r < ntiers; r++)
	{
		if (!AtLeast(p_alive, model[r * MODEL_NCONDITIONS + MODEL_MIN_P_ALIVE]) ||
			!AtLeast(clv, model[r * MODEL_NCONDITIONS + MODEL_MIN_CLV]))
			continue;
		for (int c = 0; c < TIER_NCONDITIONS; c++)
			kept[nkept * TIER_NCONDITIONS + c] = Float8GetDatum(rules[r * TIER_NCONDITIONS + c]);
		rank_of[nkept++] = r + 1;
	}
	/* the last tier has no condition of either kind, so it is always kept */
	dims[0] = nkept;
	dims[1] = TIER_NCONDITIONS;
	filtered = construct_md_array(kept, NULL, 2, dims, lbs, FLOAT8OID, sizeof(float8),
								  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	return rank_of[QualifyWithRules(args, PointerGetDatum(filtered), false) - 1];
}

/* SQL: the nine-argument qualify_tier; see TierQualifyModelArgs. */
Datum
qualify_tier_model(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(TierQualifyModelArgs(fcinfo->args));
}
