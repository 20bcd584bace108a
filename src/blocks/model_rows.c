/*
 * model_rows.c — the aggregate state shared by bgnbd_fit and gamma_gamma_fit.
 *
 * The state is a double precision[] of input rows laid end to end.  Within
 * one aggregation it lives as an expanded array in the aggregate context and
 * is appended to in place with array_set_element(), exactly as array_append()
 * does (utils/adt/array_userfuncs.c): nodeAgg keeps a read-write expanded
 * transition value without copying it when its memory context is a child of
 * the aggregate context.  Between processes it travels as an ordinary flat
 * array, so the combine function accepts both forms.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "utils/expandeddatum.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "compat.h"
#include "models.h"

PG_FUNCTION_INFO_V1(model_rows_combine);

/* Element metadata of float8, so that expanding never hits the catalogs. */
static void
Float8Meta(ArrayMetaState *meta)
{
	meta->element_type = FLOAT8OID;
	meta->typlen = sizeof(float8);
	meta->typbyval = FLOAT8PASSBYVAL;
	meta->typalign = TYPALIGN_DOUBLE;
}

/* The state argument as a writable expanded array in the aggregate context. */
static ExpandedArrayHeader *
StateForUpdate(FunctionCallInfo fcinfo, ArrayMetaState *meta)
{
	MemoryContext aggcontext;
	MemoryContext oldcontext;
	ExpandedArrayHeader *eah;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		aggcontext = CurrentMemoryContext;
	Float8Meta(meta);
	if (PG_ARGISNULL(0))
		return construct_empty_expanded_array(FLOAT8OID, aggcontext, meta);

	/* A read-write expanded array is returned as is; anything else is copied. */
	oldcontext = MemoryContextSwitchTo(aggcontext);
	eah = DatumGetExpandedArrayX(PG_GETARG_DATUM(0), meta);
	MemoryContextSwitchTo(oldcontext);
	if (eah->ndims > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("model state must be a one-dimensional array"),
				 errdetail("The state has %d dimensions.", eah->ndims),
				 errhint("Pass the state built by the model's own aggregate.")));
	return eah;
}

/* Appends values to the expanded array, growing it geometrically. */
static Datum
AppendValues(ExpandedArrayHeader *eah, const Datum *values, int nvalues)
{
	Datum		result = EOHPGetRWDatum(&eah->hdr);
	int			next;

	if ((Size) eah->nelems + nvalues > MODEL_MAX_VALUES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many customers for one model fit"),
				 errdetail("A fit holds at most %zu values.", (Size) MODEL_MAX_VALUES),
				 errhint("Fit the model on a sample of the customers.")));

	/*
	 * Fast path: room left in a deconstructed one-dimensional array.  This
	 * does what array_set_element_expanded() does for an append (invalidate
	 * the flat copy and its size, bump the element count and dimension)
	 * without its per-call checks.  Otherwise let array_set_element() set
	 * up the dimensions or grow the value array (by 1/8, so amortised O(1)).
	 */
	if (eah->ndims == 1 && eah->dvalues != NULL && eah->dnulls == NULL &&
		eah->fvalue == NULL && eah->typbyval &&
		eah->nelems + nvalues <= eah->dvalueslen)
	{
		memcpy(eah->dvalues + eah->nelems, values, nvalues * sizeof(Datum));
		eah->nelems += nvalues;
		eah->dims[0] += nvalues;
		eah->flat_size = 0;
		return result;
	}
	next = (eah->ndims == 1) ? eah->lbound[0] + eah->dims[0] : 1;
	for (int i = 0; i < nvalues; i++, next++)
		result = array_set_element(result, 1, &next, values[i], false,
								   -1, sizeof(float8), FLOAT8PASSBYVAL,
								   TYPALIGN_DOUBLE);
	return result;
}

/* Appends nvalues float8 values to the aggregate state (argument 0). */
Datum
ModelStateAppend(FunctionCallInfo fcinfo, const double *values, int nvalues)
{
	ArrayMetaState meta;
	ExpandedArrayHeader *eah = StateForUpdate(fcinfo, &meta);
	Datum		datums[4];

	Assert(nvalues <= 4);
	for (int i = 0; i < nvalues; i++)
		datums[i] = Float8GetDatum(values[i]);
	return AppendValues(eah, datums, nvalues);
}

/*
 * Combine two row states: the rows of the second are appended to the first.
 * When the first is NULL the second is copied into the aggregate context,
 * because the executor may free the second's memory.
 */
Datum
model_rows_combine(PG_FUNCTION_ARGS)
{
	ArrayMetaState meta;
	ExpandedArrayHeader *eah;
	ExpandedArrayHeader *other;
	Datum	   *values;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	eah = StateForUpdate(fcinfo, &meta);

	/* Read the second state without modifying it (a copy if it is flat). */
	other = DatumGetExpandedArrayX(PG_GETARG_DATUM(1), &meta);
	deconstruct_expanded_array(other);
	if (other->ndims > 1 || other->dnulls != NULL)
	{
		for (int i = 0; other->dnulls != NULL && i < other->nelems; i++)
			if (other->dnulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("model state must not contain nulls"),
						 errhint("Pass the state built by the model's own aggregate.")));
		if (other->ndims > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("model state must be a one-dimensional array"),
					 errdetail("The state has %d dimensions.", other->ndims),
					 errhint("Pass the state built by the model's own aggregate.")));
	}
	values = other->dvalues;
	PG_RETURN_DATUM(AppendValues(eah, values, other->nelems));
}

/*
 * Copies the rows of a state array out as doubles, checking that it is a
 * one-dimensional array without nulls whose length is a multiple of stride.
 * The state has text input, so anything may arrive here.
 */
double *
ModelStateRows(Datum state, int stride, const char *model, int64 *nrows)
{
	ArrayMetaState meta;
	ExpandedArrayHeader *eah;
	double	   *rows;

	Float8Meta(&meta);
	if (VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(state)))
		eah = (ExpandedArrayHeader *) DatumGetEOHP(state);	/* read only */
	else
		eah = DatumGetExpandedArrayX(state, &meta);
	if (eah->ea_magic != EA_MAGIC || eah->element_type != FLOAT8OID)
		elog(ERROR, "%s state is not a double precision array", model);
	/* Deconstructing does not change the array's value, so is allowed on R/O. */
	deconstruct_expanded_array(eah);
	if (eah->ndims > 1 || eah->nelems % stride != 0)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s state must be a one-dimensional array of %d-value rows",
						model, stride),
				 errdetail("The state has %d dimensions and %d values.",
						   eah->ndims, eah->nelems),
				 errhint("Pass the state built by the model's own aggregate.")));
	rows = palloc_extended(sizeof(double) * Max(eah->nelems, 1), MCXT_ALLOC_HUGE);
	for (int i = 0; i < eah->nelems; i++)
	{
		if (eah->dnulls != NULL && eah->dnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s state must not contain nulls", model),
					 errhint("Pass the state built by the model's own aggregate.")));
		rows[i] = DatumGetFloat8(eah->dvalues[i]);
	}
	*nrows = eah->nelems / stride;
	return rows;
}

/* Rejects NaN and infinity in an input value. */
void
CheckFiniteInput(double value, const char *name)
{
	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be NaN", name),
				 errhint("Filter out or repair the rows with NaN.")));
	if (isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s must be finite", name),
				 errdetail("The value is %s.", value > 0 ? "Infinity" : "-Infinity"),
				 errhint("Filter out or repair the rows with infinite values.")));
}

/* Rejects a repeat purchase count x (of BG/NBD and Gamma-Gamma rows) that is not a whole number >= 0. */
void
CheckRepeatCount(double x)
{
	if (x < 0 || x != floor(x) || x > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("repeat purchase count x must be a non-negative integer"),
				 errdetail("x is %g.", x),
				 errhint("x counts the purchases after the first one.")));
}

/*
 * Reads the named parameters of a model composite: each must be present,
 * finite and positive, as every fitted model's are.  The composite is
 * deformed once: a run reads the models for every customer it scores, and a
 * lookup of the row type per parameter (GetAttributeByNum) cost about 7% of
 * its scoring.
 */
void
ModelReadParams(HeapTupleHeader model, int nparams, const char *const *names,
				const char *model_name, double *params)
{
	TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(model),
											  HeapTupleHeaderGetTypMod(model));
	HeapTupleData tuple;
	Datum	   *values = palloc(desc->natts * sizeof(Datum));
	bool	   *nulls = palloc(desc->natts * sizeof(bool));

	if (desc->natts < nparams)
		elog(ERROR, "%s model composite has %d fields, not %d", model_name, desc->natts, nparams);
	tuple.t_len = HeapTupleHeaderGetDatumLength(model);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = model;
	heap_deform_tuple(&tuple, desc, values, nulls);
	ReleaseTupleDesc(desc);
	for (int i = 0; i < nparams; i++)
	{
		bool		isnull = nulls[i];
		Datum		d = values[i];

		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s model parameter %s must not be null", model_name, names[i]),
					 errhint("Pass a model returned by customer_tier.%s_fit().", model_name)));
		params[i] = DatumGetFloat8(d);
		if (!isfinite(params[i]) || params[i] <= 0.0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s model parameter %s must be positive and finite",
							model_name, names[i]),
					 errdetail("The model has %s = %g.", names[i], params[i]),
					 errhint("Pass a model returned by customer_tier.%s_fit().", model_name)));
	}
	pfree(values);
	pfree(nulls);
}
