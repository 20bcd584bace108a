/*
 * gamma_gamma.c — the Gamma-Gamma model of monetary value (Fader & Hardie
 * 2013, "The Gamma-Gamma model of monetary value"; Fader, Hardie & Lee 2005,
 * "RFM and CLV: using iso-value curves for customer base analysis") and the
 * customer lifetime value that combines it with BG/NBD.
 *
 * A customer's spend per transaction is gamma(p, nu) around a mean p/nu,
 * with nu ~ gamma(q, gamma) across customers.  For x repeat transactions with
 * mean spend m, the log-likelihood is
 *
 *   ln Gamma(px+q) - ln Gamma(px) - ln Gamma(q) + q ln gamma
 *     + (px-1) ln m + px ln x - (px+q) ln(gamma + m x)
 *
 * and the expected spend per transaction given (x, m) is
 *   (gamma + m x) p / (p x + q - 1).
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/float.h"

#include "compat.h"
#include "models.h"
#include "optimize.h"

PG_FUNCTION_INFO_V1(gamma_gamma_accum);
PG_FUNCTION_INFO_V1(gamma_gamma_final);
PG_FUNCTION_INFO_V1(gamma_gamma_expected_spend);
PG_FUNCTION_INFO_V1(customer_clv);

#define CLV_MAX_PERIODS 10000

static const char *const gg_names[] = {"p", "q", "gamma"};

typedef struct GgGroup
{
	double		x;
	double		m;
	double		n;				/* customers with this (x, m) */
	double		logm;
	double		logx;
} GgGroup;

typedef struct GgData
{
	double		customers;
	int			ngroups;
	GgGroup    *groups;
} GgData;

/* Validates one (x, mean_spend) row of a repeat buyer. */
static void
CheckSpendRow(double x, double m)
{
	CheckFiniteInput(m, "mean_spend");
	CheckRepeatCount(x);
	if (x > 0 && m <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mean_spend must be positive"),
				 errdetail("mean_spend is %g for a customer with x = %g.", m, x),
				 errhint("The Gamma-Gamma model needs positive spend; leave out refunds and zero-value orders.")));
}

/* Transition: append (x, mean_spend) for repeat buyers; x = 0 rows carry no spend and are skipped. */
Datum
gamma_gamma_accum(PG_FUNCTION_ARGS)
{
	double		row[2];

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_GETARG_INT32(1) == 0)
	{
		if (!PG_ARGISNULL(1) && PG_GETARG_INT32(1) < 0)
			CheckSpendRow(PG_GETARG_INT32(1), 1);
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	row[0] = PG_GETARG_INT32(1);
	row[1] = PG_GETARG_FLOAT8(2);
	CheckSpendRow(row[0], row[1]);
	PG_RETURN_DATUM(ModelStateAppend(fcinfo, row, 2));
}

/* qsort order of (x, m) pairs. */
static int
ComparePairs(const void *a, const void *b)
{
	const double *pa = a;
	const double *pb = b;

	if (pa[0] != pb[0])
		return pa[0] < pb[0] ? -1 : 1;
	if (pa[1] != pb[1])
		return pa[1] < pb[1] ? -1 : 1;
	return 0;
}

/* Negative log-likelihood per customer at theta = log(p, q, gamma), with gradient. */
static double
GgObjective(const double *theta, double *grad, void *arg)
{
	GgData	   *d = arg;
	double		p = exp(theta[0]),
				q = exp(theta[1]),
				g = exp(theta[2]);
	double		lgq = lgamma(q),
				psq = Digamma(q),
				logg = log(g);
	double		ll = 0.0,
				dp = 0.0,
				dq = 0.0,
				dg = 0.0;

	for (int i = 0; i < d->ngroups; i++)
	{
		const GgGroup *grp = &d->groups[i];
		double		px = p * grp->x,
					pxq = px + q,
					lgm = log(g + grp->m * grp->x),
					psi_pxq = Digamma(pxq),
					n = grp->n;

		ll += n * (lgamma(pxq) - lgamma(px) - lgq + q * logg
				   + (px - 1) * grp->logm + px * grp->logx - pxq * lgm);
		dp += n * grp->x * (psi_pxq - Digamma(px) + grp->logm + grp->logx - lgm);
		dq += n * (psi_pxq - psq + logg - lgm);
		dg += n * (q / g - pxq / (g + grp->m * grp->x));
	}
	if (grad != NULL)
	{
		const double params[3] = {p, q, g},
					dparams[3] = {dp, dq, dg};

		if (!LogParamGradient(grad, params, dparams, 3, d->customers))
			return get_float8_nan();
	}
	return -ll / d->customers;
}

/* Final function: group identical rows, fit, return the model composite. */
Datum
gamma_gamma_final(PG_FUNCTION_ARGS)
{
	int64		nrows = 0;
	double	   *rows = NULL;
	GgData		data = {0};
	static const double starts[][3] = {{1, 1, 1}, {5, 4, 0.6}};
	double		theta[3];
	double		scale = 0.0;
	int			worst = 0;
	OptResult	res = {0};
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false};

	if (!PG_ARGISNULL(0))
		rows = ModelStateRows(PG_GETARG_DATUM(0), 2, "gamma_gamma_fit", &nrows);
	for (int64 i = 0; i < nrows; i++)
	{
		CheckSpendRow(rows[2 * i], rows[2 * i + 1]);
		if (rows[2 * i] == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("gamma_gamma_fit state must hold repeat buyers only"),
					 errhint("Pass the state built by the model's own aggregate.")));
	}
	if (nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("gamma-gamma model is not identifiable: no repeat buyers"),
				 errdetail("The model learns from the spend of repeat purchases; no row had x > 0 with a non-null mean_spend."),
				 errhint("Check the query's filter and the calibration period.")));
	if (nrows == 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot fit the gamma-gamma model to a single repeat buyer"),
				 errdetail("Three parameters describe the spread between customers; one customer has none."),
				 errhint("Fit the model on all repeat buyers.")));

	/*
	 * Spend is divided by its mean so that gamma, like p and q, is a pure
	 * number near 1 in any currency; this scales gamma by s and shifts the
	 * log-likelihood by -ln(s) per customer.
	 */
	for (int64 i = 0; i < nrows; i++)
		scale += rows[2 * i + 1];
	scale /= nrows;

	qsort(rows, nrows, 2 * sizeof(double), ComparePairs);
	data.customers = (double) nrows;
	data.groups = palloc_extended(sizeof(GgGroup) * nrows, MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < nrows; i++)
	{
		if (i > 0 && ComparePairs(&rows[2 * i], &rows[2 * i - 2]) == 0)
		{
			data.groups[data.ngroups - 1].n += 1;
			continue;
		}
		data.groups[data.ngroups].x = rows[2 * i];
		data.groups[data.ngroups].m = rows[2 * i + 1] / scale;
		data.groups[data.ngroups].n = 1;
		data.groups[data.ngroups].logx = log(rows[2 * i]);
		data.groups[data.ngroups].logm = log(rows[2 * i + 1] / scale);
		data.ngroups++;
	}

	for (int s = 0; s < (int) lengthof(starts); s++)
	{
		for (int i = 0; i < 3; i++)
			theta[i] = log(starts[s][i]);
		OptMinimize(GgObjective, &data, 3, theta, MODEL_THETA_RUNAWAY, &res);
		if (res.converged)
			break;
	}
	for (int i = 1; i < 3; i++)
		if (fabs(theta[i]) > fabs(theta[worst]))
			worst = i;
	if (!isfinite(res.f) || !res.converged || fabs(theta[worst]) > MODEL_THETA_BOUND)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("gamma-gamma fit did not converge"),
				 !isfinite(res.f) ? errdetail("The likelihood could not be evaluated at the starting point.") :
				 (res.diverged || fabs(theta[worst]) > MODEL_THETA_BOUND) ?
				 errdetail("Parameter %s ran off towards %s: the likelihood has no maximum at finite parameters.",
						   gg_names[worst], theta[worst] > 0 ? "infinity" : "zero") :
				 errdetail("After %d iterations the largest gradient component is %g.",
						   res.iterations, res.grad_max),
				 errhint("The spend may lack the variation the model needs (for example every customer spends the same); check the (x, mean_spend) summary.")));

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "gamma_gamma_final must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Float8GetDatum(exp(theta[0]));
	values[1] = Float8GetDatum(exp(theta[1]));
	values[2] = Float8GetDatum(exp(theta[2]) * scale);
	values[3] = Float8GetDatum(-res.f * data.customers - data.customers * log(scale));
	values[4] = Int64GetDatum(nrows);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* Expected spend per transaction given (x, mean_spend); x = 0 gives the population mean. */
static double
ExpectedSpend(const double *gg, double x, double m)
{
	double		p = gg[0],
				q = gg[1],
				g = gg[2];
	double		denom = p * x + q - 1;
	double		result;

	CheckSpendRow(x, m);
	if (x == 0)
		m = 0;					/* mean_spend of a customer without repeat purchases is ignored */
	if (denom <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("expected spend is infinite for this model and customer"),
				 errdetail("p * x + q - 1 = %g is not positive, so the gamma mixture has no mean.", denom),
				 errhint("A model with q <= 1 has no population mean spend; only customers with enough repeat purchases have a finite expectation.")));
	result = (g + m * x) * p / denom;
	if (!isfinite(result))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("expected spend is out of range"),
				 errdetail("The result overflows double precision (x = %g, mean_spend = %g).", x, m),
				 errhint("Check the model parameters and the spend's unit.")));
	return result;
}

/* SQL: expected spend per transaction of a customer. */
Datum
gamma_gamma_expected_spend(PG_FUNCTION_ARGS)
{
	double		gg[3];

	ModelReadParams(PG_GETARG_HEAPTUPLEHEADER(0), 3, gg_names, "gamma_gamma", gg);
	PG_RETURN_FLOAT8(ExpectedSpend(gg, PG_GETARG_INT32(1), PG_GETARG_FLOAT8(2)));
}

/*
 * CLV = margin * E[spend] * sum_{k=1..ceil(H)} (E[Y(k')] - E[Y(k'-1)]) / (1+d)^k'
 * with k' = min(k, H): the expected purchases of each period, discounted to
 * the period's end, as lifetimes' customer_lifetime_value() does.
 */
Datum
customer_clv(PG_FUNCTION_ARGS)
{
	static const char *const bg_names[] = {"r", "alpha", "a", "b"};
	double		bg[4],
				gg[3];
	double		x,
				t_x,
				t,
				m,
				horizon,
				rate,
				margin;
	double		spend,
				total = 0.0,
				previous = 0.0;
	int			periods;

	x = PG_GETARG_INT32(2);
	t_x = PG_GETARG_FLOAT8(3);
	t = PG_GETARG_FLOAT8(4);
	m = PG_GETARG_FLOAT8(5);
	horizon = PG_GETARG_FLOAT8(6);
	rate = PG_GETARG_FLOAT8(7);
	margin = PG_GETARG_FLOAT8(8);

	ModelReadParams(PG_GETARG_HEAPTUPLEHEADER(0), 4, bg_names, "bgnbd", bg);
	ModelReadParams(PG_GETARG_HEAPTUPLEHEADER(1), 3, gg_names, "gamma_gamma", gg);
	CheckBgnbdRow(x, t_x, t);
	CheckFiniteInput(horizon, "horizon");
	CheckFiniteInput(rate, "discount_rate");
	CheckFiniteInput(margin, "margin");
	if (horizon < 0 || horizon > CLV_MAX_PERIODS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon must be between 0 and %d periods", CLV_MAX_PERIODS),
				 errdetail("horizon is %g.", horizon),
				 errhint("The horizon counts periods in the unit of t (for example weeks).")));
	if (rate < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("discount_rate must not be negative"),
				 errdetail("discount_rate is %g.", rate),
				 errhint("Give the discount rate per period, for example 0.01 for 1%%.")));
	spend = ExpectedSpend(gg, x, m);

	periods = (int) ceil(horizon);
	for (int k = 1; k <= periods; k++)
	{
		double		end = Min((double) k, horizon);
		double		cumulative;

		CHECK_FOR_INTERRUPTS();
		cumulative = BgnbdExpectedPurchases(bg, end, x, t_x, t);

		total += (cumulative - previous) / pow(1 + rate, end);
		previous = cumulative;
	}
	total *= margin * spend;
	if (!isfinite(total))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("customer lifetime value is out of range"),
				 errdetail("The value overflows double precision."),
				 errhint("Check the spend, the margin and the discount rate.")));
	PG_RETURN_FLOAT8(total);
}
