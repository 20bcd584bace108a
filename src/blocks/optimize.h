/*
 * optimize.h — a small quasi-Newton (BFGS) minimiser for the model fits.
 *
 * The models optimise over the logarithms of their positive parameters, so
 * the search is unconstrained; the objective returns a non-finite value
 * where the likelihood cannot be evaluated, and the line search backs off.
 */
#ifndef CUSTOMER_TIER_OPTIMIZE_H
#define CUSTOMER_TIER_OPTIMIZE_H

#include "postgres.h"

#define OPT_MAX_DIM 4

/*
 * The fits work on scaled data, where every parameter is a pure number of
 * order 1.  A log-parameter beyond MODEL_THETA_RUNAWAY stops the search; a
 * solution beyond MODEL_THETA_BOUND (a parameter below 4.5e-5 or above 2.2e4)
 * is the likelihood creeping along a ridge towards a boundary, not a maximum.
 */
#define MODEL_THETA_RUNAWAY 25.0
#define MODEL_THETA_BOUND	10.0

/* Objective: returns f(theta) and, when grad is not NULL, its gradient. */
typedef double (*OptObjective) (const double *theta, double *grad, void *arg);

typedef struct OptResult
{
	double		f;				/* objective at the solution */
	double		grad_max;		/* largest |gradient component| there */
	int			iterations;		/* BFGS iterations used */
	bool		converged;		/* gradient test passed */
	bool		diverged;		/* some |theta_i| passed the bound */
} OptResult;

/* Minimises fn from theta (updated in place) with BFGS. */
extern void OptMinimize(OptObjective fn, void *arg, int n, double *theta,
						double theta_bound, OptResult *result);

/*
 * The gradient of a fit's objective, the negative log-likelihood per customer
 * over theta = log(params), from the log-likelihood's derivatives dparams in
 * the params: grad[i] = -params[i] * dparams[i] / customers.  False when a
 * component is not finite (the objective is then NaN).
 */
extern bool LogParamGradient(double *grad, const double *params,
							 const double *dparams, int n, double customers);

/* The digamma function psi(x) = d/dx lgamma(x), for x > 0. */
extern double Digamma(double x);

#endif							/* CUSTOMER_TIER_OPTIMIZE_H */
