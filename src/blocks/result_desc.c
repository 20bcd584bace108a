/*
 * result_desc.c — the result descriptor of our composite-returning C
 * functions, cached in fn_extra: building it from the OUT parameters or the
 * declared type on every row would cost more than the functions' own work.
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/memutils.h"

#include "compat.h"
#include "result_desc.h"

/* The blessed result descriptor, looked up and copied once per call site. */
TupleDesc
CachedResultDesc(FunctionCallInfo fcinfo)
{
	TupleDesc	desc = (TupleDesc) fcinfo->flinfo->fn_extra;
	MemoryContext old;

	if (desc != NULL)
		return desc;
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning a composite called in a context that cannot accept it"),
				 errhint("Call it in the FROM clause, or select its result as a whole.")));
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	desc = BlessTupleDesc(CreateTupleDescCopy(desc));
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = desc;
	return desc;
}
