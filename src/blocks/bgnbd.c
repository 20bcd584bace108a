/*
 * bgnbd.c — the BG/NBD model of Fader, Hardie & Lee (2005), "Counting your
 * customers the easy way: an alternative to the Pareto/NBD model",
 * Marketing Science 24(2): fitting by maximum likelihood.
 *
 * Each customer is summarised by x (repeat purchases), t_x (time of the last
 * repeat purchase since the first purchase) and T (time since the first
 * purchase).  The log-likelihood of one customer (the paper's eq. 6) is
 *
 *   ln Gamma(r+x) - ln Gamma(r) + r ln alpha
 *     + ln Gamma(a+b) + ln Gamma(b+x) - ln Gamma(b) - ln Gamma(a+b+x)
 *     + ln[ (alpha+T)^-(r+x) + [x>0] a/(b+x-1) (alpha+t_x)^-(r+x) ]
 *
 * The final function groups identical (x, t_x, T) rows and also tabulates
 * the distinct x, t_x and T values, so that one evaluation of the likelihood
 * costs a handful of lgamma/digamma calls per distinct x, one log per
 * distinct time and one exp + log1p per distinct customer summary.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/float.h"

#include "compat.h"
#include "models.h"
#include "optimize.h"

PG_FUNCTION_INFO_V1(bgnbd_accum);
PG_FUNCTION_INFO_V1(bgnbd_final);


typedef struct BgnbdRow
{
	double		x;
	double		t_x;
	double		t;
} BgnbdRow;

/* One distinct (x, t_x, T) with x > 0, with indexes into the value tables. */
typedef struct BgnbdGroup
{
	double		x;
	double		n;				/* customers with this summary */
	int			ix;				/* index into xs */
	int			itx;			/* index into txs */
	int			it;				/* index into ts */
} BgnbdGroup;

typedef struct BgnbdData
{
	double		customers;
	int			ngroups;
	BgnbdGroup *groups;
	int			nx;				/* distinct x > 0 */
	double	   *xs;
	double	   *xcount;
	int			ntx;			/* distinct t_x of repeat buyers */
	double	   *txs;
	int			nt;				/* distinct T */
	double	   *ts;
	double	   *zero_count;		/* customers with x = 0, per T */
	/* scratch space for one evaluation */
	double	   *log_t,
			   *inv_t,
			   *log_tx,
			   *inv_tx,
			   *xc,
			   *xinv;
} BgnbdData;

static const char *const bgnbd_names[] = {"r", "alpha", "a", "b"};

/* Validates one (x, t_x, T) customer summary. */
void
CheckBgnbdRow(double x, double t_x, double t)
{
	CheckFiniteInput(t_x, "t_x");
	CheckFiniteInput(t, "t");
	CheckRepeatCount(x);
	if (t <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("customer age t must be positive"),
				 errdetail("t is %g.", t),
				 errhint("t is the time from the first purchase to the end of the calibration period; leave out customers who first bought at its very end.")));
	if (t_x < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recency t_x must not be negative"),
				 errdetail("t_x is %g.", t_x),
				 errhint("t_x is the time from the first purchase to the last repeat purchase.")));
	if (t_x > t)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recency t_x must not exceed customer age t"),
				 errdetail("t_x is %g and t is %g.", t_x, t),
				 errhint("Both are measured from the first purchase; t runs to the end of the calibration period.")));
	/*
	 * Repeat purchases at the very time of the first one: with such rows the
	 * likelihood grows without bound as alpha goes to 0, and a day-grid
	 * summary (repeat purchases on later days only) never has them.
	 */
	if (x > 0 && t_x == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recency t_x must be positive when x is positive"),
				 errdetail("x is %g but t_x is 0.", x),
				 errhint("Count as repeat purchases only those after the first purchase's day (or instant); purchases at that time belong to the first purchase.")));
	if (x == 0 && t_x != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recency t_x must be 0 when x is 0"),
				 errdetail("t_x is %g but the customer made no repeat purchase.", t_x),
				 errhint("Use t_x = 0 for customers without repeat purchases.")));
}

/*
 * Transition: append (x, t_x, t) to the row array; rows with a NULL are
 * skipped, invalid rows are refused at once so the error names the row.
 */
Datum
bgnbd_accum(PG_FUNCTION_ARGS)
{
	double		row[3];

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	row[0] = PG_GETARG_INT32(1);
	row[1] = PG_GETARG_FLOAT8(2);
	row[2] = PG_GETARG_FLOAT8(3);
	CheckBgnbdRow(row[0], row[1], row[2]);
	PG_RETURN_DATUM(ModelStateAppend(fcinfo, row, 3));
}

/* qsort order of rows: by x, then t_x, then T. */
static int
CompareRows(const void *a, const void *b)
{
	const BgnbdRow *ra = a;
	const BgnbdRow *rb = b;

	if (ra->x != rb->x)
		return ra->x < rb->x ? -1 : 1;
	if (ra->t_x != rb->t_x)
		return ra->t_x < rb->t_x ? -1 : 1;
	if (ra->t != rb->t)
		return ra->t < rb->t ? -1 : 1;
	return 0;
}

/* An inlined sort of the rows: a million of them are sorted in every fit. */
#define ST_SORT SortBgnbdRows
#define ST_ELEMENT_TYPE BgnbdRow
#define ST_COMPARE(a, b) CompareRows(a, b)
#define ST_CHECK_FOR_INTERRUPTS
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* qsort order of doubles. */
static int
CompareDoubles(const void *a, const void *b)
{
	double		da = *(const double *) a;
	double		db = *(const double *) b;

	return (da > db) - (da < db);
}

/* Sorts values and removes duplicates; returns the new length. */
static int
SortUnique(double *values, int n)
{
	int			m = 0;

	qsort(values, n, sizeof(double), CompareDoubles);
	for (int i = 0; i < n; i++)
		if (m == 0 || values[i] != values[m - 1])
			values[m++] = values[i];
	return m;
}

/* Index of value in the sorted table (it is known to be there). */
static int
FindValue(const double *table, int n, double value)
{
	const double *hit = bsearch(&value, table, n, sizeof(double), CompareDoubles);

	if (hit == NULL)
		elog(ERROR, "value %g missing from model value table", value);
	return (int) (hit - table);
}

/* Groups the rows and builds the value tables the likelihood works on. */
static void
BuildBgnbdData(BgnbdRow *rows, int64 nrows, BgnbdData *d)
{
	int64		ngroups = 0;
	int64		g;

	SortBgnbdRows(rows, nrows);
	memset(d, 0, sizeof(*d));
	d->customers = (double) nrows;

	/* Distinct rows move to the front of the (sorted) array; count them. */
	d->groups = palloc_extended(sizeof(BgnbdGroup) * Max(nrows, 1), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < nrows; i++)
	{
		if (i > 0 && CompareRows(&rows[i], &rows[ngroups - 1]) == 0)
		{
			d->groups[ngroups - 1].n += 1;
			continue;
		}
		rows[ngroups] = rows[i];
		d->groups[ngroups].x = rows[i].x;
		d->groups[ngroups].n = 1;
		ngroups++;
	}

	/* The distinct x, t_x and T values, sorted, for the per-value terms. */
	d->xs = palloc(sizeof(double) * ngroups);
	d->txs = palloc(sizeof(double) * ngroups);
	d->ts = palloc(sizeof(double) * ngroups);
	for (g = 0; g < ngroups; g++)
	{
		d->xs[g] = rows[g].x;
		d->txs[g] = rows[g].t_x;
		d->ts[g] = rows[g].t;
	}
	d->nx = SortUnique(d->xs, ngroups);
	d->ntx = SortUnique(d->txs, ngroups);
	d->nt = SortUnique(d->ts, ngroups);
	d->xcount = palloc0(sizeof(double) * d->nx);
	d->zero_count = palloc0(sizeof(double) * d->nt);

	/* x = 0 customers collapse to a count per T; the rest stay groups. */
	d->ngroups = 0;
	for (g = 0; g < ngroups; g++)
	{
		BgnbdGroup	grp = d->groups[g];

		grp.ix = FindValue(d->xs, d->nx, grp.x);
		grp.itx = FindValue(d->txs, d->ntx, rows[g].t_x);
		grp.it = FindValue(d->ts, d->nt, rows[g].t);
		d->xcount[grp.ix] += grp.n;
		if (grp.x == 0)
			d->zero_count[grp.it] += grp.n;
		else
			d->groups[d->ngroups++] = grp;
	}
	d->log_t = palloc(sizeof(double) * d->nt);
	d->inv_t = palloc(sizeof(double) * d->nt);
	d->log_tx = palloc(sizeof(double) * d->ntx);
	d->inv_tx = palloc(sizeof(double) * d->ntx);
	d->xc = palloc(sizeof(double) * d->nx);
	d->xinv = palloc(sizeof(double) * d->nx);
}

/*
 * Negative log-likelihood per customer at theta = log(r, alpha, a, b), and
 * its gradient with respect to theta.  Per customer with x > 0, the last
 * term of eq. 6 is -(r+x) ln(alpha+T) + softplus(z) with
 * z = ln a - ln(b+x-1) + (r+x) [ln(alpha+T) - ln(alpha+t_x)], computed
 * without overflow; w = 1/(1+e^-z) is the weight of the "dropped out after
 * the last purchase" branch and appears in every derivative.
 */
static double
BgnbdObjective(const double *theta, double *grad, void *arg)
{
	BgnbdData  *d = arg;
	double		r = exp(theta[0]),
				alpha = exp(theta[1]),
				a = exp(theta[2]),
				b = exp(theta[3]);
	double		ll,
				dr,
				dalpha,
				da = 0.0,
				db = 0.0;
	double		lgab = lgamma(a + b),
				lgr = lgamma(r),
				lgb = lgamma(b),
				psab = Digamma(a + b),
				psr = Digamma(r),
				psb = Digamma(b),
				loga = log(a);

	ll = d->customers * r * log(alpha);
	dr = d->customers * log(alpha);
	dalpha = d->customers * r / alpha;

	for (int k = 0; k < d->nt; k++)
	{
		d->log_t[k] = log(alpha + d->ts[k]);
		d->inv_t[k] = 1.0 / (alpha + d->ts[k]);
		ll -= d->zero_count[k] * r * d->log_t[k];
		dr -= d->zero_count[k] * d->log_t[k];
		dalpha -= d->zero_count[k] * r * d->inv_t[k];
	}
	for (int k = 0; k < d->ntx; k++)
	{
		d->log_tx[k] = log(alpha + d->txs[k]);
		d->inv_tx[k] = 1.0 / (alpha + d->txs[k]);
	}
	for (int k = 0; k < d->nx; k++)
	{
		double		x = d->xs[k],
					n = d->xcount[k];

		if (x == 0)
			continue;
		ll += n * (lgamma(r + x) - lgr + lgab + lgamma(b + x) - lgb - lgamma(a + b + x));
		dr += n * (Digamma(r + x) - psr);
		da += n * (psab - Digamma(a + b + x));
		db += n * (psab + Digamma(b + x) - psb - Digamma(a + b + x));
		d->xc[k] = loga - log(b + x - 1);
		d->xinv[k] = 1.0 / (b + x - 1);
	}
	for (int g = 0; g < d->ngroups; g++)
	{
		const BgnbdGroup *grp = &d->groups[g];
		double		rx = r + grp->x,
					lt = d->log_t[grp->it],
					ltx = d->log_tx[grp->itx],
					z = d->xc[grp->ix] + rx * (lt - ltx),
					e = exp(-fabs(z)),
					softplus = Max(z, 0.0) + log1p(e),
					w = (z >= 0) ? 1.0 / (1.0 + e) : e / (1.0 + e),
					n = grp->n;

		ll += n * (softplus - rx * lt);
		dr += n * (w * (lt - ltx) - lt);
		dalpha += n * rx * (w * (d->inv_t[grp->it] - d->inv_tx[grp->itx]) - d->inv_t[grp->it]);
		da += n * w / a;
		db -= n * w * d->xinv[grp->ix];
	}

	if (grad != NULL)
	{
		const double params[4] = {r, alpha, a, b},
					dparams[4] = {dr, dalpha, da, db};

		if (!LogParamGradient(grad, params, dparams, 4, d->customers))
			return get_float8_nan();
	}
	return -ll / d->customers;
}

/* Refuses populations from which the four parameters cannot be estimated. */
static void
CheckBgnbdIdentifiable(const BgnbdData *d, int64 nrows)
{
	if (nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot fit the bg/nbd model without customers"),
				 errdetail("No row had non-null x, t_x and t."),
				 errhint("Check the query's filter and the calibration period.")));
	if (nrows == 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot fit the bg/nbd model to a single customer"),
				 errdetail("Four parameters describe the spread between customers; one customer has none."),
				 errhint("Fit the model on the whole customer base.")));
	if (d->ngroups == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bg/nbd model is not identifiable: no customer made a repeat purchase"),
				 errdetail("All %lld customers have x = 0, so the purchase rate cannot be told apart from the dropout probability.",
						   (long long) nrows),
				 errhint("Use a longer calibration period or more customers.")));
}

/*
 * Fits the model, trying further starting points if the first run fails.
 *
 * Times are first divided by the mean customer age, so that alpha, like r,
 * a and b, is a pure number near 1 whatever the time unit: the same starting
 * points and the same bound on "ran off to 0 or infinity" then work for days,
 * weeks or years.  Scaling the times by s scales alpha by s and shifts the
 * log-likelihood by -ln(s) per repeat purchase.
 */
static void
FitBgnbd(BgnbdData *d, double *params, double *loglik)
{
	static const double starts[][4] = {
		{1, 1, 1, 1}, {0.25, 0.1, 0.8, 2.5}, {1, 10, 1, 1}};
	double		scale = 0.0,
				repeats = 0.0;
	OptResult	best = {0};
	double		best_theta[4] = {0};
	bool		have = false;
	int			worst = 0;

	for (int k = 0; k < d->nt; k++)
		scale += d->zero_count[k] * d->ts[k];
	for (int g = 0; g < d->ngroups; g++)
	{
		scale += d->groups[g].n * d->ts[d->groups[g].it];
		repeats += d->groups[g].n * d->groups[g].x;
	}
	scale /= d->customers;
	for (int k = 0; k < d->nt; k++)
		d->ts[k] /= scale;
	for (int k = 0; k < d->ntx; k++)
		d->txs[k] /= scale;

	for (int s = 0; s < (int) lengthof(starts); s++)
	{
		double		theta[4];
		OptResult	res;

		for (int i = 0; i < 4; i++)
			theta[i] = log(starts[s][i]);
		OptMinimize(BgnbdObjective, d, 4, theta, MODEL_THETA_RUNAWAY, &res);
		elog(DEBUG1, "bgnbd_fit: start %d, %d groups: %d iterations, f = %.17g, max gradient %g, converged %d",
			 s, d->ngroups, res.iterations, res.f, res.grad_max, (int) res.converged);
		if (isfinite(res.f) && (!have || (res.converged && !best.converged) ||
								(res.converged == best.converged && res.f < best.f)))
		{
			best = res;
			memcpy(best_theta, theta, sizeof(theta));
			have = true;
		}
		if (best.converged)
			break;
	}

	for (int i = 1; i < 4; i++)
		if (fabs(best_theta[i]) > fabs(best_theta[worst]))
			worst = i;
	if (!have || !best.converged || fabs(best_theta[worst]) > MODEL_THETA_BOUND)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("bg/nbd fit did not converge"),
				 !have ? errdetail("The likelihood could not be evaluated at any starting point.") :
				 (best.diverged || fabs(best_theta[worst]) > MODEL_THETA_BOUND) ?
				 errdetail("Parameter %s ran off towards %s: the likelihood has no maximum at finite parameters.",
						   bgnbd_names[worst], best_theta[worst] > 0 ? "infinity" : "zero") :
				 errdetail("After %d iterations the largest gradient component is %g.",
						   best.iterations, best.grad_max),
				 errhint("The customers may lack the variation the model needs (for example nobody appears to drop out); check the (x, t_x, t) summary.")));

	for (int i = 0; i < 4; i++)
		params[i] = exp(best_theta[i]);
	params[1] *= scale;
	*loglik = -best.f * d->customers - repeats * log(scale);
}

/* Final function: group the rows, fit, and return the model composite. */
Datum
bgnbd_final(PG_FUNCTION_ARGS)
{
	int64		nrows = 0;
	BgnbdRow   *rows = NULL;
	BgnbdData	data;
	double		params[4];
	double		loglik;
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {false};

	if (!PG_ARGISNULL(0))
	{
		double	   *flat = ModelStateRows(PG_GETARG_DATUM(0), 3, "bgnbd_fit", &nrows);

		/* The state has text input: check every row again. */
		rows = (BgnbdRow *) flat;
		for (int64 i = 0; i < nrows; i++)
			CheckBgnbdRow(rows[i].x, rows[i].t_x, rows[i].t);
	}
	if (nrows == 0)
		CheckBgnbdIdentifiable(NULL, 0);
	BuildBgnbdData(rows, nrows, &data);
	CheckBgnbdIdentifiable(&data, nrows);
	FitBgnbd(&data, params, &loglik);

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "bgnbd_final must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	for (int i = 0; i < 4; i++)
		values[i] = Float8GetDatum(params[i]);
	values[4] = Float8GetDatum(loglik);
	values[5] = Int64GetDatum(nrows);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
