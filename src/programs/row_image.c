/*
 * row_image.c — reading a CRM row without running its owner's code.
 *
 * The trigger functions run as customer_tier_owner, with rights the orders
 * table's owner lacks.  Casts (to_jsonb, ::text) would call any cast function
 * that owner created for its own column types, with those rights.  These
 * functions use the types' output functions instead: a base type's output
 * function is C that only a superuser can install, and enums, domains,
 * composites, arrays and ranges use the built-in ones.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "compat.h"

PG_FUNCTION_INFO_V1(text_of);
PG_FUNCTION_INFO_V1(row_image);

/* A value as text, through its type's output function. */
Datum
text_of(PG_FUNCTION_ARGS)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, 0);
	Oid			output;
	bool		varlena;

	if (!OidIsValid(type))
		elog(ERROR, "could not determine the argument type of text_of");
	getTypeOutputInfo(type, &output, &varlena);
	PG_RETURN_TEXT_P(cstring_to_text(OidOutputFunctionCall(output, PG_GETARG_DATUM(0))));
}

/*
 * A row as a JSON object of column name to the column's text, or null.  Dates
 * and intervals are written in ISO and PostgreSQL style whatever the writing
 * session's DateStyle and IntervalStyle, so that every image reads alike.
 */
Datum
row_image(PG_FUNCTION_ARGS)
{
	HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(0);
	TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(row),
											  HeapTupleHeaderGetTypMod(row));
	HeapTupleData tuple;
	JsonbParseState *state = NULL;
	JsonbValue *result;
	int			guc_level;
	int			i;

	tuple.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&(tuple.t_self));
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = row;

	guc_level = NewGUCNestLevel();
	(void) set_config_option("datestyle", "ISO, YMD", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("intervalstyle", "postgres", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		JsonbValue	key;
		JsonbValue	value;
		bool		isnull;
		Datum		datum;

		if (att->attisdropped)
			continue;
		key.type = jbvString;
		key.val.string.val = NameStr(att->attname);
		key.val.string.len = strlen(NameStr(att->attname));
		pushJsonbValue(&state, WJB_KEY, &key);

		datum = heap_getattr(&tuple, i + 1, desc, &isnull);
		if (isnull)
			value.type = jbvNull;
		else
		{
			Oid			output;
			bool		varlena;
			char	   *text;

			getTypeOutputInfo(att->atttypid, &output, &varlena);
			text = OidOutputFunctionCall(output, datum);
			value.type = jbvString;
			value.val.string.val = text;
			value.val.string.len = strlen(text);
		}
		pushJsonbValue(&state, WJB_VALUE, &value);
	}
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	AtEOXact_GUC(true, guc_level);
	ReleaseTupleDesc(desc);
	PG_RETURN_POINTER(JsonbValueToJsonb(result));
}
