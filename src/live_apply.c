/*
 * live_apply.c — the apply step of the trigger path: a transaction's
 * per-customer deltas written to the program's customers at commit.
 *
 * Customers are taken one at a time, in key order: the stored row is locked
 * (FOR NO KEY UPDATE, through the primary key), the deltas are merged into
 * its states in C, its metrics and every scored column are computed by the
 * one scoring path's C core (ScoreProgramCustomerArgs) against the
 * configuration cached in C (program_config.c), and the row is written by
 * its ctid.  A customer not stored yet is inserted with ON CONFLICT DO
 * NOTHING; when a concurrent transaction inserted it first, its row is then
 * locked and updated like any other.  Each statement is small and prepared
 * once per backend: the per-transaction cost of the former single upsert was
 * mostly starting its executor.
 *
 * A removal the stored state cannot account for (drift) leaves the state as
 * it was; the customer is then recomputed from the orders table
 * (repair_customers), and the event is logged.  Customers left without any
 * order are deleted after being scored, as before.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "live_apply.h"
#include "order_stats.h"
#include "program_config.h"
#include "scoring.h"

/* The stored columns the scoring reads, as the find statement returns them after ctid and the states. */
enum
{
	CUR_TIER,
	CUR_TIER_SINCE,
	CUR_PENDING_SINCE,
	CUR_ABC_CLASS,
	CUR_LIFECYCLE,
	CUR_LIFECYCLE_SINCE,
	CUR_PREVIOUS_LIFECYCLE,
	CUR_RECENT_SATISFACTION,
	NCUR
};

static const char *const current_columns[NCUR] = {
	"tier", "tier_since", "pending_since", "abc_class", "lifecycle", "lifecycle_since",
	"previous_lifecycle", "recent_satisfaction"
};

/* What the apply writes after the key: the states, then the metrics (CustomerMetrics' order). */
static const char *const written_columns[2 + ORDER_STATS_RESULT_COLUMNS] = {
	"purchases", "refunds",
	"orders", "monetary", "first_order", "last_order", "mean_gap_days", "gap_stddev_days"
};
#define NWRITTEN (lengthof(written_columns) + PC_NCOLS)

typedef struct ApplyPlans
{
	char		program[NAMEDATALEN];	/* hash key */
	Oid			customers;		/* the program's customers table when planned */
	SPIPlanPtr	find;			/* (key) -> ctid, states, current columns; locks the row */
	SPIPlanPtr	update;			/* (ctid, written...) */
	SPIPlanPtr	insert;			/* (key, written...) ON CONFLICT DO NOTHING */
	SPIPlanPtr	first_tier;		/* (key, tier, reason, source, program): history and NOTIFY */
	SPIPlanPtr	pin;			/* (tiers, program, key) -> pinned rank */
	SPIPlanPtr	emptied;		/* (keys): delete customers left without orders */
	SPIPlanPtr	repair;			/* (program, keys, drifted): recompute from the orders */
} ApplyPlans;

static HTAB *apply_plans = NULL;

static SPIPlanPtr
prepare_kept(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

/* The type of a column of the customers table; the column must exist. */
static Oid
column_type(TupleDesc desc, const char *column)
{
	int			attnum = SPI_fnumber(desc, column);

	if (attnum <= 0)
		elog(ERROR, "customers table has no column \"%s\"", column);
	return SPI_gettypeid(desc, attnum);
}

/* Plan the statements of one program (its customers table is customers). */
static void
plan_program(ApplyPlans *p, Oid customers, Oid keytype)
{
	Relation	rel = table_open(customers, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	const char *table = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												   RelationGetRelationName(rel));
	const char *columns[NWRITTEN];
	Oid			types[1 + NWRITTEN];
	StringInfoData find;
	StringInfoData update;
	StringInfoData insert;
	StringInfoData values;
	char	   *scored;
	int			nscored = 0;
	Oid			keyarray = get_array_type(keytype);
	Oid			text5[5] = {keytype, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Oid			pin_args[3] = {TEXTARRAYOID, TEXTOID, keytype};
	Oid			repair_args[3] = {TEXTOID, keyarray, BOOLOID};

	/* the scored columns are defined once, by program_scored_columns() */
	if (SPI_execute("SELECT customer_tier.program_scored_columns()", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed");
	scored = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	for (int i = 0; i < (int) lengthof(written_columns); i++)
		columns[i] = written_columns[i];
	for (char *tok = strtok(scored, ", "); tok != NULL; tok = strtok(NULL, ", "))
	{
		if (nscored == PC_NCOLS)
			elog(ERROR, "program_scored_columns() names more than %d columns", PC_NCOLS);
		columns[lengthof(written_columns) + nscored++] = tok;
	}
	if (nscored != PC_NCOLS)
		elog(ERROR, "program_scored_columns() names %d columns, not %d", nscored, PC_NCOLS);

	initStringInfo(&find);
	appendStringInfoString(&find, "SELECT c.ctid, c.purchases, c.refunds");
	for (int i = 0; i < NCUR; i++)
		appendStringInfo(&find, ", c.%s", quote_identifier(current_columns[i]));
	appendStringInfo(&find, " FROM %s AS c WHERE c.customer OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE",
					 table);

	initStringInfo(&update);
	initStringInfo(&insert);
	initStringInfo(&values);
	appendStringInfo(&update, "UPDATE %s AS c SET remove_purchases = NULL, remove_refunds = NULL,"
					 " updated_at = pg_catalog.now()", table);
	appendStringInfo(&insert, "INSERT INTO %s AS c (customer, updated_at", table);
	appendStringInfoString(&values, "$1, pg_catalog.now()");
	types[0] = keytype;
	for (int i = 0; i < (int) NWRITTEN; i++)
	{
		types[i + 1] = column_type(desc, columns[i]);
		appendStringInfo(&update, ", %s = $%d", quote_identifier(columns[i]), i + 2);
		appendStringInfo(&insert, ", %s", quote_identifier(columns[i]));
		appendStringInfo(&values, ", $%d", i + 2);
	}
	appendStringInfoString(&update, " WHERE c.ctid OPERATOR(pg_catalog.=) $1");
	appendStringInfo(&insert, ") VALUES (%s) ON CONFLICT (customer) DO NOTHING", values.data);

	p->find = prepare_kept(find.data, 1, &keytype);
	types[0] = TIDOID;
	p->update = prepare_kept(update.data, 1 + NWRITTEN, types);
	types[0] = keytype;
	p->insert = prepare_kept(insert.data, 1 + NWRITTEN, types);
	p->first_tier = prepare_kept(psprintf(
		"WITH h AS (INSERT INTO %s.tier_history (customer, from_tier, to_tier, reason, source)"
		"           VALUES ($1, NULL, $2, $3, $4) RETURNING id)"
		" SELECT customer_tier.announce_tier_change($5, h.id) FROM h",
		quote_identifier(get_namespace_name(RelationGetNamespace(rel)))), 5, text5);
	p->pin = prepare_kept(
		"SELECT pg_catalog.array_position($1, pin.tier) FROM customer_tier.pin AS pin"
		" WHERE pin.program OPERATOR(pg_catalog.=) $2 AND pin.customer OPERATOR(pg_catalog.=) $3::text"
		"   AND (pin.expires_at IS NULL OR pin.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())",
		3, pin_args);
	p->emptied = prepare_kept(psprintf(
		"DELETE FROM %s AS c WHERE c.customer OPERATOR(pg_catalog.=) ANY ($1)"
		"   AND c.purchases IS NULL AND c.refunds IS NULL", table), 1, &keyarray);
	p->repair = prepare_kept("SELECT customer_tier.repair_customers($1, $2, $3)", 3, repair_args);
	table_close(rel, AccessShareLock);
	p->customers = customers;
}

static void
forget_plans(ApplyPlans *p)
{
	SPIPlanPtr *all[] = {&p->find, &p->update, &p->insert, &p->first_tier, &p->pin, &p->emptied, &p->repair};

	for (int i = 0; i < (int) lengthof(all); i++)
		if (*all[i] != NULL)
		{
			SPI_freeplan(*all[i]);
			*all[i] = NULL;
		}
}

/* The program's statements, planned again when its customers table is not the one they were planned for. */
static ApplyPlans *
get_apply_plans(const char *program, Oid customers, Oid keytype)
{
	char		key[NAMEDATALEN];
	ApplyPlans *p;
	bool		found;

	if (apply_plans == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(ApplyPlans);
		apply_plans = hash_create("customer_tier apply plans", 16, &ctl, HASH_ELEM | HASH_STRINGS);
	}
	memset(key, 0, sizeof(key));
	strlcpy(key, program, NAMEDATALEN);
	p = hash_search(apply_plans, key, HASH_ENTER, &found);
	if (!found)
	{
		p->customers = InvalidOid;
		p->find = p->update = p->insert = p->first_tier = p->pin = p->emptied = p->repair = NULL;
	}
	if (p->customers != customers)
	{
		forget_plans(p);
		p->customers = InvalidOid;
		plan_program(p, customers, keytype);
	}
	return p;
}

/* states[0] plus states[1]; NULL stands for no orders. */
static NullableDatum
merge(NullableDatum stored, NullableDatum added)
{
	Datum		both[2];

	if (added.isnull)
		return stored;
	if (stored.isnull)
		return added;
	both[0] = stored.value;
	both[1] = added.value;
	return (NullableDatum) {.value = OrderStatsMergeStates(both, 2), .isnull = false};
}

/* state minus removed; *drift when state does not hold them (state then unchanged). */
static NullableDatum
subtract(NullableDatum state, NullableDatum removed, bool *drift)
{
	if (removed.isnull)
		return state;
	if (state.isnull || !OrderStatsHolds(state.value, removed.value))
	{
		*drift = true;
		return state;
	}
	return OrderStatsSubtract(state.value, removed.value);
}

static Datum
key_array(Datum *keys, int n, Oid keytype)
{
	int16		len;
	bool		byval;
	char		align;

	get_typlenbyvalalign(keytype, &len, &byval, &align);
	return PointerGetDatum(construct_array(keys, n, keytype, len, byval, align));
}

static void
execute(SPIPlanPtr plan, Datum *args, const char *nulls, int expected)
{
	int			rc = SPI_execute_plan(plan, args, nulls, false, 0);

	if (rc != expected)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
}

void
ApplyCustomerDeltas(const char *program, Oid keytype, const CustomerDelta *deltas, int n)
{
	Oid			schema = get_namespace_oid(psprintf("ct_%s", program), true);
	Oid			customers = OidIsValid(schema) ? get_relname_relid("customers", schema) : InvalidOid;
	ProgramConfig *config;
	ApplyPlans *plans;
	MemoryContext loop;
	MemoryContext outer = CurrentMemoryContext;
	Datum	   *emptied = palloc(Max(n, 1) * sizeof(Datum));
	Datum	   *drifted = palloc(Max(n, 1) * sizeof(Datum));
	int			nemptied = 0;
	int			ndrifted = 0;
	Datum		program_text = CStringGetTextDatum(program);
	Datum		as_of = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());

	if (!OidIsValid(customers))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("program \"%s\" does not exist", program)));
	config = GetProgramConfig(program);
	plans = get_apply_plans(program, customers, keytype);
	loop = AllocSetContextCreate(CurrentMemoryContext, "customer_tier apply", ALLOCSET_DEFAULT_SIZES);

	for (int i = 0; i < n; i++)
	{
		const CustomerDelta *d = &deltas[i];
		SPITupleTable *stored;
		bool		found;
		NullableDatum purchases;
		NullableDatum refunds;
		NullableDatum current[NCUR];
		Datum		ctid = (Datum) 0;
		bool		drift = false;
		Datum		written[1 + NWRITTEN];
		char		written_nulls[1 + NWRITTEN];
		Datum		metrics[ORDER_STATS_RESULT_COLUMNS];
		bool		metric_nulls[ORDER_STATS_RESULT_COLUMNS];
		NullableDatum args[PA_NARGS];
		Datum		scored[PC_NCOLS];
		bool		scored_nulls[PC_NCOLS];

		MemoryContextReset(loop);
		MemoryContextSwitchTo(loop);
retry:
		execute(plans->find, (Datum *) &d->key, NULL, SPI_OK_SELECT);
		stored = SPI_tuptable;
		found = SPI_processed > 0;
		purchases.isnull = refunds.isnull = true;
		for (int c = 0; c < NCUR; c++)
			current[c].isnull = true;
		if (found)
		{
			HeapTuple	row = stored->vals[0];
			bool		isnull;

			ctid = SPI_getbinval(row, stored->tupdesc, 1, &isnull);
			purchases.value = SPI_getbinval(row, stored->tupdesc, 2, &purchases.isnull);
			refunds.value = SPI_getbinval(row, stored->tupdesc, 3, &refunds.isnull);
			for (int c = 0; c < NCUR; c++)
				current[c].value = SPI_getbinval(row, stored->tupdesc, 4 + c, &current[c].isnull);
		}
		purchases = subtract(merge(purchases, d->add_purchases), d->remove_purchases, &drift);
		refunds = subtract(merge(refunds, d->add_refunds), d->remove_refunds, &drift);
		if (drift)
			drifted[ndrifted++] = d->key;
		if (!found && purchases.isnull && refunds.isnull)
		{
			/* orders that came and went, or a customer known only to the orders table */
			SPI_freetuptable(stored);
			continue;
		}
		CustomerMetrics(purchases, refunds, metrics, metric_nulls);

		args[PA_CHURN_SETTINGS] = config->settings[SETTING_CHURN];
		args[PA_BGNBD] = config->settings[SETTING_BGNBD];
		args[PA_GAMMA_GAMMA] = config->settings[SETTING_GAMMA_GAMMA];
		args[PA_PURCHASES] = purchases;
		args[PA_MONETARY] = (NullableDatum) {.value = metrics[1], .isnull = metric_nulls[1]};
		args[PA_RECENT_SATISFACTION] = current[CUR_RECENT_SATISFACTION];
		args[PA_LIFECYCLE] = current[CUR_LIFECYCLE];
		args[PA_LIFECYCLE_SINCE] = current[CUR_LIFECYCLE_SINCE];
		args[PA_PREVIOUS_LIFECYCLE] = current[CUR_PREVIOUS_LIFECYCLE];
		args[PA_LAST_ORDER] = (NullableDatum) {.value = metrics[3], .isnull = metric_nulls[3]};
		args[PA_ORDERS] = (NullableDatum) {.value = metrics[0], .isnull = metric_nulls[0]};
		args[PA_FIRST_ORDER] = (NullableDatum) {.value = metrics[2], .isnull = metric_nulls[2]};
		args[PA_R_BREAKPOINTS] = config->settings[SETTING_R_BREAKPOINTS];
		args[PA_F_BREAKPOINTS] = config->settings[SETTING_F_BREAKPOINTS];
		args[PA_M_BREAKPOINTS] = config->settings[SETTING_M_BREAKPOINTS];
		args[PA_WEIGHTS] = config->settings[SETTING_WEIGHTS];
		args[PA_RULES] = config->settings[SETTING_RULES];
		args[PA_TIERS] = config->settings[SETTING_TIERS];
		args[PA_TIER] = current[CUR_TIER];
		args[PA_TIER_SINCE] = current[CUR_TIER_SINCE];
		args[PA_PENDING_SINCE] = current[CUR_PENDING_SINCE];
		args[PA_ABC_CLASS] = current[CUR_ABC_CLASS];
		args[PA_PINNED_RANK].isnull = true;
		if (config->has_pins && !config->settings[SETTING_TIERS].isnull)
		{
			Datum		pin_args[3] = {config->settings[SETTING_TIERS].value, program_text, d->key};

			execute(plans->pin, pin_args, NULL, SPI_OK_SELECT);
			if (SPI_processed > 0)
				args[PA_PINNED_RANK].value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
														   1, &args[PA_PINNED_RANK].isnull);
		}
		args[PA_GRACE] = config->settings[SETTING_GRACE];
		args[PA_AS_OF] = (NullableDatum) {.value = as_of, .isnull = false};
		args[PA_MODEL_RULES] = config->settings[SETTING_MODEL_RULES];
		args[PA_SOURCE] = (NullableDatum) {.value = CStringGetTextDatum(d->source), .isnull = false};
		ScoreProgramCustomerArgs(args, scored, scored_nulls);

		written[0] = found ? ctid : d->key;
		written_nulls[0] = ' ';
		written[1] = purchases.value;
		written_nulls[1] = purchases.isnull ? 'n' : ' ';
		written[2] = refunds.value;
		written_nulls[2] = refunds.isnull ? 'n' : ' ';
		for (int c = 0; c < ORDER_STATS_RESULT_COLUMNS; c++)
		{
			written[3 + c] = metrics[c];
			written_nulls[3 + c] = metric_nulls[c] ? 'n' : ' ';
		}
		for (int c = 0; c < PC_NCOLS; c++)
		{
			written[3 + ORDER_STATS_RESULT_COLUMNS + c] = scored[c];
			written_nulls[3 + ORDER_STATS_RESULT_COLUMNS + c] = scored_nulls[c] ? 'n' : ' ';
		}
		if (found)
		{
			execute(plans->update, written, written_nulls, SPI_OK_UPDATE);
			if (purchases.isnull && refunds.isnull && !drift)
				emptied[nemptied++] = d->key;
		}
		else
		{
			execute(plans->insert, written, written_nulls, SPI_OK_INSERT);
			if (SPI_processed == 0)
			{
				/* a concurrent transaction inserted the customer and committed: update it */
				SPI_freetuptable(stored);
				if (drift)
					ndrifted--;
				drift = false;
				goto retry;
			}
			if (!scored_nulls[PC_TIER])
			{
				Datum		first[5] = {d->key, scored[PC_TIER], scored[PC_TIER_REASON],
				args[PA_SOURCE].value, program_text};
				char		first_nulls[5] = {' ', ' ', scored_nulls[PC_TIER_REASON] ? 'n' : ' ', ' ', ' '};

				execute(plans->first_tier, first, first_nulls, SPI_OK_SELECT);
			}
		}
		SPI_freetuptable(stored);
	}
	MemoryContextSwitchTo(outer);
	MemoryContextDelete(loop);

	if (nemptied > 0)
	{
		Datum		keys = key_array(emptied, nemptied, keytype);

		execute(plans->emptied, &keys, NULL, SPI_OK_DELETE);
	}
	if (ndrifted > 0)
	{
		Datum		repair[3] = {program_text, key_array(drifted, ndrifted, keytype), BoolGetDatum(true)};

		execute(plans->repair, repair, NULL, SPI_OK_SELECT);
	}
}
