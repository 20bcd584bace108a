/*
 * optimize.c — BFGS over the log-parameters of the customer-lifetime models.
 *
 * The fits have three or four parameters and cheap analytic gradients, so a
 * dense inverse-Hessian BFGS with a backtracking (Armijo) line search is the
 * simplest method that converges in a few dozen iterations.  Steps are capped
 * in length (in log units, a factor e^2 per step) so that one bad step cannot
 * jump to where lgamma() overflows; non-finite objective values count as
 * "too far" and the line search backs off.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "compat.h"
#include "optimize.h"

#define OPT_MAX_ITER	500
#define OPT_GTOL		1e-9	/* converged: every |gradient| below this */
#define OPT_GTOL_STALL	1e-6	/* no more progress: accept below this */
#define OPT_FTOL		1e-15	/* relative change of f that counts as none */
#define OPT_MAX_STEP	2.0		/* largest change of one log-parameter */
#define OPT_ARMIJO		1e-4
#define OPT_CREEP_ITER	25		/* iterations between two creep checks */
#define OPT_CREEP_FTOL	1e-8	/* relative gain over them that is creeping */

/* Largest absolute component of a vector. */
static double
MaxAbs(const double *v, int n)
{
	double		m = 0.0;

	for (int i = 0; i < n; i++)
		m = Max(m, fabs(v[i]));
	return m;
}

/* Sets the n x n matrix h to scale times the identity. */
static void
ResetHessian(double h[OPT_MAX_DIM][OPT_MAX_DIM], int n, double scale)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			h[i][j] = (i == j) ? scale : 0.0;
}

/* Minimises fn from theta (updated in place) with BFGS. */
void
OptMinimize(OptObjective fn, void *arg, int n, double *theta,
			double theta_bound, OptResult *result)
{
	double		h[OPT_MAX_DIM][OPT_MAX_DIM];
	double		g[OPT_MAX_DIM],
				gnew[OPT_MAX_DIM],
				p[OPT_MAX_DIM],
				tnew[OPT_MAX_DIM],
				s[OPT_MAX_DIM],
				y[OPT_MAX_DIM],
				hy[OPT_MAX_DIM];
	double		f;
	bool		fresh = true;	/* h is a (scaled) identity */
	int			flat = 0;		/* consecutive steps without real progress */
	double		f_checked;		/* f at the last creep check */
	int			iter;

	Assert(n > 0 && n <= OPT_MAX_DIM);
	memset(result, 0, sizeof(*result));
	f = fn(theta, g, arg);
	result->f = f;
	if (!isfinite(f))
		return;
	ResetHessian(h, n, 1.0);
	f_checked = f;

	for (iter = 0; iter < OPT_MAX_ITER; iter++)
	{
		double		slope = 0.0,
					step = 1.0,
					fnew = 0.0,
					len,
					sy = 0.0,
					yy = 0.0,
					yhy = 0.0,
					rho;
		bool		accepted = false;

		CHECK_FOR_INTERRUPTS();
		if (MaxAbs(g, n) < OPT_GTOL)
			break;

		for (int i = 0; i < n; i++)
		{
			p[i] = 0.0;
			for (int j = 0; j < n; j++)
				p[i] -= h[i][j] * g[j];
			slope += p[i] * g[i];
		}
		if (!(slope < 0.0))
		{
			/* Not a descent direction: fall back to steepest descent. */
			ResetHessian(h, n, 1.0);
			fresh = true;
			slope = 0.0;
			for (int i = 0; i < n; i++)
			{
				p[i] = -g[i];
				slope -= g[i] * g[i];
			}
		}
		len = MaxAbs(p, n);
		if (len > OPT_MAX_STEP)
		{
			for (int i = 0; i < n; i++)
				p[i] *= OPT_MAX_STEP / len;
			slope *= OPT_MAX_STEP / len;
		}

		for (int ls = 0; ls < 60; ls++)
		{
			for (int i = 0; i < n; i++)
				tnew[i] = theta[i] + step * p[i];
			fnew = fn(tnew, gnew, arg);
			if (isfinite(fnew) && fnew <= f + OPT_ARMIJO * step * slope)
			{
				accepted = true;
				break;
			}
			step *= 0.5;
		}
		if (!accepted)
		{
			if (fresh)
				break;			/* stalled even along the gradient */
			ResetHessian(h, n, 1.0);
			fresh = true;
			continue;
		}

		for (int i = 0; i < n; i++)
		{
			s[i] = tnew[i] - theta[i];
			y[i] = gnew[i] - g[i];
			theta[i] = tnew[i];
			g[i] = gnew[i];
			sy += s[i] * y[i];
			yy += y[i] * y[i];
		}
		/*
		 * With a million customers, rounding in the sums puts a floor under
		 * the gradient near 1e-9; once f stops moving there, stop too.
		 */
		flat = (f - fnew <= OPT_FTOL * fabs(f)) ? flat + 1 : 0;
		f = fnew;
		if (flat >= 3 && MaxAbs(g, n) < OPT_GTOL_STALL)
			break;
		if (MaxAbs(theta, n) > theta_bound)
		{
			result->diverged = true;
			break;
		}

		/*
		 * Beyond MODEL_THETA_BOUND the callers refuse the solution anyway; a
		 * likelihood that still gains almost nothing there is creeping along
		 * a ridge towards a boundary, which can take all OPT_MAX_ITER
		 * iterations (seconds on a large sample) to reach theta_bound.
		 */
		if ((iter + 1) % OPT_CREEP_ITER == 0)
		{
			if (MaxAbs(theta, n) > MODEL_THETA_BOUND &&
				f_checked - f <= OPT_CREEP_FTOL * fabs(f))
			{
				result->diverged = true;
				break;
			}
			f_checked = f;
		}

		/* Curvature condition fails: restart from a scaled identity. */
		if (!(sy > 1e-12 * sqrt(yy) * sqrt(MaxAbs(s, n) * MaxAbs(s, n) * n)))
		{
			ResetHessian(h, n, 1.0);
			fresh = true;
			continue;
		}
		if (fresh)
			ResetHessian(h, n, sy / yy);
		fresh = false;

		rho = 1.0 / sy;
		for (int i = 0; i < n; i++)
		{
			hy[i] = 0.0;
			for (int j = 0; j < n; j++)
				hy[i] += h[i][j] * y[j];
			yhy += y[i] * hy[i];
		}
		for (int i = 0; i < n; i++)
			for (int j = 0; j < n; j++)
				h[i][j] += rho * ((1.0 + rho * yhy) * s[i] * s[j]
								  - (hy[i] * s[j] + s[i] * hy[j]));
	}

	result->f = f;
	result->iterations = iter;
	result->grad_max = MaxAbs(g, n);
	result->converged = !result->diverged &&
		(result->grad_max < OPT_GTOL ||
		 (iter < OPT_MAX_ITER && result->grad_max < OPT_GTOL_STALL));
}

/* The gradient over log-parameters of a fit's objective (optimize.h). */
bool
LogParamGradient(double *grad, const double *params, const double *dparams,
				 int n, double customers)
{
	bool		finite = true;

	for (int i = 0; i < n; i++)
	{
		grad[i] = -params[i] * dparams[i] / customers;
		finite = finite && isfinite(grad[i]);
	}
	return finite;
}

/*
 * The digamma function for x > 0: the recurrence psi(x) = psi(x + 1) - 1/x
 * moves x to at least 6, where the asymptotic series is accurate to about
 * 1e-15 (Abramowitz & Stegun 6.3.18).
 */
double
Digamma(double x)
{
	double		result = 0.0;
	double		f;

	while (x < 6.0)
	{
		result -= 1.0 / x;
		x += 1.0;
	}
	f = 1.0 / (x * x);
	return result + log(x) - 0.5 / x
		- f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
}
