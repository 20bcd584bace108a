/*
 * live_feedback.c — the trigger path of a program's feedback table
 * (docs/feedback.md, "How answers stay current").
 *
 * One C trigger function, customer_tier.maintain_feedback(program), serves
 * every program's feedback table, as maintain_orders serves the orders:
 *
 * 1. When a statement ends, its unusable rows go to the program's
 *    feedback_rejects (or fail the write), and one cached statement
 *    (feedback_collect_sql) moves its usable rows into the program's answers
 *    and returns the customers it touched.  They are kept with the
 *    transaction's pending deltas (live_trigger.c); nothing of the customers
 *    is locked.
 *
 * 2. At commit, before the orders' deltas are applied, their satisfaction
 *    rows are locked in key order and recomputed from the answers
 *    (SettleSatisfaction); then the apply step scores them with the customers
 *    of the orders written, in the same key-order pass, reading their recent
 *    satisfaction from the settled rows.  So a transaction that writes
 *    feedback and orders locks each customer once, in the same order as any
 *    other, and the program adds no deadlock to the CRM's writes.
 *
 * A TRUNCATE of the feedback table empties the answers and satisfaction at
 * once, as the orders trigger empties the customers.  Everything runs as
 * customer_tier_owner in a security-restricted operation (owner.h).
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "live_apply.h"
#include "live_trigger.h"
#include "owner.h"
#include "program_config.h"

PG_FUNCTION_INFO_V1(maintain_feedback);

typedef enum FeedbackStep
{
	FEEDBACK_INSERT,
	FEEDBACK_UPDATE,
	FEEDBACK_DELETE,
	FEEDBACK_NSTEPS
} FeedbackStep;

static const char *const feedback_operation[FEEDBACK_NSTEPS] = {"INSERT", "UPDATE", "DELETE"};

/* A program's cached statements, valid for one attachment of one feedback table. */
typedef struct FeedbackPlans
{
	char		program[NAMEDATALEN];	/* hash key */
	Oid			feedback_table;
	TimestampTz attached_at;
	Oid			customers;		/* the program's customers table when planned */
	SPIPlanPtr	collect[FEEDBACK_NSTEPS];
	SPIPlanPtr	rejects[FEEDBACK_NSTEPS];	/* rows added that cannot be used */
	SPIPlanPtr	settle[3];		/* (keys): lock, recompute, delete emptied */
} FeedbackPlans;

static HTAB *feedback_plans = NULL;

static void
forget_plans(FeedbackPlans *p)
{
	for (int i = 0; i < FEEDBACK_NSTEPS; i++)
	{
		if (p->collect[i] != NULL)
			SPI_freeplan(p->collect[i]);
		if (p->rejects[i] != NULL)
			SPI_freeplan(p->rejects[i]);
		p->collect[i] = p->rejects[i] = NULL;
	}
	for (int i = 0; i < 3; i++)
	{
		if (p->settle[i] != NULL)
			SPI_freeplan(p->settle[i]);
		p->settle[i] = NULL;
	}
}

/*
 * The program's statements for its attached feedback table, forgotten when it
 * was attached again, or the program created again, since they were planned;
 * NULL when no feedback table is attached.  Inside SPI, as
 * customer_tier_owner.
 */
static FeedbackPlans *
get_feedback_plans(const char *program)
{
	bool		found;
	FeedbackPlans *p = ProgramEntry(&feedback_plans, "customer_tier feedback plans",
									sizeof(FeedbackPlans), program, &found);
	Oid			customers = ProgramCustomersTable(program);
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(program)};
	bool		isnull;
	Oid			table;
	TimestampTz attached_at;

	if (!found)
	{
		memset(p->collect, 0, sizeof(p->collect));
		memset(p->rejects, 0, sizeof(p->rejects));
		memset(p->settle, 0, sizeof(p->settle));
		p->customers = InvalidOid;
	}
	if (!OidIsValid(customers))
		MissingProgram(program);
	if (SPI_execute_with_args("SELECT f.feedback_table::pg_catalog.oid, f.attached_at"
							  "  FROM customer_tier.feedback_source AS f WHERE f.program OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	if (SPI_processed == 0)
		return NULL;
	table = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	attached_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (p->customers != customers || p->feedback_table != table || p->attached_at != attached_at)
	{
		forget_plans(p);
		p->feedback_table = table;
		p->attached_at = attached_at;
		p->customers = customers;
	}
	return p;
}

/* Plan the statements of one step; its transition tables are registered. */
static void
plan_step(FeedbackPlans *p, const char *program, FeedbackStep step)
{
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		args[4];

	args[0] = CStringGetTextDatum(program);
	args[1] = CStringGetTextDatum(step == FEEDBACK_DELETE ? "" : "new_rows");
	args[2] = CStringGetTextDatum(step == FEEDBACK_INSERT ? "" : "old_rows");
	args[3] = CStringGetTextDatum(feedback_operation[step]);
	if (SPI_execute_with_args(
			"SELECT customer_tier.feedback_collect_sql(p, f, NULLIF($2, ''), NULLIF($3, '')),"
			"       CASE WHEN $2 OPERATOR(pg_catalog.<>) '' THEN"
			"            customer_tier.feedback_rejects_sql(p, f, $2, pg_catalog.quote_literal($4))"
			"            OPERATOR(pg_catalog.||) ' RETURNING reason, '"
			"            OPERATOR(pg_catalog.||) customer_tier.feedback_reject_sqlstate_sql('reason') END"
			"  FROM customer_tier.program AS p"
			"  JOIN customer_tier.feedback_source AS f ON f.program OPERATOR(pg_catalog.=) p.name"
			" WHERE p.name OPERATOR(pg_catalog.=) $1",
			4, argtypes, args, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "planning the feedback statements of program \"%s\" failed", program);
	p->collect[step] = KeepPlan(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), 0, NULL);
	if (step != FEEDBACK_DELETE)
		p->rejects[step] = KeepPlan(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2), 0, NULL);
}

/* Plan the statements that settle customers at commit. */
static void
plan_settle(FeedbackPlans *p, const char *program, Oid keytype)
{
	TupleDesc	desc;
	HeapTuple	row = ProgramCatalogRow("SELECT s.lock_rows, s.rollup, s.emptied"
									  "  FROM customer_tier.program AS p, customer_tier.feedback_settle_sql(p) AS s"
									  " WHERE p.name OPERATOR(pg_catalog.=) $1", program, &desc);
	Oid			keyarray = get_array_type(keytype);
	bool		isnull;

	for (int i = 0; i < 3; i++)
		p->settle[i] = KeepPlan(TextDatumGetCString(heap_getattr(row, i + 1, desc, &isnull)), 1, &keyarray);
}

/* A TRUNCATE of the feedback table: no answer is left. */
static void
truncate_feedback(const char *program)
{
	TupleDesc	desc;
	HeapTuple	row = ProgramCatalogRow("SELECT pg_catalog.format('TRUNCATE %1$I.answers, %1$I.satisfaction', p.data_schema)"
									  "  FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) $1",
									  program, &desc);
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(program)};

	if (SPI_execute(SPI_getvalue(row, desc, 1), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "SPI_execute failed");
	if (SPI_execute_with_args("SELECT customer_tier.feed_recent_satisfaction($1, 'true', 'trigger TRUNCATE feedback')",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
}

/*
 * Drift: the statement removed feedback rows that the copied answers do not
 * hold (they were edited by hand, or the table written while its triggers
 * were disabled).  The CRM's write is never refused for it: the answers of
 * every customer the statement touched are copied again from the feedback
 * table, as rebuild_program recomputes customers from the orders, and the
 * repair is logged in drift_repair.  When customer_tier_owner may not read the
 * feedback table they are left as they were, logged unrepaired, and a WARNING
 * says what to grant.  As customer_tier_owner, inside SPI.
 */
static void
repair_answers(FeedbackPlans *plans, const char *program, Oid keytype, Datum customers, int ncustomers)
{
	const char *fix;
	const char *unreadable = OwnerCannotRead(plans->feedback_table, &fix);
	bool		readable = unreadable == NULL;
	Oid			logtypes[4] = {TEXTOID, INT8OID, BOOLOID, TEXTOID};
	Datum		log[4] = {CStringGetTextDatum(program), Int64GetDatum(ncustomers), BoolGetDatum(readable),
	CStringGetTextDatum("feedback")};

	if (readable)
	{
		TupleDesc	desc;
		HeapTuple	row = ProgramCatalogRow("SELECT s.clear_answers, s.copy_answers"
										  "  FROM customer_tier.program AS p"
										  "  JOIN customer_tier.feedback_source AS f ON f.program OPERATOR(pg_catalog.=) p.name,"
										  "       customer_tier.feedback_repair_sql(p, f) AS s"
										  " WHERE p.name OPERATOR(pg_catalog.=) $1", program, &desc);
		Oid			keyarray = get_array_type(keytype);
		bool		isnull;

		for (int i = 1; i <= 2; i++)
			if (SPI_execute_with_args(TextDatumGetCString(heap_getattr(row, i, desc, &isnull)),
									  1, &keyarray, &customers, NULL, false, 0) < 0)
				elog(ERROR, "repairing the answers of program \"%s\" failed", program);
	}
	if (SPI_execute_with_args("INSERT INTO customer_tier.drift_repair (program, customers, repaired, source)"
							  " VALUES ($1, $2, $3, $4)", 4, logtypes, log, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_with_args failed");
	if (!readable)
		ereport(WARNING,
				(errmsg("program \"%s\": the answers of %d customer(s) drifted and cannot be repaired",
						program, ncustomers),
				 errdetail("%s", unreadable),
				 errhint("%s, then detach the feedback table and attach it again.", fix)));
}

Datum
maintain_feedback(PG_FUNCTION_ARGS)
{
	const char *program = TriggerProgram(fcinfo, "customer_tier.maintain_feedback()", true);
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerEvent event = trigdata->tg_event;
	RoleSwitch	sw;
	FeedbackPlans *plans;
	FeedbackStep step;
	Oid			keytype = InvalidOid;
	Datum	   *keys = NULL;
	int			nkeys = 0;

	step = TRIGGER_FIRED_BY_INSERT(event) ? FEEDBACK_INSERT :
		TRIGGER_FIRED_BY_UPDATE(event) ? FEEDBACK_UPDATE : FEEDBACK_DELETE;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!TRIGGER_FIRED_BY_TRUNCATE(event) && SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "SPI_register_trigger_data failed");
	BeginAsRole(get_role_oid(OWNER_ROLE, false), &sw);
	plans = get_feedback_plans(program);
	if (plans == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("program \"%s\" has no feedback table attached", program),
				 errhint("Its triggers outlived the attachment: DROP TRIGGER ct_%s_feedback_insert (and _update, _delete, _truncate) on %s.",
						 program, RelationGetRelationName(trigdata->tg_relation))));
	/* an admin may name this function in a trigger of their own: it serves its program's table only */
	if (RelationGetRelid(trigdata->tg_relation) != plans->feedback_table)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("trigger function customer_tier.maintain_feedback() serves program \"%s\", not table %s",
						program, RelationGetRelationName(trigdata->tg_relation))));

	if (TRIGGER_FIRED_BY_TRUNCATE(event))
		truncate_feedback(program);
	else
	{
		HeapTuple	row;
		TupleDesc	desc;
		bool		isnull;
		Datum		touched;
		int64		removed_answers;
		int64		removed_rows;

		if (plans->collect[step] == NULL)
			plan_step(plans, program, step);
		if (plans->rejects[step] != NULL)
		{
			RunPlan(plans->rejects[step], NULL, NULL, SPI_OK_INSERT_RETURNING);
			if (SPI_processed > 0)
				CheckRejectMode(program, (int64) SPI_processed,
								SPI_getvalue(SPI_tuptable->vals[SPI_processed - 1], SPI_tuptable->tupdesc, 1),
								SPI_getvalue(SPI_tuptable->vals[SPI_processed - 1], SPI_tuptable->tupdesc, 2),
								"feedback", "feedback_rejects");
		}
		RunPlan(plans->collect[step], NULL, NULL, SPI_OK_SELECT);
		row = SPI_tuptable->vals[0];
		desc = SPI_tuptable->tupdesc;
		touched = SPI_getbinval(row, desc, 1, &isnull);
		removed_answers = DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull));
		removed_rows = DatumGetInt64(SPI_getbinval(row, desc, 3, &isnull));
		if (isnull)
			removed_rows = 0;
		{
			ArrayType  *array = DatumGetArrayTypeP(touched);
			int16		len;
			bool		byval;
			char		align;

			keytype = ARR_ELEMTYPE(array);	/* the program's key type */
			get_typlenbyvalalign(keytype, &len, &byval, &align);
			deconstruct_array(array, keytype, len, byval, align, &keys, NULL, &nkeys);
		}
		if (removed_answers != removed_rows)
			repair_answers(plans, program, keytype, touched, nkeys);
	}
	EndAsRole(&sw);
	/* the keys are copied into the transaction's pending deltas */
	PendCustomers(program, keytype, keys, nkeys, event, PENDING_SATISFACTION);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * At commit: lock the satisfaction rows of the customers whose answers
 * changed, in key order, and recompute them from the answers.  Each statement
 * takes a new snapshot (read committed at commit, live_trigger.c), after the
 * locks: answers a concurrent transaction committed while this one waited are
 * counted.  Inside SPI, as customer_tier_owner.
 */
void
SettleSatisfaction(const char *program, Oid keytype, const CustomerDelta *deltas, int n)
{
	Datum	   *keys = palloc(n * sizeof(Datum));
	int			m = 0;
	FeedbackPlans *plans;
	Datum		arg;

	for (int i = 0; i < n; i++)
		if (deltas[i].satisfaction)
			keys[m++] = deltas[i].key;
	if (m == 0)
		return;
	plans = get_feedback_plans(program);
	if (plans == NULL)
		return;					/* detached since: its answers and satisfaction went with it */
	if (plans->settle[0] == NULL)
		plan_settle(plans, program, keytype);
	arg = MakeArray(keys, m, keytype);
	RunPlan(plans->settle[0], &arg, NULL, SPI_OK_INSERT);
	RunPlan(plans->settle[1], &arg, NULL, SPI_OK_INSERT);
	RunPlan(plans->settle[2], &arg, NULL, SPI_OK_DELETE);
}
