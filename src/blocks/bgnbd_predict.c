/*
 * bgnbd_predict.c — what a fitted BG/NBD model says about one customer:
 * the probability of being alive (Fader, Hardie & Lee 2005, eq. 11, in the
 * form of their 2008 note "Computing P(alive) using the BG/NBD model") and
 * the expected number of purchases in the next t periods (eq. 10).
 *
 * Eq. 10 with A = r+x, B = b+x, C = a+b+x-1, z = t / (alpha+T+t):
 *
 *   E[Y(t) | x, t_x, T] = C/(a-1) [1 - (1-z)^A 2F1(A, B; C; z)] / D
 *   D = 1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^A
 *
 * and P(alive) = 1/D.  Because C (C)_j-terms cancel, C 2F1(A,B;C;z) =
 * C + S with S = sum_{j>=1} (A)_j (B)_j z^j / ((C+1)_{j-1} j!), whose terms
 * are all positive even when C <= 0 (a+b < 1 and x = 0), so
 *
 *   C [1 - (1-z)^A 2F1] = C [1 - (1-z)^A] - (1-z)^A S.
 *
 * The series converges for 0 <= z < 1 (always the case here); it is summed
 * with a rescaled running term so that (1-z)^A S neither overflows nor
 * underflows, until the geometric bound on its tail is below 1e-16 of the
 * sum.  Near a = 1 the numerator and (a-1) vanish together; there the value
 * is interpolated linearly between a = 1 -+ 1e-4.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"

#include "compat.h"
#include "models.h"

PG_FUNCTION_INFO_V1(bgnbd_p_alive);
PG_FUNCTION_INFO_V1(bgnbd_expected_purchases);

#define HYP2F1_MAX_TERMS	10000000
#define HYP2F1_RESCALE		1e200
#define A_NEAR_ONE			1e-4

static const char *const bgnbd_names[] = {"r", "alpha", "a", "b"};

/* ln D, the log of the P(alive) denominator: 0 for x = 0. */
static double
LogAliveDenominator(const double *p, double x, double t_x, double t)
{
	double		z;

	if (x == 0)
		return 0.0;
	z = log(p[2]) - log(p[3] + x - 1) +
		(p[0] + x) * (log(p[1] + t) - log(p[1] + t_x));
	/* softplus(z) = ln(1 + e^z) without overflow */
	return Max(z, 0.0) + log1p(exp(-fabs(z)));
}

/*
 * C [1 - (1-z)^A 2F1(A, B; C; z)], summed as described at the top of the
 * file.  Errors out if the series needs more than HYP2F1_MAX_TERMS terms,
 * which happens only for horizons millions of times the customer's age.
 */
static double
ScaledHypergeometricBracket(double A, double B, double C, double z)
{
	double		log_scale = A * log1p(-z);	/* ln (1-z)^A */
	double		term = A * B * z;	/* j = 1 */
	double		sum = 0.0;
	int			j;

	for (j = 1; j <= HYP2F1_MAX_TERMS; j++)
	{
		double		ratio;

		sum += term;
		ratio = (A + j) * (B + j) * z / ((C + j) * (j + 1));
		term *= ratio;
		if (!isfinite(term))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("expected purchases are out of range"),
					 errdetail("A term of the hypergeometric series overflows (r + x = %g, b + x = %g).", A, B),
					 errhint("Check the model parameters and the horizon.")));
		if (ratio < 1.0 && term / (1.0 - Max(ratio, z)) <= 1e-16 * sum)
			break;
		if (sum > HYP2F1_RESCALE)
		{
			sum /= HYP2F1_RESCALE;
			term /= HYP2F1_RESCALE;
			log_scale += log(HYP2F1_RESCALE);
		}
	}
	if (j > HYP2F1_MAX_TERMS)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("expected purchases over this horizon cannot be computed"),
				 errdetail("The hypergeometric series did not converge within %d terms (z = %.17g).",
						   HYP2F1_MAX_TERMS, z),
				 errhint("The series needs about (r + x) z / (1 - z) terms: use a horizon closer to the length of the calibration period.")));
	return -C * expm1(A * log1p(-z)) - exp(log_scale + log(sum));
}

/* Eq. 10 for one value of a (a != 1). */
static double
ExpectedPurchasesAt(const double *p, double a, double horizon,
					double x, double t_x, double t)
{
	double		r = p[0],
				alpha = p[1],
				b = p[3];
	double		z = horizon / (alpha + t + horizon);
	double		bracket;
	double		q[4] = {r, alpha, a, b};

	bracket = ScaledHypergeometricBracket(r + x, b + x, a + b + x - 1, z);
	return bracket / (a - 1) * exp(-LogAliveDenominator(q, x, t_x, t));
}

/* Conditional expected purchases in (0, horizon] for one customer. */
double
BgnbdExpectedPurchases(const double *params, double horizon,
					   double x, double t_x, double t)
{
	double		a = params[2];
	double		result;

	if (horizon == 0)
		return 0.0;
	if (fabs(a - 1) >= A_NEAR_ONE)
		result = ExpectedPurchasesAt(params, a, horizon, x, t_x, t);
	else
	{
		double		lo = ExpectedPurchasesAt(params, 1 - A_NEAR_ONE, horizon, x, t_x, t);
		double		hi = ExpectedPurchasesAt(params, 1 + A_NEAR_ONE, horizon, x, t_x, t);

		result = lo + (hi - lo) * (a - (1 - A_NEAR_ONE)) / (2 * A_NEAR_ONE);
	}
	if (!isfinite(result))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("expected purchases are out of range"),
				 errdetail("The model gives %g for this customer.", result),
				 errhint("Check the model parameters and the horizon.")));
	/* rounding can leave -1e-17 where the value is 0 */
	return Max(result, 0.0);
}

/* Reads the r, alpha, a, b fields of a bgnbd_model argument. */
static void
ReadBgnbdModel(FunctionCallInfo fcinfo, double *params)
{
	ModelReadParams(PG_GETARG_HEAPTUPLEHEADER(0), 4, bgnbd_names, "bgnbd", params);
}

/* P(alive | x, t_x, T): 1 for x = 0 (BG/NBD customers drop out only after a purchase). */
Datum
bgnbd_p_alive(PG_FUNCTION_ARGS)
{
	double		params[4];
	double		x = PG_GETARG_INT32(1),
				t_x = PG_GETARG_FLOAT8(2),
				t = PG_GETARG_FLOAT8(3);

	ReadBgnbdModel(fcinfo, params);
	CheckBgnbdRow(x, t_x, t);
	PG_RETURN_FLOAT8(exp(-LogAliveDenominator(params, x, t_x, t)));
}

/* E[purchases in the next horizon periods | x, t_x, T] (eq. 10). */
Datum
bgnbd_expected_purchases(PG_FUNCTION_ARGS)
{
	double		params[4];
	double		horizon = PG_GETARG_FLOAT8(1),
				x = PG_GETARG_INT32(2),
				t_x = PG_GETARG_FLOAT8(3),
				t = PG_GETARG_FLOAT8(4);

	ReadBgnbdModel(fcinfo, params);
	CheckFiniteInput(horizon, "horizon");
	if (horizon < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon must not be negative"),
				 errdetail("horizon is %g.", horizon),
				 errhint("The horizon is the number of future periods, in the unit of t.")));
	CheckBgnbdRow(x, t_x, t);
	PG_RETURN_FLOAT8(BgnbdExpectedPurchases(params, horizon, x, t_x, t));
}
