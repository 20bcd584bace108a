/*
 * scored_row.c — a run's entry to the one scoring path:
 * customer_tier.scored_row(program, customer row, source [, abc_class]).
 *
 * A run (rescore_where) scores each customer of a program from its stored
 * row: this takes the row of the program's customers table, reads the
 * columns the scoring needs by name, scores them with ScoreStoredCustomer
 * against the program's configuration cached in C (as the trigger path
 * does), and returns the row with every scored column set (and, with
 * abc_class, the ABC class the run computed).  The row type is the
 * program's own, so no list of scored columns is written in SQL:
 * rescore_where builds its SET list from program_scored_columns().
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "storage/proc.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "compat.h"
#include "program_config.h"
#include "scoring.h"

PG_FUNCTION_INFO_V1(scored_row);

/* Where the columns are in one row type, kept in fn_extra. */
typedef struct RowLayout
{
	Oid			typid;
	int32		typmod;
	TupleDesc	desc;
	int			key_att;
	Oid			keytype;
	int			stored_atts[NSTORED];
	int			scored_atts[PC_NCOLS];
	char		checked_program[NAMEDATALEN];	/* a program known to exist */
} RowLayout;

/*
 * The last row scored, with what it was scored from.  rescore_where's UPDATE
 * names the scoring twice, once to test whether anything changed and once to
 * set the columns, and the planner runs the two sub-selects apart: a row that
 * changes would be scored twice.  The second call finds the same arguments in
 * the same command and returns the same row.  Within one command the
 * configuration, the pins and the scoring date cannot change, so equal
 * arguments give equal scores.
 */
typedef struct ScoredMemo
{
	MemoryContext context;
	LocalTransactionId lxid;
	CommandId	command;
	bytea	   *arguments;		/* program, source, abc class and row, flattened */
	Datum		result;
} ScoredMemo;

static ScoredMemo memo;

/* The arguments of one call as one byte string, to compare with the memo's. */
static bytea *
flatten_arguments(FunctionCallInfo fcinfo, HeapTupleHeader row)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, "    ", VARHDRSZ);
	for (int i = 0; i < PG_NARGS(); i++)
	{
		struct varlena *value;
		int32		len;

		if (i == 1)
			value = (struct varlena *) row;
		else if (PG_ARGISNULL(i))
		{
			appendStringInfoChar(&buf, 'n');
			continue;
		}
		else
			value = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(i));
		len = VARSIZE_ANY_EXHDR(value);
		appendStringInfoChar(&buf, 'v');
		appendBinaryStringInfo(&buf, (char *) &len, sizeof(len));
		appendBinaryStringInfo(&buf, VARDATA_ANY(value), len);
	}
	SET_VARSIZE(buf.data, buf.len);
	return (bytea *) buf.data;
}

static bool
memo_holds(const bytea *arguments)
{
	return memo.arguments != NULL && memo.lxid == CompatLocalTransactionId() && memo.command == GetCurrentCommandId(false) &&
		VARSIZE(memo.arguments) == VARSIZE(arguments) &&
		memcmp(memo.arguments, arguments, VARSIZE(arguments)) == 0;
}

static void
memo_keep(bytea *arguments, Datum result)
{
	MemoryContext old;

	if (memo.context == NULL)
		memo.context = AllocSetContextCreate(TopMemoryContext, "customer_tier scored_row memo",
											 ALLOCSET_SMALL_SIZES);
	MemoryContextReset(memo.context);
	old = MemoryContextSwitchTo(memo.context);
	memo.arguments = (bytea *) PG_DETOAST_DATUM_COPY(PointerGetDatum(arguments));
	memo.result = PointerGetDatum(PG_DETOAST_DATUM_COPY(result));
	MemoryContextSwitchTo(old);
	memo.lxid = CompatLocalTransactionId();
	memo.command = GetCurrentCommandId(false);
}

static int
attribute_index(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i;
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("customer_tier.scored_row() takes a row of a program's customers table; %s has no column \"%s\"",
					format_type_be(desc->tdtypeid), name)));
	return -1;					/* not reached */
}

static RowLayout *
row_layout(FunctionCallInfo fcinfo, HeapTupleHeader row)
{
	RowLayout  *layout = fcinfo->flinfo->fn_extra;
	Oid			typid = HeapTupleHeaderGetTypeId(row);
	int32		typmod = HeapTupleHeaderGetTypMod(row);
	MemoryContext old;

	if (layout != NULL && layout->typid == typid && layout->typmod == typmod)
		return layout;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	layout = palloc(sizeof(RowLayout));
	layout->typid = typid;
	layout->typmod = typmod;
	layout->checked_program[0] = '\0';
	layout->desc = lookup_rowtype_tupdesc_copy(typid, typmod);
	layout->key_att = attribute_index(layout->desc, "customer");
	layout->keytype = TupleDescAttr(layout->desc, layout->key_att)->atttypid;
	for (int i = 0; i < NSTORED; i++)
		layout->stored_atts[i] = attribute_index(layout->desc, stored_column_names[i]);
	for (int i = 0; i < PC_NCOLS; i++)
		layout->scored_atts[i] = attribute_index(layout->desc, scored_column_names[i]);
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = layout;
	return layout;
}

Datum
scored_row(PG_FUNCTION_ARGS)
{
	const char *program;
	HeapTupleHeader row;
	HeapTupleData tuple;
	RowLayout  *layout;
	ProgramConfig *config;
	Datum		as_of;
	Datum	   *values;
	bool	   *nulls;
	NullableDatum stored[NSTORED];
	Datum		scored[PC_NCOLS];
	bool		scored_nulls[PC_NCOLS];
	bool		with_abc = PG_NARGS() > 3;
	bytea	   *arguments;
	Datum		result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("customer_tier.scored_row() needs the program and the source")));
	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	row = PG_GETARG_HEAPTUPLEHEADER(1);
	arguments = flatten_arguments(fcinfo, row);
	if (memo_holds(arguments))
		PG_RETURN_DATUM(PointerGetDatum(PG_DETOAST_DATUM_COPY(memo.result)));
	program = text_to_cstring(PG_GETARG_TEXT_PP(0));
	layout = row_layout(fcinfo, row);
	/* checked once per call site: the configuration cache would name triggers */
	if (strncmp(layout->checked_program, program, NAMEDATALEN) != 0)
	{
		if (!OidIsValid(ProgramCustomersTable(program)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("program \"%s\" does not exist", program)));
		strlcpy(layout->checked_program, program, NAMEDATALEN);
	}
	config = GetProgramConfig(program);

	tuple.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = row;
	values = palloc(layout->desc->natts * sizeof(Datum));
	nulls = palloc(layout->desc->natts * sizeof(bool));
	heap_deform_tuple(&tuple, layout->desc, values, nulls);

	for (int i = 0; i < NSTORED; i++)
		stored[i] = (NullableDatum) {values[layout->stored_atts[i]], nulls[layout->stored_atts[i]]};
	if (with_abc)
	{
		stored[SC_ABC_CLASS] = (NullableDatum) {PG_GETARG_DATUM(3), PG_ARGISNULL(3)};
		values[layout->stored_atts[SC_ABC_CLASS]] = stored[SC_ABC_CLASS].value;
		nulls[layout->stored_atts[SC_ABC_CLASS]] = stored[SC_ABC_CLASS].isnull;
	}
	as_of = ProgramAsOf(config);
	ScoreStoredCustomer(config, stored, PinnedRank(config, values[layout->key_att], layout->keytype, as_of),
						as_of, PG_GETARG_DATUM(2), scored, scored_nulls);
	for (int i = 0; i < PC_NCOLS; i++)
	{
		values[layout->scored_atts[i]] = scored[i];
		nulls[layout->scored_atts[i]] = scored_nulls[i];
	}
	result = HeapTupleGetDatum(heap_form_tuple(layout->desc, values, nulls));
	memo_keep(arguments, result);
	PG_RETURN_DATUM(result);
}
