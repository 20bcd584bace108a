/*
 * tier_changes.c — the one trigger function that records changes of tier,
 * customer_tier.record_tier_change(program).
 *
 * Every program's customers table has two statement triggers calling it,
 * tier_changed (AFTER UPDATE) and tier_first (AFTER INSERT): whoever changes
 * a tier with an UPDATE (a run, a pin, a rebuild) or inserts a customer with
 * a tier (create_program, a rebuild) has the change written to the program's
 * tier_history and announced on channel customer_tier (announce_tier_change)
 * by RecordTierChanges.  The commit step of the trigger path, which writes
 * its rows without the executor and so fires no trigger, calls it itself
 * with a pass's changes, and then with its new customers' first tiers, in
 * one statement each instead of one per change (live_apply.c).  The trigger
 * runs as customer_tier_owner, which owns the history, and refuses any table
 * but the program's customers table.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/tuplestore.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "live_apply.h"
#include "live_trigger.h"
#include "citus_shards.h"
#include "owner.h"
#include "program_config.h"
#include "scoring.h"
#include "tier_changes.h"

PG_FUNCTION_INFO_V1(record_tier_change);

/*
 * The first tiers that create_program gives the customers already in the
 * orders table are recorded but not announced one by one: create_program
 * sends one notification for all of them (a CRM worker reacting to "new
 * diamond" would otherwise fire for every existing diamond).
 */
#define QUIET_SOURCE "create_program"

/* The columns of the customers table a change is read from, in TierChange's order. */
static const char *const recorded_columns[] = {"customer", "tier", "tier", "tier_reason", "changed_by"};
#define NRECORDED lengthof(recorded_columns)

typedef struct HistoryPlan
{
	char		program[NAMEDATALEN];	/* hash key */
	Oid			customers;		/* the table it was planned for */
	bool		announces;		/* planned with the NOTIFY of each change */
	Oid			keytype;
	int			attnums[NRECORDED];
	SPIPlanPtr	plan;			/* (customers[], from[], to[], reasons[], sources[], program) */
} HistoryPlan;

static HTAB *history_plans = NULL;

static HistoryPlan *
get_history_plan(const char *program, Oid customers)
{
	bool		found;
	HistoryPlan *h = ProgramEntry(&history_plans, "customer_tier tier history plans", sizeof(HistoryPlan),
								  program, &found);
	Relation	rel;
	TupleDesc	desc;
	Oid			types[7];
	/*
	 * A shard's transaction, and any other that is being prepared (a write
	 * through a Citus worker reaching the coordinator's placement of a
	 * reference table), may be committed in two phases, which a NOTIFY
	 * forbids: no announcement there.
	 */
	bool		announces = CitusCurrentShardGroup() == NO_SHARD && !LiveTransactionPreparing();

	if (found && h->customers == customers && h->announces == announces)
		return h;
	if (found && h->plan != NULL)
		SPI_freeplan(h->plan);
	h->plan = NULL;
	rel = table_open(customers, AccessShareLock);
	desc = RelationGetDescr(rel);
	for (int i = 0; i < (int) NRECORDED; i++)
	{
		h->attnums[i] = SPI_fnumber(desc, recorded_columns[i]);
		if (h->attnums[i] <= 0)
			elog(ERROR, "customers table of program \"%s\" has no column \"%s\"", program, recorded_columns[i]);
	}
	h->keytype = SPI_gettypeid(desc, h->attnums[0]);
	types[0] = get_array_type(h->keytype);
	types[1] = types[2] = types[3] = types[4] = TEXTARRAYOID;
	types[5] = TEXTOID;
	types[6] = TIMESTAMPTZOID;
	/*
	 * A program with a scoring date changes tiers at that date ($7), others
	 * now.  On a Citus shard the id is not the shard's default (it has none):
	 * it comes from the identity sequence of the table on this node
	 * (CitusIdentityDefault), as a write through the table would take it.
	 */
	h->plan = KeepPlan(psprintf(
		"WITH change AS ("
		"    INSERT INTO %s.tier_history (%scustomer, from_tier, to_tier, reason, source, changed_at)"
		"    OVERRIDING SYSTEM VALUE"
		"    SELECT %su.*, coalesce($7, pg_catalog.now())"
		"      FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3),"
		"                      pg_catalog.unnest($4), pg_catalog.unnest($5)) AS u"
		"    RETURNING id, source"
		") SELECT %s FROM change AS c"
		"   WHERE c.source OPERATOR(pg_catalog.<>) '" QUIET_SOURCE "'",
		quote_identifier(get_namespace_name(RelationGetNamespace(rel))),
		CitusCurrentShardGroup() == NO_SHARD ? "" : "id, ",
		CitusCurrentShardGroup() == NO_SHARD ? "" :
		CitusIdentityDefault(get_relname_relid("tier_history", RelationGetNamespace(rel)), "id"),
		announces ? "customer_tier.announce_tier_change($6, c.id)" :
		"c.id, $6"), 7, types);
	table_close(rel, AccessShareLock);
	h->customers = customers;
	h->announces = announces;
	return h;
}

/* A text array of one field of the changes. */
static Datum
text_array(const TierChange *changes, int n, size_t field)
{
	Datum	   *values = palloc(n * sizeof(Datum));
	bool	   *nulls = palloc(n * sizeof(bool));
	int			dims[1] = {n};
	int			lbs[1] = {1};

	for (int i = 0; i < n; i++)
	{
		const NullableDatum *v = (const NullableDatum *) ((const char *) &changes[i] + field);

		values[i] = v->value;
		nulls[i] = v->isnull;
	}
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
}

void
RecordTierChanges(const char *program, Oid customers, const TierChange *changes, int n)
{
	HistoryPlan *h;
	Datum		args[7];
	Datum	   *keys;
	const ProgramConfig *config;

	if (n == 0)
		return;
	h = get_history_plan(program, customers);
	config = GetProgramConfig(program);
	keys = palloc(n * sizeof(Datum));
	for (int i = 0; i < n; i++)
		keys[i] = changes[i].customer;
	args[0] = MakeArray(keys, n, h->keytype);
	args[1] = text_array(changes, n, offsetof(TierChange, from_tier));
	args[2] = text_array(changes, n, offsetof(TierChange, to_tier));
	args[3] = text_array(changes, n, offsetof(TierChange, reason));
	args[4] = text_array(changes, n, offsetof(TierChange, source));
	args[5] = CStringGetTextDatum(program);
	args[6] = config->scoring_date.value;
	RunPlan(h->plan, args, config->scoring_date.isnull ? "      n" : NULL, SPI_OK_SELECT);
	/* a row per change, which SPI would keep until the commit step ends: 1.2 MB for 10,000 */
	SPI_freetuptable(SPI_tuptable);
}

/*
 * The changes of one statement go to RecordTierChanges in passes of this
 * many: a run or a rebuild that changes the tier of every customer keeps no
 * more than a pass's changes (and its arrays) in memory.
 */
#define TIER_CHANGES_PASS 5000

/* A statement's changes of tier, copied out of its transition tables. */
typedef struct PendingChanges
{
	const char *program;
	Oid			customers;
	MemoryContext context;		/* the copies of the current pass */
	bool		keybyval;
	int16		keylen;
	TierChange	changes[TIER_CHANGES_PASS];
	int			n;
} PendingChanges;

static void
flush_changes(PendingChanges *p)
{
	RecordTierChanges(p->program, p->customers, p->changes, p->n);
	p->n = 0;
	MemoryContextReset(p->context);
}

static NullableDatum
copied_text(PendingChanges *p, NullableDatum d)
{
	if (!d.isnull)
	{
		MemoryContext old = MemoryContextSwitchTo(p->context);

		d.value = PointerGetDatum(PG_DETOAST_DATUM_COPY(d.value));
		MemoryContextSwitchTo(old);
	}
	return d;
}

/* Keep a row's change of tier (old is NULL for an inserted row). */
static void
add_change(PendingChanges *p, const HistoryPlan *h, TupleTableSlot *old, TupleTableSlot *new)
{
	NullableDatum fields[NRECORDED];

	for (int i = 0; i < (int) NRECORDED; i++)
	{
		/* the tier before from the old row, everything else from the new one */
		TupleTableSlot *row = i == 1 ? old : new;

		if (row == NULL)
			fields[i] = (NullableDatum) {(Datum) 0, true};
		else
			fields[i].value = slot_getattr(row, h->attnums[i], &fields[i].isnull);
	}
	if (SameText(fields[1], fields[2]))
		return;
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(p->context);

		p->changes[p->n].customer = datumCopy(fields[0].value, p->keybyval, p->keylen);
		MemoryContextSwitchTo(oldcxt);
	}
	p->changes[p->n].from_tier = copied_text(p, fields[1]);
	p->changes[p->n].to_tier = copied_text(p, fields[2]);
	p->changes[p->n].reason = copied_text(p, fields[3]);
	p->changes[p->n].source = copied_text(p, fields[4]);
	if (++p->n == TIER_CHANGES_PASS)
		flush_changes(p);
}

/*
 * Whether the statement changed a tier (or inserted a customer with one): a
 * pass over the transition tables, before anything is prepared.  Most
 * statements change none (a contact, a feedback answer, most of a run).
 */
static bool
any_tier_changed(TriggerData *trigdata, TupleTableSlot *old_row, TupleTableSlot *new_row)
{
	int			tier = SPI_fnumber(RelationGetDescr(trigdata->tg_relation), "tier");
	bool		changed = false;

	if (tier <= 0)
		elog(ERROR, "table %s has no column \"tier\"", RelationGetRelationName(trigdata->tg_relation));
	if (old_row != NULL)
		tuplestore_rescan(trigdata->tg_oldtable);
	tuplestore_rescan(trigdata->tg_newtable);
	while (!changed && tuplestore_gettupleslot(trigdata->tg_newtable, true, false, new_row))
	{
		NullableDatum before = {(Datum) 0, true};
		NullableDatum after;

		if (old_row != NULL && tuplestore_gettupleslot(trigdata->tg_oldtable, true, false, old_row))
			before.value = slot_getattr(old_row, tier, &before.isnull);
		after.value = slot_getattr(new_row, tier, &after.isnull);
		changed = !SameText(before, after);
	}
	return changed;
}

/*
 * The statement trigger tier_changed (AFTER UPDATE) or tier_first (AFTER
 * INSERT): every row whose tier the statement changed, or an inserted row's
 * first tier, read from the transition tables, which the summaries' triggers
 * of the same table need anyway.  One RecordTierChanges per pass of changes,
 * not one statement per changed row: a rebuild of a whole program or a run
 * that moves many tiers spent a third of its time in a statement per row.
 */
Datum
record_tier_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerEvent event;
	Relation	rel;
	HistoryPlan *h;
	RoleSwitch	sw;
	const char *program;
	PendingChanges *pending;
	TupleTableSlot *old_row = NULL,
			   *new_row;
	Oid			table;
	int64		shard;
	int64		outer_group;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		!(TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_oldtable != NULL
		  : TRIGGER_FIRED_BY_INSERT(trigdata->tg_event)) ||
		trigdata->tg_newtable == NULL || trigdata->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("customer_tier.record_tier_change() must be an AFTER INSERT or AFTER UPDATE statement trigger with its transition tables and the program's name as its one argument")));
	event = trigdata->tg_event;
	rel = trigdata->tg_relation;
	program = trigdata->tg_trigger->tgargs[0];
	/* on a Citus shard of the customers: tier_history's shard of its group */
	if (!CitusShardOf(RelationGetRelid(rel), &table, &shard))
		shard = NO_SHARD;
	outer_group = CitusEnterShardGroup(shard);
	if (RelationGetRelid(rel) != ProgramCustomersTable(program))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("customer_tier.record_tier_change('%s') fires only on the customers table of program \"%s\"",
						program, program)));

	if (TRIGGER_FIRED_BY_UPDATE(event))
		old_row = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
	new_row = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
	if (!any_tier_changed(trigdata, old_row, new_row))
	{
		if (old_row != NULL)
			ExecDropSingleTupleTableSlot(old_row);
		ExecDropSingleTupleTableSlot(new_row);
		(void) CitusEnterShardGroup(outer_group);
		return PointerGetDatum(NULL);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	BeginAsRole(get_role_oid(OWNER_ROLE, false), &sw);
	h = get_history_plan(program, RelationGetRelid(rel));
	/* a pass of changes is large (360 kB): only for a statement that changed a tier */
	pending = palloc(sizeof(PendingChanges));
	pending->program = program;
	pending->customers = RelationGetRelid(rel);
	get_typlenbyval(h->keytype, &pending->keylen, &pending->keybyval);
	pending->context = AllocSetContextCreate(CurrentMemoryContext, "customer_tier tier changes",
											 ALLOCSET_DEFAULT_SIZES);
	pending->n = 0;
	if (old_row != NULL)
		tuplestore_rescan(trigdata->tg_oldtable);
	tuplestore_rescan(trigdata->tg_newtable);
	/* an UPDATE's transition tables hold each row's old and new versions in the same order */
	while (tuplestore_gettupleslot(trigdata->tg_newtable, true, false, new_row))
	{
		if (old_row != NULL && !tuplestore_gettupleslot(trigdata->tg_oldtable, true, false, old_row))
			elog(ERROR, "the transition tables of an UPDATE of %s differ in length", RelationGetRelationName(rel));
		add_change(pending, h, old_row, new_row);
	}
	if (pending->n > 0)
		flush_changes(pending);
	if (old_row != NULL)
		ExecDropSingleTupleTableSlot(old_row);
	ExecDropSingleTupleTableSlot(new_row);
	MemoryContextDelete(pending->context);
	EndAsRole(&sw);
	SPI_finish();
	(void) CitusEnterShardGroup(outer_group);
	return PointerGetDatum(NULL);
}
