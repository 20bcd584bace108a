/*
 * tier_changes.c — the one row trigger function that records a change of
 * tier, customer_tier.record_tier_change(program).
 *
 * Every program's customers table has the trigger tier_changed, AFTER UPDATE
 * OF tier FOR EACH ROW WHEN the tier is distinct: whoever changes a tier with
 * an UPDATE (a run, a pin) has the change written to the program's
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
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "compat.h"
#include "live_apply.h"
#include "live_trigger.h"
#include "citus_shards.h"
#include "owner.h"
#include "program_config.h"
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

Datum
record_tier_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *program;
	Relation	rel;
	HistoryPlan *h;
	RoleSwitch	sw;
	NullableDatum fields[NRECORDED];
	TierChange	change;
	Oid			table;
	int64		shard;
	int64		outer_group;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || !TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ||
		trigdata->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("customer_tier.record_tier_change() must be an AFTER UPDATE row trigger with the program's name as its one argument")));
	program = trigdata->tg_trigger->tgargs[0];
	rel = trigdata->tg_relation;
	/* on a Citus shard of the customers: tier_history's shard of its group */
	if (!CitusShardOf(RelationGetRelid(rel), &table, &shard))
		shard = NO_SHARD;
	outer_group = CitusEnterShardGroup(shard);
	if (RelationGetRelid(rel) != ProgramCustomersTable(program))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("customer_tier.record_tier_change('%s') fires only on the customers table of program \"%s\"",
						program, program)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	BeginAsRole(get_role_oid(OWNER_ROLE, false), &sw);
	h = get_history_plan(program, RelationGetRelid(rel));
	for (int i = 0; i < (int) NRECORDED; i++)
	{
		/* the tier before from the old row, everything else from the new one */
		HeapTuple	row = i == 1 ? trigdata->tg_trigtuple : trigdata->tg_newtuple;

		fields[i].value = heap_getattr(row, h->attnums[i], RelationGetDescr(rel), &fields[i].isnull);
	}
	change = (TierChange) {fields[0].value, fields[1], fields[2], fields[3], fields[4]};
	RecordTierChanges(program, RelationGetRelid(rel), &change, 1);
	EndAsRole(&sw);
	SPI_finish();
	(void) CitusEnterShardGroup(outer_group);
	return PointerGetDatum(NULL);
}
