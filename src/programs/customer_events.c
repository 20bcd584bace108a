/*
 * customer_events.c — a program's change feed (docs/feed.md).
 *
 * Every change of a customer's tier, lifecycle stage or churn flags becomes
 * an event in the program's table events, with a stable id and a JSON
 * detail, and one row in event_deliveries per registered consumer.  A
 * consumer takes its deliveries with customer_tier.consume_events, in the
 * transaction that does the work; its commit acknowledges them, so an event
 * is handled once whatever happens to the worker.  A NOTIFY on channel
 * customer_tier_events wakes the consumers: it names the program and the
 * newest event id, never a customer.
 *
 * The events come from the same two places as the summaries' deltas: the
 * commit step of the trigger path, for the rows it updates below the
 * executor, and the statement triggers on the customers table for every
 * other write (customers_changed.c).  The backfill of create_program and
 * the rescoring of an upgrade make none: they are not changes of the
 * customers.
 *
 * A program without a registered consumer keeps no events: nobody would
 * take them, and a bulk load of new customers would otherwise write one per
 * customer.  Whether a program has consumers is cached per backend and
 * invalidated by a statement trigger on event_consumers (config_changed), as
 * the configuration is (program_config.c).
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/tupdesc.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "customer_events.h"
#include "live_apply.h"
#include "live_rows.h"
#include "live_trigger.h"
#include "owner.h"

enum
{
	E_CUSTOMER,
	E_TIER,
	E_LIFECYCLE,
	E_CHURN_FLAGS,
	E_CHANGED_BY,
	E_NCOLUMNS
};

static const char *const event_columns[E_NCOLUMNS] = {
	"customer", "tier", "lifecycle", "churn_flags", "changed_by"
};

struct CustomerEvents
{
	char	   *table;			/* schema-qualified name of the program's schema */
	char	   *program;
	Oid			keytype;
	int16		keylen;
	bool		keybyval;
	AttrNumber	attnums[E_NCOLUMNS];	/* 0-based */
	bool		kept;			/* the program has consumers: events are kept */
	MemoryContext cxt;
	Datum	   *keys;
	Datum	   *kinds;
	Datum	   *details;
	Datum	   *sources;
	int			n;
	int			capacity;
};

/* Whether each program (by its customers table) has consumers. */
typedef struct ConsumersEntry
{
	Oid			customers;		/* hash key */
	Oid			consumers;		/* its event_consumers table */
	bool		valid;
	bool		any;
} ConsumersEntry;

static HTAB *consumers_cache = NULL;

static void
ConsumersRelcacheCallback(Datum arg pg_attribute_unused(), Oid relid)
{
	HASH_SEQ_STATUS scan;
	ConsumersEntry *entry;

	if (consumers_cache == NULL)
		return;
	hash_seq_init(&scan, consumers_cache);
	while ((entry = hash_seq_search(&scan)) != NULL)
		if (!OidIsValid(relid) || relid == entry->consumers || relid == entry->customers)
			entry->valid = false;
}

void
CustomerEventsInit(void)
{
	CacheRegisterRelcacheCallback(ConsumersRelcacheCallback, (Datum) 0);
}

/*
 * Read with the latest snapshot, not the transaction's: a registration
 * committed before this read is seen, one committed after it sends its
 * invalidation after it (a stale snapshot would cache "none" for good).
 */
static bool
program_has_consumers(Relation customers)
{
	Oid			key = RelationGetRelid(customers);
	ConsumersEntry *entry;
	bool		found;

	if (consumers_cache == NULL)
	{
		HASHCTL		ctl = {.keysize = sizeof(Oid),.entrysize = sizeof(ConsumersEntry)};

		consumers_cache = hash_create("customer_tier feed consumers", 16, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	entry = hash_search(consumers_cache, &key, HASH_ENTER, &found);
	if (!found)
		entry->valid = false;
	if (!entry->valid)
	{
		Oid			consumers = get_relname_relid("event_consumers", RelationGetNamespace(customers));
		bool		any = false;

		if (OidIsValid(consumers))
		{
			Relation	rel = table_open(consumers, AccessShareLock);
			Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
			TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);

			any = heap_getnext(scan, ForwardScanDirection) != NULL;
			table_endscan(scan);
			UnregisterSnapshot(snapshot);
			table_close(rel, AccessShareLock);
		}
		entry->consumers = consumers;
		entry->any = any;
		/*
		 * Valid only once read (an error above leaves it to be read again);
		 * an invalidation processed while the table was opened is older than
		 * the snapshot, and none is processed during the scan.
		 */
		entry->valid = true;
	}
	return entry->any;
}

CustomerEvents *
NewCustomerEvents(Relation customers)
{
	CustomerEvents *e = palloc0(sizeof(CustomerEvents));
	TupleDesc	desc = RelationGetDescr(customers);
	const char *schema = get_namespace_name(RelationGetNamespace(customers));

	CustomerColumns(desc, event_columns, E_NCOLUMNS, e->attnums);
	e->keytype = TupleDescAttr(desc, e->attnums[E_CUSTOMER])->atttypid;
	get_typlenbyval(e->keytype, &e->keylen, &e->keybyval);
	e->table = pstrdup(quote_identifier(schema));
	/* the schema is ct_<program> */
	e->program = pstrdup(strncmp(schema, "ct_", 3) == 0 ? schema + 3 : schema);
	e->cxt = CurrentMemoryContext;
	e->kept = program_has_consumers(customers);
	return e;
}

static void
append_text_or_null(StringInfo buf, bool isnull, Datum value)
{
	if (isnull)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, TextDatumGetCString(value));
}

/* The elements of a text[] that are not in another (NULL arrays are empty). */
static void
append_difference(StringInfo buf, bool a_null, Datum a, bool b_null, Datum b)
{
	Datum	   *av = NULL,
			   *bv = NULL;
	bool	   *an = NULL,
			   *bn = NULL;
	int			na = 0,
				nb = 0,
				written = 0;

	if (!a_null)
		deconstruct_array(DatumGetArrayTypeP(a), TEXTOID, -1, false, TYPALIGN_INT, &av, &an, &na);
	if (!b_null)
		deconstruct_array(DatumGetArrayTypeP(b), TEXTOID, -1, false, TYPALIGN_INT, &bv, &bn, &nb);
	appendStringInfoChar(buf, '[');
	for (int i = 0; i < na; i++)
	{
		bool		found = false;

		if (an[i])
			continue;
		for (int j = 0; j < nb && !found; j++)
			found = !bn[j] && DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID, av[i], bv[j]));
		if (found)
			continue;
		if (written++ > 0)
			appendStringInfoChar(buf, ',');
		escape_json(buf, TextDatumGetCString(av[i]));
	}
	appendStringInfoChar(buf, ']');
}

static void
add_event(CustomerEvents *e, const Datum *row, const bool *nulls, const char *kind, const char *detail)
{
	MemoryContext old = MemoryContextSwitchTo(e->cxt);

	if (e->n == e->capacity)
	{
		e->capacity = Max(16, e->capacity * 2);
		e->keys = e->keys == NULL ? palloc(e->capacity * sizeof(Datum)) : repalloc(e->keys, e->capacity * sizeof(Datum));
		e->kinds = e->kinds == NULL ? palloc(e->capacity * sizeof(Datum)) : repalloc(e->kinds, e->capacity * sizeof(Datum));
		e->details = e->details == NULL ? palloc(e->capacity * sizeof(Datum)) : repalloc(e->details, e->capacity * sizeof(Datum));
		e->sources = e->sources == NULL ? palloc(e->capacity * sizeof(Datum)) : repalloc(e->sources, e->capacity * sizeof(Datum));
	}
	e->keys[e->n] = datumCopy(row[e->attnums[E_CUSTOMER]], e->keybyval, e->keylen);
	e->kinds[e->n] = CStringGetTextDatum(kind);
	e->details[e->n] = CStringGetTextDatum(detail);
	e->sources[e->n] = nulls[e->attnums[E_CHANGED_BY]] ? CStringGetTextDatum("") :
		PointerGetDatum(DatumGetTextPCopy(row[e->attnums[E_CHANGED_BY]]));
	e->n++;
	MemoryContextSwitchTo(old);
}

/* A tier or lifecycle event: {"from": ..., "to": ...}. */
static void
add_move(CustomerEvents *e, const char *kind, int column, const Datum *old, const bool *old_nulls,
		 const Datum *new, const bool *new_nulls)
{
	StringInfoData detail;

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"from\": ");
	append_text_or_null(&detail, old == NULL || old_nulls[column], old == NULL ? (Datum) 0 : old[column]);
	appendStringInfoString(&detail, ", \"to\": ");
	append_text_or_null(&detail, new_nulls[column], new[column]);
	appendStringInfoChar(&detail, '}');
	add_event(e, new, new_nulls, kind, detail.data);
	pfree(detail.data);
}

void
AddCustomerEvents(CustomerEvents *e, const Datum *old, const bool *old_nulls, const Datum *new, const bool *new_nulls)
{
	const AttrNumber *at = e->attnums;
	int			tier = at[E_TIER],
				stage = at[E_LIFECYCLE],
				flags = at[E_CHURN_FLAGS];

	/* the backfill and an upgrade's rescoring are not changes of the customers */
	if (!e->kept || (!new_nulls[at[E_CHANGED_BY]] && (TextIs(new[at[E_CHANGED_BY]], "create_program") ||
														  TextIs(new[at[E_CHANGED_BY]], "upgrade"))))
		return;
	if (old == NULL)
	{
		/* a new customer: only its first tier is news */
		if (!new_nulls[tier])
			add_move(e, "tier", tier, NULL, NULL, new, new_nulls);
		return;
	}
	if (!SameBytes(old_nulls[tier], old[tier], new_nulls[tier], new[tier]))
		add_move(e, "tier", tier, old, old_nulls, new, new_nulls);
	if (!SameBytes(old_nulls[stage], old[stage], new_nulls[stage], new[stage]))
		add_move(e, "lifecycle", stage, old, old_nulls, new, new_nulls);
	if (!SameBytes(old_nulls[flags], old[flags], new_nulls[flags], new[flags]))
	{
		StringInfoData raised,
					cleared,
					detail;

		/* the same flags in another order are no event */
		initStringInfo(&raised);
		initStringInfo(&cleared);
		append_difference(&raised, new_nulls[flags], new[flags], old_nulls[flags], old[flags]);
		append_difference(&cleared, old_nulls[flags], old[flags], new_nulls[flags], new[flags]);
		if (strcmp(raised.data, "[]") != 0 || strcmp(cleared.data, "[]") != 0)
		{
			initStringInfo(&detail);
			appendStringInfo(&detail, "{\"raised\": %s, \"cleared\": %s}", raised.data, cleared.data);
			add_event(e, new, new_nulls, "churn_flags", detail.data);
			pfree(detail.data);
		}
		pfree(raised.data);
		pfree(cleared.data);
	}
}

void
FlushCustomerEvents(CustomerEvents *e)
{
	Oid			argtypes[4];
	Datum		args[4];
	RoleSwitch	sw;
	bool		isnull;
	Datum		newest;
	StringInfoData payload;

	if (e->n == 0)
		return;
	argtypes[0] = get_array_type(e->keytype);
	argtypes[1] = argtypes[3] = TEXTARRAYOID;
	argtypes[2] = TEXTARRAYOID;
	args[0] = MakeArray(e->keys, e->n, e->keytype);
	args[1] = MakeArray(e->kinds, e->n, TEXTOID);
	args[2] = MakeArray(e->details, e->n, TEXTOID);
	args[3] = MakeArray(e->sources, e->n, TEXTOID);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* the writer may neither write the feed nor read its consumers */
	BeginAsRole(get_role_oid(OWNER_ROLE, false), &sw);
	if (SPI_execute_with_args(psprintf(
			"WITH e AS ("
			"    INSERT INTO %1$s.events (customer, kind, detail, source)"
			"    SELECT u.customer, u.kind, u.detail::pg_catalog.jsonb, NULLIF(u.source, '')"
			"      FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3),"
			"                      pg_catalog.unnest($4)) WITH ORDINALITY AS u (customer, kind, detail, source, i)"
			"     ORDER BY u.i"
			"    RETURNING id"
			"), d AS ("
			"    INSERT INTO %1$s.event_deliveries (consumer, event_id)"
			"    SELECT c.name, e.id FROM e, %1$s.event_consumers AS c"
			") SELECT pg_catalog.max(e.id) FROM e", e->table),
							  4, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "writing the change feed failed");
	newest = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	EndAsRole(&sw);
	initStringInfo(&payload);
	appendStringInfoString(&payload, "{\"program\": ");
	escape_json(&payload, e->program);
	appendStringInfo(&payload, ", \"event_id\": " INT64_FORMAT "}", isnull ? (int64) 0 : DatumGetInt64(newest));
	/* a prepared transaction may not notify: the events wait for the consumers' next look */
	if (!LiveTransactionPreparing())
		Async_Notify("customer_tier_events", payload.data);
	SPI_finish();
	e->n = 0;
}
