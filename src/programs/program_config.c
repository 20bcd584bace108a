/*
 * program_config.c — each program's scoring configuration, cached per backend.
 *
 * The trigger path scores every customer it touches against the program's
 * breakpoints, weights, grace, compiled tier rules, tier names, churn
 * settings and fitted models.  Reading them takes a query that joins five
 * tables and compiles the rules (program_config_cte_sql); run once per
 * transaction it cost more than the scoring of a single-row insert.  So the
 * values are read once into this backend's memory and kept until the
 * configuration changes.
 *
 * Invalidation: a statement trigger on each configuration table
 * (customer_tier.config_changed) sends a relcache invalidation for that
 * table, which every backend receives at the writer's commit (and the writer
 * itself at its next command, or undone if it aborts).  The callback below
 * drops every cached configuration when it hears of one of those tables, or
 * of all relations at once (a cache reset).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "citus_shards.h"
#include "compat.h"
#include "program_config.h"

PG_FUNCTION_INFO_V1(config_changed);

/* The tables whose rows make up a configuration. */
static const char *const config_tables[] = {
	"program", "tier", "churn_settings", "program_model", "pin", "cadence"
};
#define NCONFIG_TABLES lengthof(config_tables)

static HTAB *configs = NULL;
static Oid	config_relids[NCONFIG_TABLES];	/* resolved when a configuration is read */

static void
ConfigRelcacheCallback(Datum arg pg_attribute_unused(), Oid relid)
{
	HASH_SEQ_STATUS scan;
	ProgramConfig *config;
	bool		ours = !OidIsValid(relid);

	for (int i = 0; i < (int) NCONFIG_TABLES && !ours; i++)
		ours = relid == config_relids[i];
	if (!ours || configs == NULL)
		return;
	hash_seq_init(&scan, configs);
	while ((config = hash_seq_search(&scan)) != NULL)
		config->valid = false;
}

void
ProgramConfigInit(void)
{
	CacheRegisterRelcacheCallback(ConfigRelcacheCallback, (Datum) 0);
}

/*
 * The program's customers table, or InvalidOid when the program is gone; in
 * a Citus shard group (citus_shards.c), the table's shard of that group.
 */
Oid
ProgramCustomersTable(const char *program)
{
	Oid			schema = get_namespace_oid(psprintf("ct_%s", program), true);
	Oid			customers = OidIsValid(schema) ? get_relname_relid("customers", schema) : InvalidOid;

	if (OidIsValid(customers) && CitusCurrentShardGroup() != NO_SHARD)
		return CitusColocatedShard(customers, CitusCurrentShardGroup());
	return customers;
}

/* The trigger path met a program that is gone: its triggers outlived it. */
void
MissingProgram(const char *program)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("program \"%s\" does not exist", program),
			 errhint("Its triggers outlived it: DROP TRIGGER customer_tier_%s_insert (and _update, _delete, _truncate, _replica) on the orders table.",
					 program)));
}

static SPIPlanPtr
keep_plan(const char *sql, int nargs, Oid *argtypes, int cursor_options)
{
	SPIPlanPtr	plan = SPI_prepare_cursor(CitusShardSql(sql), nargs, argtypes, cursor_options);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

/*
 * A prepared plan kept for the backend's life.  Generic: the trigger path's
 * statements are planned once, and their shape does not depend on the
 * arguments (arrays of deltas, one key).  In a Citus shard group, the text
 * names the group's shards (CitusShardSql): its caller caches it for that
 * shard's table.
 */
SPIPlanPtr
KeepPlan(const char *sql, int nargs, Oid *argtypes)
{
	return keep_plan(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
}

/*
 * As KeepPlan, but planned for its arguments at each execution: for a
 * statement whose best plan depends on them.  A generic plan cannot know how
 * many keys an array holds, and, for a join of thousands of them to a table
 * not yet analyzed, may loop over the table once per key.
 */
SPIPlanPtr
KeepCustomPlan(const char *sql, int nargs, Oid *argtypes)
{
	return keep_plan(sql, nargs, argtypes, CURSOR_OPT_CUSTOM_PLAN);
}

/* Run query (inside SPI) with the program's name as $1; returns its first row. */
HeapTuple
ProgramCatalogRow(const char *query, const char *program, TupleDesc *desc)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(program)};

	if (SPI_execute_with_args(query, 1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	if (SPI_processed == 0)
		MissingProgram(program);
	*desc = SPI_tuptable->tupdesc;
	return SPI_tuptable->vals[0];
}

/*
 * The entry of program in *table (a hash by program name, created with
 * entries of entrysize on first use); *found says whether it was there.
 */
void *
ProgramEntry(HTAB **table, const char *what, Size entrysize, const char *program, bool *found)
{
	char		key[NAMEDATALEN];

	if (*table == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = entrysize;
		*table = hash_create(what, 16, &ctl, HASH_ELEM | HASH_STRINGS);
	}
	memset(key, 0, sizeof(key));
	strlcpy(key, program, NAMEDATALEN);
	return hash_search(*table, key, HASH_ENTER, found);
}

/* Find the configuration tables again: the extension may have been dropped and created since. */
static void
resolve_config_tables(void)
{
	Oid			schema = get_namespace_oid("customer_tier", false);

	for (int i = 0; i < (int) NCONFIG_TABLES; i++)
		config_relids[i] = get_relname_relid(config_tables[i], schema);
}

/* Read the configuration into config (its context reset first). */
static void
load_config(ProgramConfig *config)
{
	char	   *query;
	TupleDesc	desc;
	HeapTuple	row;
	MemoryContext old;

	resolve_config_tables();
	row = ProgramCatalogRow(
		"SELECT pg_catalog.format('WITH %s SELECT churn, bg, gg, r_breakpoints, f_breakpoints,"
		" m_breakpoints, score_weights, rules, tiers, downgrade_grace, model_rules, cadences, has_pins FROM cfg',"
		" customer_tier.program_config_cte_sql(p)), p.scoring_date"
		"  FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) $1",
		config->program, &desc);
	query = SPI_getvalue(row, desc, 1);
	/* a timestamptz: by value */
	config->scoring_date.value = SPI_getbinval(row, desc, 2, &config->scoring_date.isnull);
	if (SPI_execute(query, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "reading the configuration of program \"%s\" failed", config->program);
	desc = SPI_tuptable->tupdesc;
	row = SPI_tuptable->vals[0];

	MemoryContextReset(config->cxt);
	old = MemoryContextSwitchTo(config->cxt);
	for (int i = 0; i < PROGRAM_NSETTINGS; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		isnull;
		Datum		value = SPI_getbinval(row, desc, i + 1, &isnull);

		config->settings[i].isnull = isnull;
		config->settings[i].value = isnull ? (Datum) 0 : datumCopy(value, att->attbyval, att->attlen);
	}
	{
		bool		isnull;

		config->has_pins = DatumGetBool(SPI_getbinval(row, desc, PROGRAM_NSETTINGS + 1, &isnull));
	}
	MemoryContextSwitchTo(old);
	config->valid = true;
}

ProgramConfig *
GetProgramConfig(const char *program)
{
	bool		found;
	ProgramConfig *config = ProgramEntry(&configs, "customer_tier program configurations",
										 sizeof(ProgramConfig), program, &found);

	if (!found)
	{
		config->valid = false;
		config->cxt = AllocSetContextCreate(CacheMemoryContext, "customer_tier program configuration",
											ALLOCSET_SMALL_SIZES);
	}
	if (!config->valid)
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		load_config(config);
		SPI_finish();
	}
	return config;
}

/* The program's configuration when cached and current, else NULL (reading it takes SPI, as the owner). */
ProgramConfig *
CachedProgramConfig(const char *program)
{
	char		key[NAMEDATALEN];
	ProgramConfig *config;

	if (configs == NULL)
		return NULL;
	memset(key, 0, sizeof(key));
	strlcpy(key, program, NAMEDATALEN);
	config = hash_search(configs, key, HASH_FIND, NULL);
	return config != NULL && config->valid ? config : NULL;
}

/*
 * The rank of the tier a customer is pinned to, NULL when none (or the pin
 * expired); looked up only when the program has pins.
 */
NullableDatum
PinnedRank(const ProgramConfig *config, Datum key, Oid keytype, Datum as_of)
{
	static SPIPlanPtr plan = NULL;
	NullableDatum rank = {.value = (Datum) 0, .isnull = true};
	Oid			argtypes[4] = {TEXTARRAYOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		args[4];
	Oid			output;
	bool		varlena;

	if (!config->has_pins || config->settings[SETTING_TIERS].isnull)
		return rank;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan == NULL)
		plan = KeepPlan("SELECT pg_catalog.array_position($1, pin.tier) FROM customer_tier.pin AS pin"
						" WHERE pin.program OPERATOR(pg_catalog.=) $2 AND pin.customer OPERATOR(pg_catalog.=) $3"
						"   AND (pin.expires_at IS NULL OR pin.expires_at OPERATOR(pg_catalog.>) $4)",
						4, argtypes);
	/* the pin's key is the text form of the customer key */
	getTypeOutputInfo(keytype, &output, &varlena);
	args[0] = config->settings[SETTING_TIERS].value;
	args[1] = CStringGetTextDatum(config->program);
	args[2] = CStringGetTextDatum(OidOutputFunctionCall(output, key));
	args[3] = as_of;
	if (SPI_execute_plan(plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed");
	if (SPI_processed > 0)
		rank.value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &rank.isnull);
	SPI_finish();
	return rank;
}

Datum
ProgramAsOf(const ProgramConfig *config)
{
	if (!config->scoring_date.isnull)
		return config->scoring_date.value;
	return TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
}

/*
 * Trigger, FOR EACH STATEMENT on each configuration table: every backend
 * reads its cached configurations again once this transaction commits.
 */
Datum
config_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("customer_tier.config_changed() must be called as a trigger")));
	CacheInvalidateRelcache(trigdata->tg_relation);
	PG_RETURN_POINTER(NULL);
}
