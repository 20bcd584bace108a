/*
 * models.h — shared pieces of the customer-lifetime models (BG/NBD,
 * Gamma-Gamma, CLV): the row-collecting aggregate state, model arguments and
 * the closed-form BG/NBD expectation that the CLV needs.
 *
 * The aggregate state of bgnbd_fit and gamma_gamma_fit is a plain
 * double precision[] holding the input rows back to back (x, t_x, T triples
 * or x, mean_spend pairs).  It is a real type with text I/O, so parallel
 * workers and distributed engines can ship it; inside one aggregation it is
 * an expanded array that is appended to in place.
 */
#ifndef CUSTOMER_TIER_MODELS_H
#define CUSTOMER_TIER_MODELS_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"

#include "compat.h"

/*
 * Most values one state may hold: its Datum array grows by 1/8 at a time and
 * must stay under the 1 GB allocation limit (about 39 million BG/NBD rows).
 */
#define MODEL_MAX_VALUES	(MaxAllocSize / sizeof(Datum) / 9 * 8)

/* Appends nvalues float8 values to the aggregate state (argument 0). */
extern Datum ModelStateAppend(FunctionCallInfo fcinfo, const double *values,
							  int nvalues);

/* Copies the rows of a state array out, validating its shape. */
extern double *ModelStateRows(Datum state, int stride, const char *model,
							  int64 *nrows);

/* Reads the positive parameters of a model composite (r, alpha, ...). */
extern void ModelReadParams(HeapTupleHeader model, int nparams,
							const char *const *names, const char *model_name,
							double *params);

/* Rejects NaN and infinity in an input value. */
extern void CheckFiniteInput(double value, const char *name);

/* Rejects a repeat purchase count x that is not a whole number >= 0. */
extern void CheckRepeatCount(double x);

/* Validates one (x, t_x, T) customer summary. */
extern void CheckBgnbdRow(double x, double t_x, double t);

/* Conditional expected purchases in (0, horizon] for one customer. */
extern double BgnbdExpectedPurchases(const double *params, double horizon,
									 double x, double t_x, double t);

#endif							/* CUSTOMER_TIER_MODELS_H */
