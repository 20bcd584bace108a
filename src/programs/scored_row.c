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
 * scored_row_changed(same arguments) is the run's test of which rows to
 * write: it scores the same way and compares with what is stored.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "storage/proc.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "compat.h"
#include "live_rows.h"
#include "program_config.h"
#include "scoring.h"

PG_FUNCTION_INFO_V1(scored_row);
PG_FUNCTION_INFO_V1(scored_row_changed);

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

static void
deform_row(const RowLayout *layout, HeapTupleHeader row, Datum *values, bool *nulls)
{
	HeapTupleData tuple;

	tuple.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = row;
	heap_deform_tuple(&tuple, layout->desc, values, nulls);
}

/*
 * One call's row (argument 1) as stored (old) and scored (new), deformed.
 * When the same arguments were scored in this command and the memo was
 * consulted, it holds the scored row: from_memo, and nothing is deformed.
 */
typedef struct ScoredValues
{
	RowLayout  *layout;
	bool		from_memo;
	bytea	   *arguments;		/* flattened, when the memo was consulted */
	Datum	   *old;
	bool	   *old_nulls;
	Datum	   *new;
	bool	   *new_nulls;
} ScoredValues;

static void
score_values(FunctionCallInfo fcinfo, ScoredValues *v, bool consult_memo)
{
	const char *program;
	HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(1);
	RowLayout  *layout = row_layout(fcinfo, row);
	int			natts = layout->desc->natts;
	ProgramConfig *config;
	Datum		as_of;
	NullableDatum stored[NSTORED];
	Datum		scored[PC_NCOLS];
	bool		scored_nulls[PC_NCOLS];

	v->layout = layout;
	v->old = palloc(natts * sizeof(Datum));
	v->old_nulls = palloc(natts * sizeof(bool));
	v->new = palloc(natts * sizeof(Datum));
	v->new_nulls = palloc(natts * sizeof(bool));
	v->from_memo = false;
	v->arguments = consult_memo ? flatten_arguments(fcinfo, row) : NULL;
	if (consult_memo && memo_holds(v->arguments))
	{
		/* nothing deformed: scored_row returns the memo's row as it is */
		v->from_memo = true;
		return;
	}
	deform_row(layout, row, v->old, v->old_nulls);
	program = text_to_cstring(PG_GETARG_TEXT_PP(0));
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

	memcpy(v->new, v->old, natts * sizeof(Datum));
	memcpy(v->new_nulls, v->old_nulls, natts * sizeof(bool));
	for (int i = 0; i < NSTORED; i++)
		stored[i] = (NullableDatum) {v->new[layout->stored_atts[i]], v->new_nulls[layout->stored_atts[i]]};
	if (PG_NARGS() > 3)
	{
		stored[SC_ABC_CLASS] = (NullableDatum) {PG_GETARG_DATUM(3), PG_ARGISNULL(3)};
		v->new[layout->stored_atts[SC_ABC_CLASS]] = stored[SC_ABC_CLASS].value;
		v->new_nulls[layout->stored_atts[SC_ABC_CLASS]] = stored[SC_ABC_CLASS].isnull;
	}
	as_of = ProgramAsOf(config);
	ScoreStoredCustomer(config, stored, PinnedRank(config, v->new[layout->key_att], layout->keytype, as_of),
						as_of, PG_GETARG_DATUM(2), scored, scored_nulls);
	for (int i = 0; i < PC_NCOLS; i++)
	{
		v->new[layout->scored_atts[i]] = scored[i];
		v->new_nulls[layout->scored_atts[i]] = scored_nulls[i];
	}
}

/* The scored row as a datum, kept in the memo when it was just scored. */
static Datum
scored_datum(const ScoredValues *v)
{
	Datum		result;

	if (v->from_memo)
		return PointerGetDatum(PG_DETOAST_DATUM_COPY(memo.result));
	result = HeapTupleGetDatum(heap_form_tuple(v->layout->desc, v->new, v->new_nulls));
	memo_keep(v->arguments, result);
	return result;
}

static void
check_arguments(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("customer_tier.scored_row() needs the program and the source")));
}

Datum
scored_row(PG_FUNCTION_ARGS)
{
	ScoredValues v;

	check_arguments(fcinfo);
	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	score_values(fcinfo, &v, true);
	PG_RETURN_DATUM(scored_datum(&v));
}

/* One column's stored and scored values are the same value, as bytes. */
static bool
same_value(Form_pg_attribute att, bool a_null, Datum a, bool b_null, Datum b)
{
	if (a_null || b_null)
		return a_null && b_null;
	if (att->attlen == -1)
		return SameBytes(false, a, false, b);
	return datumIsEqual(a, b, att->attbyval, att->attlen);
}

/*
 * p_alive and the predicted CLV move a little every day by time alone: a
 * customer is written again when p_alive moved by 0.01 or more, or the
 * predicted CLV by 5% or more (of at least 1), since they were stored, or
 * one of them appeared or went.  The stored values stay that close to the
 * current ones without a nightly rewrite of every customer; the flags and
 * tiers that test them are compared exactly.
 */
#define P_ALIVE_MOVED 0.01
#define CLV_MOVED 0.05

static bool
model_moved(bool old_null, Datum old, bool new_null, Datum new, double tolerance, bool relative)
{
	double		o,
				n;

	if (old_null || new_null)
		return old_null != new_null;
	o = DatumGetFloat8(old);
	n = DatumGetFloat8(new);
	return fabs(n - o) >= (relative ? tolerance * Max(fabs(o), 1.0) : tolerance);
}

/* Whether the row's scoring changes what is stored, by the rules above. */
static bool
scoring_changes(const ScoredValues *v, bool with_abc)
{
	const RowLayout *layout = v->layout;
	int			p = layout->scored_atts[PC_P_ALIVE];
	int			c = layout->scored_atts[PC_PREDICTED_CLV];

	for (int i = 0; i < PC_NCOLS; i++)
	{
		int			a = layout->scored_atts[i];

		if (i == PC_CHANGED_BY || i == PC_P_ALIVE || i == PC_PREDICTED_CLV || i == PC_RISK_STAKE)
			continue;
		if (!same_value(TupleDescAttr(layout->desc, a), v->old_nulls[a], v->old[a], v->new_nulls[a], v->new[a]))
			return true;
	}
	if (with_abc)
	{
		int			a = layout->stored_atts[SC_ABC_CLASS];

		if (!same_value(TupleDescAttr(layout->desc, a), v->old_nulls[a], v->old[a], v->new_nulls[a], v->new[a]))
			return true;
	}
	return model_moved(v->old_nulls[p], v->old[p], v->new_nulls[p], v->new[p], P_ALIVE_MOVED, false) ||
		model_moved(v->old_nulls[c], v->old[c], v->new_nulls[c], v->new[c], CLV_MOVED, true);
}

/*
 * SQL: whether scoring the row would change what is stored: a scored column
 * (but changed_by, which names the scorer) or, with abc_class, the class;
 * p_alive and the CLV (and risk_stake, the CLV of a customer on the churn
 * list) within the tolerance above.  A row that changes is kept in the memo,
 * so that the scored_row of the same UPDATE's SET clause finds it; one that
 * does not is never formed, nor are its arguments flattened for the memo
 * (most rows of a run: the copy of each row cost more than its comparison).
 */
Datum
scored_row_changed(PG_FUNCTION_ARGS)
{
	ScoredValues v;

	check_arguments(fcinfo);
	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	score_values(fcinfo, &v, false);
	if (!scoring_changes(&v, PG_NARGS() > 3))
		PG_RETURN_BOOL(false);
	v.arguments = flatten_arguments(fcinfo, PG_GETARG_HEAPTUPLEHEADER(1));
	(void) scored_datum(&v);
	PG_RETURN_BOOL(true);
}
