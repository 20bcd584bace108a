/*
 * order_stats_state.c — the order_stats aggregate's state type.
 *
 * customer_tier.order_stats_state is a real varlena type (not internal) so
 * that parallel query and Citus can ship partial states between processes
 * and machines.  In memory it is an expanded object; its flat form is built
 * only when a state is shipped, printed or stored.  The text form is
 * versioned and every part of it is validated on input.
 *
 * Memory: a state and its times live in the aggregate context itself, next
 * to the hash table entry of its group, and are freed when that context is
 * reset.  nodeAgg keeps a read/write expanded object without copying it only
 * if its eoh_context is a child of the aggregate context, so every state
 * names one shared, empty child context (the "marker") as its eoh_context.
 * A context per state would cost at least 1 kB per group and make hash
 * aggregation spill ten times sooner; states in a separate context, far
 * from their hash entries, measured about 10% slower.  This is safe because
 * nodeAgg and nodeWindowAgg delete a state individually (DeleteExpandedObject)
 * only when a transition or combine function returns a different pointer,
 * which ours never do once a state exists, and deleting the marker would free
 * nothing.  The final function and a partial aggregate's output see
 * read-only pointers.  That reliance is checked, not assumed: a callback on
 * the marker records its deletion, and every in-place update checks that the
 * marker is there, under the aggregate context (OrderStatsCheckMemory).
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "compat.h"
#include "order_stats.h"

#define ORDER_STATS_FLAT_VERSION 1
#define ORDER_STATS_MARKER_NAME "customer_tier order_stats marker"

/* The flat (varlena) form; every field is naturally aligned. */
typedef struct OrderStatsFlat
{
	int32		vl_len_;
	uint8		version;		/* ORDER_STATS_FLAT_VERSION */
	uint8		timekind;		/* OrderTimeKind */
	uint8		sorted;			/* times[] is in ascending order */
	uint8		reserved;
	int32		scale;			/* MoneySum.scale */
	int32		slow_size;		/* bytes of the numeric after times[], or 0 */
	int64		norders;
	uint64		fast_lo;		/* MoneySum.fast, low and high halves */
	int64		fast_hi;
	int64		times[FLEXIBLE_ARRAY_MEMBER];
	/* then, when slow_size > 0, MoneySum.slow as a plain numeric varlena */
} OrderStatsFlat;

#define FLAT_HDRSZ offsetof(OrderStatsFlat, times)

/*
 * A bounded state keeps the version 2 of the text and binary forms; its flat
 * form (what a program stores per customer) is version 3: after the varlena
 * header, the version and time kind bytes, then variable-length unsigned
 * integers (7 bits a byte, low bits first): the total's scale, the order
 * count, the total's fast part (zigzag), the latest time (zigzag), the
 * latest minus the second latest, the second latest minus the first, the
 * squared gaps, the horizon, the number of day counts, and for each day its
 * distance from the day before (the first's, back from the latest order's
 * day) and its orders; last the size of the slow total and its bytes.  Most
 * of these numbers are small: a customer's state takes about 45 bytes and
 * 2 or 3 a day, where fixed fields took 88 and 8 a day.
 */
#define ORDER_STATS_BOUNDED_VERSION 2
#define ORDER_STATS_COMPACT_VERSION 3
#define COMPACT_HDRSZ (VARHDRSZ + 2)
/* the longest a variable-length 128-bit integer can be */
#define VARINT_MAX 19

static Size OrderStatsGetFlatSize(ExpandedObjectHeader *eohptr);
static void OrderStatsFlattenInto(ExpandedObjectHeader *eohptr, void *result, Size allocated_size);

const ExpandedObjectMethods OrderStatsMethods = {
	OrderStatsGetFlatSize,
	OrderStatsFlattenInto
};

/* The name of a time kind, as the text form and error messages spell it. */
const char *
OrderTimeKindName(int kind)
{
	switch (kind)
	{
		case ORDER_TIME_TIMESTAMPTZ:
			return "timestamptz";
		case ORDER_TIME_TIMESTAMP:
			return "timestamp";
		case ORDER_TIME_DATE:
			return "date";
	}
	elog(ERROR, "unknown order time kind %d", kind);
	return NULL;				/* keep compiler quiet */
}

static void
OrderStatsMarkerDeleted(void *arg)
{
	((OrderStatsMarker *) arg)->gone = true;
}

/*
 * Find or create the marker of aggcxt: its empty child that every state names,
 * whose one reset callback (OrderStatsMarkerDeleted) has the shared part as
 * its argument.
 */
static OrderStatsMarker *
FindMarker(MemoryContext aggcxt)
{
	OrderStatsMarker *m;

	for (MemoryContext c = aggcxt->firstchild; c != NULL; c = c->nextchild)
		if (strcmp(c->name, ORDER_STATS_MARKER_NAME) == 0)
			return (OrderStatsMarker *) c->reset_cbs->arg;
	m = MemoryContextAlloc(aggcxt, sizeof(OrderStatsMarker));
	m->aggcxt = aggcxt;
	m->marker = AllocSetContextCreate(aggcxt, ORDER_STATS_MARKER_NAME, ALLOCSET_SMALL_SIZES);
	m->gone = false;
	m->on_delete.func = OrderStatsMarkerDeleted;
	m->on_delete.arg = m;
	MemoryContextRegisterResetCallback(m->marker, &m->on_delete);
	return m;
}

void
OrderStatsMemoryChanged(const OrderStatsState *state)
{
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("order_stats: the executor %s the memory of an aggregate state it keeps",
					state->marker->gone ? "freed" : "moved"),
			 errdetail("customer_tier's states share one memory context per aggregate, which this PostgreSQL does not keep as PostgreSQL 15 does."),
			 errhint("Report it with the PostgreSQL version; docs/order_stats.md, \"Memory\".")));
}

/* A new empty expanded state, owned by aggcxt. */
OrderStatsState *
OrderStatsCreate(MemoryContext aggcxt, int timekind)
{
	OrderStatsState *state;

	StaticAssertStmt(sizeof(OrderStatsState) <= 128, "order_stats state outgrew its chunk");
	state = MemoryContextAlloc(aggcxt, sizeof(OrderStatsState));
	state->marker = FindMarker(aggcxt);
	EOH_init_header(&state->hdr, &OrderStatsMethods, state->marker->marker);
	MoneySumInit(&state->sum);
	state->norders = 0;
	state->capacity = 0;
	state->times = NULL;
	state->last_time = 0;
	state->timekind = timekind;
	state->sorted = true;
	return state;
}

/* Make room for extra more times; in memory a state may exceed 1 GB. */
void
OrderStatsReserve(OrderStatsState *state, int64 extra)
{
	int64		need = state->norders + extra;
	int64		newcap;

	if (need <= state->capacity)
		return;
	/* 4, then 16: most customers need at most two allocations */
	newcap = Max(need, state->capacity == 0 ? 4 : Max(state->capacity * 2, 16));
	if (state->times == NULL)
		state->times = MemoryContextAllocHuge(state->marker->aggcxt, newcap * sizeof(int64));
	else
		state->times = repalloc_huge(state->times, newcap * sizeof(int64));
	state->capacity = newcap;
}

/* An expanded copy of any state, for a transition or combine function to update. */
OrderStatsState *
OrderStatsExpandCopy(const OrderStatsView *view, MemoryContext aggcxt)
{
	OrderStatsState *state;

	OrderStatsRequireTimes(view, "an aggregate");
	state = OrderStatsCreate(aggcxt, view->timekind);
	OrderStatsReserve(state, view->norders);
	memcpy(state->times, view->times, view->norders * sizeof(int64));
	state->norders = view->norders;
	state->sorted = view->sorted;
	if (view->norders > 0)
		state->last_time = view->times[view->norders - 1];
	state->sum.fast = view->sum.fast;
	state->sum.scale = view->sum.scale;
	if (view->sum.slow != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(state->marker->aggcxt);

		state->sum.slow = DatumGetNumericCopy(NumericGetDatum(view->sum.slow));
		MemoryContextSwitchTo(old);
	}
	return state;
}

static char *StateTimeProblem(int64 t, int timekind);

/* Refuse a flat state whose parts do not add up: it did not come from us. */
static void
CheckFlat(const OrderStatsFlat *flat)
{
	Size		size = VARSIZE(flat);
	const char *why = NULL;

	if (size < FLAT_HDRSZ)
		why = "it is too short";
	else if (flat->version != ORDER_STATS_FLAT_VERSION)
		why = "its version is unknown";
	else if (flat->timekind < ORDER_TIME_TIMESTAMPTZ || flat->timekind > ORDER_TIME_DATE)
		why = "its time kind is unknown";
	else if (flat->scale < 0 || flat->scale > MONEY_FAST_MAX_SCALE || flat->slow_size < 0)
		why = "its scale is out of range";
	else if (flat->norders < 1 || (Size) flat->norders > (size - FLAT_HDRSZ) / sizeof(int64) ||
			 size != FLAT_HDRSZ + flat->norders * sizeof(int64) + flat->slow_size)
		why = "its length does not match its order count";
	else if (flat->slow_size > 0 &&
			 (flat->slow_size < VARHDRSZ + (int32) sizeof(uint16) ||
			  VARSIZE((const char *) &flat->times[flat->norders]) != (Size) flat->slow_size))
		why = "its total is malformed";
	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupted order_stats_state value"),
				 errdetail("The binary state is invalid: %s.", why)));
}


/* The 22P02-style problem of a summary's parts, or NULL: one validation for every way in. */
static char *
SummaryProblem(const OrderSummary *s)
{
	int64		counted = 0;
	int64		lastday;

	if (s->timekind < ORDER_TIME_TIMESTAMPTZ || s->timekind > ORDER_TIME_DATE)
		return "its time kind is unknown";
	if (s->norders < 1)
		return "it holds no order";
	if (s->horizon < 0 || s->horizon > ORDER_STATS_MAX_HORIZON)
		return "its horizon is out of range";
	if (s->ndays < 0 || s->ndays > s->horizon)
		return "it has more day counts than its horizon";
	if (StateTimeProblem(s->first, s->timekind) != NULL ||
		StateTimeProblem(s->last, s->timekind) != NULL ||
		StateTimeProblem(s->before_last, s->timekind) != NULL)
		return "an order time is out of range";
	if (!(s->first <= s->before_last && s->before_last <= s->last))
		return "its first, second latest and latest order are out of order";
	if (s->norders == 1 && (s->first != s->last || s->before_last != s->last || s->gap_squares != 0))
		return "one order has no gaps";
	if (s->norders == 2 && s->before_last != s->first)
		return "with two orders the second latest is the first";
	lastday = OrderDayOf(s->last);
	for (int32 i = 0; i < s->ndays; i++)
	{
		if (s->days[i].orders < 1 || s->days[i].orders > s->norders - counted)
			return "a day count is out of range";
		if (s->days[i].day <= lastday - s->horizon || s->days[i].day > lastday ||
			(i > 0 && s->days[i].day <= s->days[i - 1].day))
			return "its days are out of order or outside the horizon";
		counted += s->days[i].orders;
	}
	return NULL;
}

static char *
PutVarint(char *p, uint128 v)
{
	do
	{
		uint8		b = (uint8) (v & 0x7F);

		v >>= 7;
		*p++ = (char) (v != 0 ? b | 0x80 : b);
	} while (v != 0);
	return p;
}

/* The next variable-length integer, if it is there and at most max. */
static bool
GetVarint(const uint8 **p, const uint8 *end, uint128 max, uint128 *v)
{
	uint128		r = 0;

	for (int shift = 0; *p < end && shift < 128; shift += 7)
	{
		uint8		b = *(*p)++;

		if (shift == 126 && (b & 0x7F) > 3)
			return false;
		r |= (uint128) (b & 0x7F) << shift;
		if ((b & 0x80) == 0)
		{
			*v = r;
			return r <= max;
		}
	}
	return false;
}

static inline uint128
Zigzag(int128 v)
{
	return ((uint128) v << 1) ^ (uint128) (v >> 127);
}

static inline int128
Unzigzag(uint128 u)
{
	return (int128) (u >> 1) ^ -(int128) (u & 1);
}

#define UINT128_ALL (~(uint128) 0)

/*
 * The summary of a flat bounded state, checked; its day counts and slow
 * total in the current memory context.
 */
static const char *
ReadCompact(const struct varlena *flat, OrderSummary *s)
{
	const uint8 *p = (const uint8 *) VARDATA(flat) + 2;
	const uint8 *end = (const uint8 *) flat + VARSIZE(flat);
	/* scale, orders, fast total, latest, two time gaps, squares, horizon, days */
	static const uint128 max[9] = {MONEY_FAST_MAX_SCALE, PG_INT64_MAX, UINT128_ALL, PG_UINT64_MAX,
	PG_UINT64_MAX, PG_UINT64_MAX, UINT128_ALL, ORDER_STATS_MAX_HORIZON, ORDER_STATS_MAX_HORIZON};
	uint128		v[9];
	uint128		slow_size;
	int64		day;

	if (VARSIZE(flat) < COMPACT_HDRSZ)
		return "it is too short";
	s->timekind = ((const uint8 *) VARDATA(flat))[1];
	for (int i = 0; i < (int) lengthof(v); i++)
		if (!GetVarint(&p, end, max[i], &v[i]))
			return "a number is malformed or out of range";
	s->sum.scale = (int32) v[0];
	s->norders = (int64) v[1];
	s->sum.fast = Unzigzag(v[2]);
	s->last = (int64) Unzigzag(v[3]);
	if (v[4] > (uint128) ((int128) s->last - PG_INT64_MIN) ||
		v[5] > (uint128) ((int128) s->last - (int128) v[4] - PG_INT64_MIN))
		return "an order time is out of range";
	s->before_last = (int64) ((int128) s->last - (int128) v[4]);
	s->first = (int64) ((int128) s->before_last - (int128) v[5]);
	s->gap_squares = v[6];
	s->horizon = (int32) v[7];
	s->ndays = (int32) v[8];
	if (s->ndays > s->horizon || (Size) s->ndays > (Size) (end - p) / 2)
		return "it has more day counts than its horizon or its length";
	s->days = palloc(Max(s->ndays, 1) * sizeof(OrderDayCount));
	day = OrderDayOf(s->last);
	for (int32 i = 0; i < s->ndays; i++)
	{
		uint128		gap;
		uint128		orders;

		if (!GetVarint(&p, end, PG_INT32_MAX, &gap) || !GetVarint(&p, end, PG_INT32_MAX, &orders))
			return "a day count is malformed";
		day = i == 0 ? day - (int64) gap : day + (int64) gap;
		if (day < PG_INT32_MIN || day > PG_INT32_MAX)
			return "its days are out of order or outside the horizon";
		s->days[i].day = (int32) day;
		s->days[i].orders = (int32) orders;
	}
	if (!GetVarint(&p, end, MaxAllocSize, &slow_size) || slow_size != (uint128) (end - p))
		return "its length does not match its parts";
	s->sum.slow = NULL;
	if (slow_size > 0)
	{
		if (slow_size < VARHDRSZ + sizeof(uint16) || VARSIZE(p) != (Size) slow_size)
			return "its total is malformed";
		/* copied: a numeric read in place would be unaligned */
		s->sum.slow = (Numeric) palloc((Size) slow_size);
		memcpy(s->sum.slow, p, (Size) slow_size);
	}
	return SummaryProblem(s);
}

/* The view of a flat bounded state, checked. */
static void
GetBoundedView(const struct varlena *flat, OrderStatsView *view)
{
	OrderSummary *s = &view->summary;
	const char *why = ReadCompact(flat, s);

	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupted order_stats_state value"),
				 errdetail("The bounded binary state is invalid: %s.", why)));
	view->timekind = s->timekind;
	view->sorted = true;
	view->sum = s->sum;
	view->norders = s->norders;
	view->times = NULL;
	view->expanded = NULL;
}

/* The flat form of a summary (a bounded state), in the current context. */
Datum
OrderSummaryFlatten(const OrderSummary *s)
{
	Size		slow_size = s->sum.slow != NULL ? VARSIZE(s->sum.slow) : 0;
	char	   *flat = palloc(COMPACT_HDRSZ + (11 + s->ndays * 2) * VARINT_MAX + slow_size);
	char	   *p = flat + COMPACT_HDRSZ;
	int64		day = OrderDayOf(s->last);

	((uint8 *) VARDATA(flat))[0] = ORDER_STATS_COMPACT_VERSION;
	((uint8 *) VARDATA(flat))[1] = (uint8) s->timekind;
	p = PutVarint(p, (uint128) s->sum.scale);
	p = PutVarint(p, (uint128) s->norders);
	p = PutVarint(p, Zigzag(s->sum.fast));
	p = PutVarint(p, Zigzag(s->last));
	p = PutVarint(p, (uint128) ((int128) s->last - s->before_last));
	p = PutVarint(p, (uint128) ((int128) s->before_last - s->first));
	p = PutVarint(p, s->gap_squares);
	p = PutVarint(p, (uint128) s->horizon);
	p = PutVarint(p, (uint128) s->ndays);
	for (int32 i = 0; i < s->ndays; i++)
	{
		p = PutVarint(p, (uint128) (i == 0 ? day - s->days[0].day : s->days[i].day - s->days[i - 1].day));
		p = PutVarint(p, (uint128) s->days[i].orders);
	}
	p = PutVarint(p, (uint128) slow_size);
	if (slow_size > 0)
	{
		memcpy(p, s->sum.slow, slow_size);
		p += slow_size;
	}
	SET_VARSIZE(flat, p - flat);
	return PointerGetDatum(flat);
}

/* Refuse a bounded state where the order times themselves are needed. */
void
OrderStatsRequireTimes(const OrderStatsView *view, const char *what)
{
	if (view->bounded)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s needs the order times, which a bounded order_stats_state does not keep", what),
				 errdetail("A program's stored states are bounded: they keep counts, the exact total, first and last order, the gap statistics and the orders per day of the recent days."),
				 errhint("Aggregate the orders with customer_tier.order_stats_partial() instead.")));
}

/* Read any state datum (expanded read/write or read-only, flat, toasted). */
void
OrderStatsGetView(Datum datum, OrderStatsView *view)
{
	if (VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(datum)))
	{
		OrderStatsState *state = (OrderStatsState *) DatumGetEOHP(datum);

		if (state->hdr.eoh_methods != &OrderStatsMethods)
			elog(ERROR, "expanded object is not an order_stats_state");
		view->timekind = state->timekind;
		view->sorted = state->sorted;
		view->bounded = false;
		view->sum = state->sum;
		view->norders = state->norders;
		view->times = state->times;
		view->expanded = state;
	}
	else
	{
		OrderStatsFlat *flat = (OrderStatsFlat *) PG_DETOAST_DATUM(datum);

		view->bounded = VARSIZE(flat) > offsetof(OrderStatsFlat, timekind) &&
			flat->version == ORDER_STATS_COMPACT_VERSION;
		if (view->bounded)
		{
			GetBoundedView((const struct varlena *) flat, view);
			return;
		}
		CheckFlat(flat);
		view->timekind = flat->timekind;
		view->sorted = flat->sorted != 0;
		view->sum.fast = ((int128) flat->fast_hi << 64) | (int128) flat->fast_lo;
		view->sum.scale = flat->scale;
		view->sum.slow = flat->slow_size > 0 ? (Numeric) &flat->times[flat->norders] : NULL;
		view->norders = flat->norders;
		view->times = flat->times;
		view->expanded = NULL;
	}
}

/* Size of the flat form of a state with these parts; refuses more than 1 GB. */
static Size
FlatSize(int64 norders, Numeric slow)
{
	Size		slow_size = slow != NULL ? VARSIZE(slow) : 0;

	if (norders > (int64) ((MaxAllocSize - FLAT_HDRSZ - slow_size) / sizeof(int64)))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("order_stats state with %lld orders is too large to ship",
						(long long) norders),
				 errdetail("The flat form of a state is limited to 1 GB (about 134 million orders)."),
				 errhint("Group by customer, or set max_parallel_workers_per_gather = 0 for this query.")));
	return FLAT_HDRSZ + norders * sizeof(int64) + slow_size;
}

/* Write the flat form of a state into result, which has FlatSize() bytes. */
static void
FlattenParts(void *result, Size size, int timekind, bool sorted, const MoneySum *sum,
			 int64 norders, const int64 *times)
{
	OrderStatsFlat *flat = (OrderStatsFlat *) result;

	memset(flat, 0, FLAT_HDRSZ);
	SET_VARSIZE(flat, size);
	flat->version = ORDER_STATS_FLAT_VERSION;
	flat->timekind = timekind;
	flat->sorted = sorted ? 1 : 0;
	flat->scale = sum->scale;
	flat->slow_size = sum->slow != NULL ? VARSIZE(sum->slow) : 0;
	flat->norders = norders;
	flat->fast_lo = (uint64) sum->fast;
	flat->fast_hi = (int64) (sum->fast >> 64);
	memcpy(flat->times, times, norders * sizeof(int64));
	if (sum->slow != NULL)
		memcpy(&flat->times[norders], sum->slow, VARSIZE(sum->slow));
}

/* EOH method: bytes needed for the flat form. */
static Size
OrderStatsGetFlatSize(ExpandedObjectHeader *eohptr)
{
	OrderStatsState *state = (OrderStatsState *) eohptr;

	return FlatSize(state->norders, state->sum.slow);
}

/* EOH method: write the flat form. */
static void
OrderStatsFlattenInto(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	OrderStatsState *state = (OrderStatsState *) eohptr;

	FlattenParts(result, allocated_size, state->timekind, state->sorted, &state->sum,
				 state->norders, state->times);
}

/*
 * The flat state of parts read from a v1 text or binary form, once they are
 * validated: the exact total becomes the state's money sum.
 */
static Datum
FlatStateOfParts(int timekind, bool sorted, Numeric total, int64 norders, const int64 *times)
{
	MoneySum	sum;
	Size		size;
	void	   *result;

	MoneySumInit(&sum);
	MoneySumAddNumeric(&sum, (struct varlena *) total, CurrentMemoryContext);
	size = FlatSize(norders, sum.slow);
	result = palloc(size);
	FlattenParts(result, size, timekind, sorted, &sum, norders, times);
	return PointerGetDatum(result);
}

/*
 * Text form, version 1:
 *   v1;time=<timestamptz|timestamp|date>;orders=<n>;monetary=<exact total>;times=<t1>,...,<tn>
 * Times are PostgreSQL's internal microseconds since 2000-01-01 (dates as
 * their midnight), so the form is exact and independent of the time zone.
 */

/* The 22P02 error for malformed state text, with a detail saying what is wrong. */
static void
BadStateText(const char *input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type order_stats_state: \"%.100s%s\"",
					input, strlen(input) > 100 ? "..." : ""),
			 errdetail("%s", detail),
			 errhint("Use text produced by order_stats_state output, of the form \"v1;time=timestamptz;orders=N;monetary=TOTAL;times=T1,...\".")));
}

/* Consume the literal lit at *p, or fail. */
static void
ExpectLiteral(const char **p, const char *lit, const char *input)
{
	size_t		len = strlen(lit);

	if (strncmp(*p, lit, len) != 0)
		BadStateText(input, psprintf("Expected \"%s\" at position %d.", lit,
									 (int) (*p - input) + 1));
	*p += len;
}

/* Consume a decimal int64 at *p (optional minus sign), or fail. */
static int64
ParseInt64(const char **p, const char *input, const char *what)
{
	const char *s = *p;
	bool		neg = false;
	uint64		mag = 0;

	if (*s == '-')
	{
		neg = true;
		s++;
	}
	if (*s < '0' || *s > '9')
		BadStateText(input, psprintf("Expected an integer for %s at position %d.", what,
									 (int) (s - input) + 1));
	while (*s >= '0' && *s <= '9')
	{
		if (mag > (PG_UINT64_MAX - 9) / 10)
			BadStateText(input, psprintf("The %s value is out of range.", what));
		mag = mag * 10 + (*s++ - '0');
	}
	if (mag > (uint64) PG_INT64_MAX + (neg ? 1 : 0))
		BadStateText(input, psprintf("The %s value is out of range.", what));
	*p = s;
	return neg ? (int64) (0 - mag) : (int64) mag;
}

/* Consume an exact decimal (no exponent, NaN or infinity) at *p as a numeric, or fail. */
static Numeric
ParseTotal(const char **p, const char *input)
{
	const char *s = *p;
	const char *start = s;
	int			intdigits = 0;
	int			fracdigits = 0;
	char	   *text;
	Numeric		result;

	if (*s == '-')
		s++;
	while (*s >= '0' && *s <= '9')
		s++, intdigits++;
	if (*s == '.')
	{
		s++;
		while (*s >= '0' && *s <= '9')
			s++, fracdigits++;
		if (fracdigits == 0)
			intdigits = 0;		/* "1." is malformed */
	}
	if (intdigits == 0 || *s != ';')
		BadStateText(input, "The monetary total must be an exact decimal number such as -12.50.");
	/* numeric's own limits: 131072 digits before the point, 16383 after */
	if (intdigits > 131072 || fracdigits > 16383)
		BadStateText(input, "The monetary total has more digits than numeric allows.");
	text = pnstrdup(start, s - start);
	result = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(text),
												 ObjectIdGetDatum(InvalidOid),
												 Int32GetDatum(-1)));
	pfree(text);
	*p = s;
	return result;
}

/* Why a time cannot be in a state of this kind, or NULL if it can. */
static char *
StateTimeProblem(int64 t, int timekind)
{
	if (!IS_VALID_TIMESTAMP(t))
		return psprintf("Order time " INT64_FORMAT " is outside the range of %s.",
						t, OrderTimeKindName(timekind));
	if (timekind == ORDER_TIME_DATE && t % USECS_PER_DAY != 0)
		return psprintf("Order time " INT64_FORMAT " is not a midnight, as a date must be.", t);
	return NULL;
}

/* Consume "time=<kind>" at *p, or fail. */
static int
ParseTimeKind(const char **p, const char *input)
{
	ExpectLiteral(p, "time=", input);
	for (int k = ORDER_TIME_TIMESTAMPTZ; k <= ORDER_TIME_DATE; k++)
	{
		const char *name = OrderTimeKindName(k);

		if (strncmp(*p, name, strlen(name)) == 0 && (*p)[strlen(name)] == ';')
		{
			*p += strlen(name);
			return k;
		}
	}
	BadStateText(input, "The time kind must be timestamptz, timestamp or date.");
	return 0;					/* keep compiler quiet */
}

/* Consume an unsigned decimal below 2^128 at *p, or fail. */
static uint128
ParseUint128(const char **p, const char *input, const char *what)
{
	const char *s = *p;
	uint128		v = 0;
	uint128		limit = ~(uint128) 0;

	if (*s < '0' || *s > '9')
		BadStateText(input, psprintf("Expected an integer for %s at position %d.", what,
									 (int) (s - input) + 1));
	while (*s >= '0' && *s <= '9')
	{
		if (v > (limit - 9) / 10)
			BadStateText(input, psprintf("The %s value is out of range.", what));
		v = v * 10 + (uint128) (*s++ - '0');
	}
	*p = s;
	return v;
}

/* Append an unsigned 128-bit integer in decimal. */
static void
AppendUint128(StringInfo buf, uint128 v)
{
	char		digits[40];
	int			n = 0;

	do
	{
		digits[n++] = '0' + (int) (v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0)
		appendStringInfoChar(buf, digits[--n]);
}

/*
 * Text form, version 2 (a bounded state):
 *   v2;time=<kind>;orders=<n>;monetary=<total>;first=<t>;last=<t>;before_last=<t>;
 *   gap_squares=<exact sum of squared gaps>;horizon=<days>;days=<day>:<orders>,...
 * Days count from 2000-01-01 (UTC); the list may be empty.
 */
static Datum
BoundedStateIn(const char *input, const char *p)
{
	OrderSummary s;
	Numeric		total;
	char	   *problem;
	int64		horizon;
	int64		day;
	int64		orders;

	s.timekind = ParseTimeKind(&p, input);
	ExpectLiteral(&p, ";orders=", input);
	s.norders = ParseInt64(&p, input, "orders");
	ExpectLiteral(&p, ";monetary=", input);
	total = ParseTotal(&p, input);
	ExpectLiteral(&p, ";first=", input);
	s.first = ParseInt64(&p, input, "first");
	ExpectLiteral(&p, ";last=", input);
	s.last = ParseInt64(&p, input, "last");
	ExpectLiteral(&p, ";before_last=", input);
	s.before_last = ParseInt64(&p, input, "before_last");
	ExpectLiteral(&p, ";gap_squares=", input);
	s.gap_squares = ParseUint128(&p, input, "gap_squares");
	ExpectLiteral(&p, ";horizon=", input);
	horizon = ParseInt64(&p, input, "horizon");
	if (horizon < 0 || horizon > ORDER_STATS_MAX_HORIZON)
		BadStateText(input, psprintf("The horizon must be from 0 to %d days.", ORDER_STATS_MAX_HORIZON));
	s.horizon = (int32) horizon;
	ExpectLiteral(&p, ";days=", input);
	s.days = palloc((s.horizon + 1) * sizeof(OrderDayCount));
	s.ndays = 0;
	while (*p != '\0')
	{
		if (s.ndays > 0)
			ExpectLiteral(&p, ",", input);
		if (s.ndays == s.horizon)
			BadStateText(input, "The list holds more days than the horizon.");
		day = ParseInt64(&p, input, "days");
		ExpectLiteral(&p, ":", input);
		orders = ParseInt64(&p, input, "days");
		if (day < PG_INT32_MIN || day > PG_INT32_MAX || orders < 1 || orders > PG_INT32_MAX)
			BadStateText(input, "A day or its order count is out of range.");
		s.days[s.ndays].day = (int32) day;
		s.days[s.ndays].orders = (int32) orders;
		s.ndays++;
	}
	MoneySumInit(&s.sum);
	MoneySumAddNumeric(&s.sum, (struct varlena *) total, CurrentMemoryContext);
	problem = SummaryProblem(&s);
	if (problem != NULL)
		BadStateText(input, psprintf("The bounded state is inconsistent: %s.", problem));
	return OrderSummaryFlatten(&s);
}

/* The v2 text of a bounded state. */
static char *
BoundedStateOut(const OrderSummary *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "v2;time=%s;orders=" INT64_FORMAT ";monetary=%s;first=" INT64_FORMAT
					 ";last=" INT64_FORMAT ";before_last=" INT64_FORMAT ";gap_squares=",
					 OrderTimeKindName(s->timekind), s->norders,
					 DatumGetCString(DirectFunctionCall1(numeric_out,
														 NumericGetDatum(MoneySumResult(&s->sum)))),
					 s->first, s->last, s->before_last);
	AppendUint128(&buf, s->gap_squares);
	appendStringInfo(&buf, ";horizon=%d;days=", s->horizon);
	for (int32 i = 0; i < s->ndays; i++)
		appendStringInfo(&buf, "%s%d:%d", i > 0 ? "," : "", s->days[i].day, s->days[i].orders);
	return buf.data;
}

PG_FUNCTION_INFO_V1(order_stats_state_in);
/* Text input: parse and validate every part of a v1 state. */
Datum
order_stats_state_in(PG_FUNCTION_ARGS)
{
	const char *input = PG_GETARG_CSTRING(0);
	const char *p = input;
	int			timekind = 0;
	int64		norders;
	int64		n = 0;
	int64		cap;
	int64	   *times;
	bool		sorted = true;
	Numeric		total;

	ExpectLiteral(&p, "v", input);
	if (strncmp(p, "2;", 2) == 0)
		PG_RETURN_DATUM(BoundedStateIn(input, p + 2));
	if (strncmp(p, "1;", 2) != 0)
		BadStateText(input, "Only versions 1 and 2 of the state text are known.");
	p += 2;
	timekind = ParseTimeKind(&p, input);
	ExpectLiteral(&p, ";orders=", input);
	norders = ParseInt64(&p, input, "orders");
	if (norders < 1)
		BadStateText(input, "A state holds at least one order (the aggregate of no rows is NULL).");
	ExpectLiteral(&p, ";monetary=", input);
	total = ParseTotal(&p, input);
	ExpectLiteral(&p, ";times=", input);

	/* the text is at least 2 bytes per time, which bounds the allocation */
	cap = Min(norders, (int64) strlen(p) / 2 + 1);
	times = palloc_extended(cap * sizeof(int64), MCXT_ALLOC_HUGE);
	for (;;)
	{
		int64		t = ParseInt64(&p, input, "times");

		char	   *problem = StateTimeProblem(t, timekind);

		if (problem != NULL)
			BadStateText(input, problem);
		if (n == cap)
			BadStateText(input, psprintf("orders=" INT64_FORMAT " but the list holds more times.",
										 norders));
		if (n > 0 && t < times[n - 1])
			sorted = false;
		times[n++] = t;
		if (*p != ',')
			break;
		p++;
	}
	if (*p != '\0')
		BadStateText(input, psprintf("Unexpected character at position %d.", (int) (p - input) + 1));
	if (n != norders)
		BadStateText(input, psprintf("orders=" INT64_FORMAT " but the list holds " INT64_FORMAT " times.",
									 norders, n));

	PG_RETURN_DATUM(FlatStateOfParts(timekind, sorted, total, n, times));
}

PG_FUNCTION_INFO_V1(order_stats_state_out);
/* Text output: the v1 form that order_stats_state_in reads back. */
Datum
order_stats_state_out(PG_FUNCTION_ARGS)
{
	OrderStatsView view;
	StringInfoData buf;
	Numeric		total;

	OrderStatsGetView(PG_GETARG_DATUM(0), &view);
	if (view.bounded)
		PG_RETURN_CSTRING(BoundedStateOut(&view.summary));
	total = MoneySumResult(&view.sum);
	initStringInfo(&buf);
	appendStringInfo(&buf, "v1;time=%s;orders=" INT64_FORMAT ";monetary=%s;times=",
					 OrderTimeKindName(view.timekind), view.norders,
					 DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(total))));
	for (int64 i = 0; i < view.norders; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfo(&buf, INT64_FORMAT, view.times[i]);
	}
	PG_RETURN_CSTRING(buf.data);
}

/*
 * Binary form, version 1: byte version, byte time kind, int64 order count,
 * int32 length + the total in numeric's binary form, then the int64 times.
 */

/* The 22P03 error for malformed binary state, with a detail saying what is wrong. */
static void
BadStateBinary(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid binary order_stats_state"),
			 errdetail("%s", detail)));
}

/* The total of a binary state: len bytes of numeric's binary form, finite. */
static Numeric
RecvTotal(StringInfo buf, int32 len)
{
	StringInfoData sub;
	Numeric		total;

	if (len < 0 || len > buf->len - buf->cursor)
		BadStateBinary("The total's length is out of range.");
	initStringInfo(&sub);
	appendBinaryStringInfo(&sub, pq_getmsgbytes(buf, len), len);
	total = DatumGetNumeric(DirectFunctionCall3(numeric_recv, PointerGetDatum(&sub),
												ObjectIdGetDatum(InvalidOid),
												Int32GetDatum(-1)));
	if (sub.cursor != sub.len)
		BadStateBinary("The total has trailing bytes.");
	if (numeric_is_nan(total) || numeric_is_inf(total))
		BadStateBinary("The total is not finite.");
	return total;
}

/*
 * Binary form, version 2 (bounded): after version 1's byte version, byte
 * time kind, int64 order count and total: int64 first, last and second
 * latest time, the squared gaps as two uint64 (high, low), int32 horizon,
 * int32 day count, then (int32 day, int32 orders) pairs.
 */
static Datum
BoundedStateRecv(StringInfo buf, int timekind, int64 norders, int32 len)
{
	OrderSummary s;
	Numeric		total = RecvTotal(buf, len);
	char	   *problem;
	uint64		hi;

	s.timekind = timekind;
	s.norders = norders;
	s.first = pq_getmsgint64(buf);
	s.last = pq_getmsgint64(buf);
	s.before_last = pq_getmsgint64(buf);
	hi = (uint64) pq_getmsgint64(buf);
	s.gap_squares = ((uint128) hi << 64) | (uint128) (uint64) pq_getmsgint64(buf);
	s.horizon = pq_getmsgint(buf, 4);
	s.ndays = pq_getmsgint(buf, 4);
	if (s.horizon < 0 || s.horizon > ORDER_STATS_MAX_HORIZON || s.ndays < 0 || s.ndays > s.horizon ||
		(uint64) s.ndays * 8 != (uint64) (buf->len - buf->cursor))
		BadStateBinary("The day counts do not match the horizon or the length.");
	s.days = palloc(Max(s.ndays, 1) * sizeof(OrderDayCount));
	for (int32 i = 0; i < s.ndays; i++)
	{
		s.days[i].day = pq_getmsgint(buf, 4);
		s.days[i].orders = pq_getmsgint(buf, 4);
	}
	pq_getmsgend(buf);
	MoneySumInit(&s.sum);
	MoneySumAddNumeric(&s.sum, (struct varlena *) total, CurrentMemoryContext);
	problem = SummaryProblem(&s);
	if (problem != NULL)
		BadStateBinary(psprintf("The bounded state is inconsistent: %s.", problem));
	return OrderSummaryFlatten(&s);
}

PG_FUNCTION_INFO_V1(order_stats_state_recv);
/* Binary input: read and validate every part of a v1 binary state. */
Datum
order_stats_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			version = pq_getmsgbyte(buf);
	int			timekind = pq_getmsgbyte(buf);
	int64		norders = pq_getmsgint64(buf);
	int32		len = pq_getmsgint(buf, 4);
	Numeric		total;
	int64	   *times;
	bool		sorted = true;

	if (version == ORDER_STATS_BOUNDED_VERSION)
		PG_RETURN_DATUM(BoundedStateRecv(buf, timekind, norders, len));
	if (version != ORDER_STATS_FLAT_VERSION)
		BadStateBinary("Only versions 1 and 2 of the binary state are known.");
	if (timekind < ORDER_TIME_TIMESTAMPTZ || timekind > ORDER_TIME_DATE)
		BadStateBinary("The time kind is unknown.");
	if (norders < 1)
		BadStateBinary("A state holds at least one order.");
	total = RecvTotal(buf, len);
	if ((uint64) norders != (uint64) (buf->len - buf->cursor) / sizeof(int64) ||
		(buf->len - buf->cursor) % sizeof(int64) != 0)
		BadStateBinary("The order count does not match the number of times.");
	times = palloc_extended(norders * sizeof(int64), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < norders; i++)
	{
		char	   *problem;

		times[i] = pq_getmsgint64(buf);
		problem = StateTimeProblem(times[i], timekind);
		if (problem != NULL)
			BadStateBinary(problem);
		if (i > 0 && times[i] < times[i - 1])
			sorted = false;
	}
	pq_getmsgend(buf);

	PG_RETURN_DATUM(FlatStateOfParts(timekind, sorted, total, norders, times));
}

PG_FUNCTION_INFO_V1(order_stats_state_send);
/* Binary output: the v1 form that order_stats_state_recv reads back. */
Datum
order_stats_state_send(PG_FUNCTION_ARGS)
{
	OrderStatsView view;
	StringInfoData buf;
	bytea	   *total;

	OrderStatsGetView(PG_GETARG_DATUM(0), &view);
	total = DatumGetByteaPP(DirectFunctionCall1(numeric_send,
												NumericGetDatum(MoneySumResult(&view.sum))));
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, view.bounded ? ORDER_STATS_BOUNDED_VERSION : ORDER_STATS_FLAT_VERSION);
	pq_sendbyte(&buf, view.timekind);
	pq_sendint64(&buf, view.norders);
	pq_sendint32(&buf, VARSIZE_ANY_EXHDR(total));
	pq_sendbytes(&buf, VARDATA_ANY(total), VARSIZE_ANY_EXHDR(total));
	if (view.bounded)
	{
		const OrderSummary *s = &view.summary;

		pq_sendint64(&buf, s->first);
		pq_sendint64(&buf, s->last);
		pq_sendint64(&buf, s->before_last);
		pq_sendint64(&buf, (int64) (uint64) (s->gap_squares >> 64));
		pq_sendint64(&buf, (int64) (uint64) s->gap_squares);
		pq_sendint32(&buf, s->horizon);
		pq_sendint32(&buf, s->ndays);
		for (int32 i = 0; i < s->ndays; i++)
		{
			pq_sendint32(&buf, s->days[i].day);
			pq_sendint32(&buf, s->days[i].orders);
		}
	}
	for (int64 i = 0; !view.bounded && i < view.norders; i++)
		pq_sendint64(&buf, view.times[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}
