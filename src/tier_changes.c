/*
 * tier_changes.c — the one row trigger function that records a change of
 * tier, customer_tier.record_tier_change(program).
 *
 * Every program's customers table has the trigger tier_changed, AFTER UPDATE
 * OF tier FOR EACH ROW WHEN the tier is distinct: whoever changes a tier (the
 * commit step of a writer's orders, a run, a pin) has the change written to
 * the program's tier_history and announced on channel customer_tier
 * (announce_tier_change).  A new customer's first tier is recorded by the
 * statement that inserts it (live_apply.c).  The trigger runs as
 * customer_tier_owner, which owns the history, and refuses any table but the
 * program's customers table.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "compat.h"
#include "live_apply.h"
#include "owner.h"
#include "program_config.h"

PG_FUNCTION_INFO_V1(record_tier_change);

/* The columns of the customers table the history takes, in the statement's order. */
static const char *const recorded_columns[] = {"customer", "tier", "tier", "tier_reason", "changed_by"};
#define NRECORDED lengthof(recorded_columns)

typedef struct HistoryPlan
{
	char		program[NAMEDATALEN];	/* hash key */
	Oid			customers;		/* the table it was planned for */
	int			attnums[NRECORDED];
	SPIPlanPtr	plan;			/* (customer, from, to, reason, source, program) */
} HistoryPlan;

static HTAB *history_plans = NULL;

static HistoryPlan *
get_history_plan(const char *program, Relation customers)
{
	bool		found;
	HistoryPlan *h = ProgramEntry(&history_plans, "customer_tier tier history plans", sizeof(HistoryPlan),
								  program, &found);
	TupleDesc	desc = RelationGetDescr(customers);
	Oid			types[NRECORDED + 1];

	if (found && h->customers == RelationGetRelid(customers))
		return h;
	if (found && h->plan != NULL)
		SPI_freeplan(h->plan);
	h->plan = NULL;
	for (int i = 0; i < (int) NRECORDED; i++)
	{
		h->attnums[i] = SPI_fnumber(desc, recorded_columns[i]);
		if (h->attnums[i] <= 0)
			elog(ERROR, "customers table of program \"%s\" has no column \"%s\"", program, recorded_columns[i]);
		types[i] = SPI_gettypeid(desc, h->attnums[i]);
	}
	types[NRECORDED] = TEXTOID;
	h->plan = KeepPlan(psprintf(
		"WITH change AS ("
		"    INSERT INTO %s.tier_history (customer, from_tier, to_tier, reason, source)"
		"    VALUES ($1, $2, $3, $4, $5) RETURNING id"
		") SELECT customer_tier.announce_tier_change($6, c.id) FROM change AS c",
		quote_identifier(get_namespace_name(RelationGetNamespace(customers)))), NRECORDED + 1, types);
	h->customers = RelationGetRelid(customers);
	return h;
}

Datum
record_tier_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *program;
	Relation	rel;
	HistoryPlan *h;
	RoleSwitch	sw;
	Datum		args[NRECORDED + 1];
	char		nulls[NRECORDED + 1];

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || !TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ||
		trigdata->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("customer_tier.record_tier_change() must be an AFTER UPDATE row trigger with the program's name as its one argument")));
	program = trigdata->tg_trigger->tgargs[0];
	rel = trigdata->tg_relation;
	if (RelationGetRelid(rel) != ProgramCustomersTable(program))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("customer_tier.record_tier_change('%s') fires only on the customers table of program \"%s\"",
						program, program)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	BeginAsRole(get_role_oid(OWNER_ROLE, false), &sw);
	h = get_history_plan(program, rel);
	for (int i = 0; i < (int) NRECORDED; i++)
	{
		/* the tier before from the old row, everything else from the new one */
		HeapTuple	row = i == 1 ? trigdata->tg_trigtuple : trigdata->tg_newtuple;
		bool		isnull;

		args[i] = heap_getattr(row, h->attnums[i], RelationGetDescr(rel), &isnull);
		nulls[i] = isnull ? 'n' : ' ';
	}
	args[NRECORDED] = CStringGetTextDatum(program);
	nulls[NRECORDED] = ' ';
	RunPlan(h->plan, args, nulls, SPI_OK_SELECT);
	EndAsRole(&sw);
	SPI_finish();
	return PointerGetDatum(NULL);
}
