/*
 * value_state.h — the state of an aggregate that keeps every value it is
 * given, as a plain double precision array: a fixed header of numbers (the
 * aggregate's parameters), then the values (value_state.c).  breakpoints()
 * and abc_thresholds() keep their populations in it.  A real array type,
 * not internal, lets parallel query and Citus ship partial states as text;
 * a large state is appended to in place as an expanded array.
 */
#ifndef CUSTOMER_TIER_VALUE_STATE_H
#define CUSTOMER_TIER_VALUE_STATE_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"

typedef struct ValueStateKind ValueStateKind;

struct ValueStateKind
{
	const char *name;			/* the aggregate, in "invalid <name> state" */
	int			nheader;		/* numbers before the values */
	const char *too_short;		/* detail: the array cannot hold the header */
	const char *hint;			/* how the state is laid out */
	/*
	 * Check a stored header (BadValueState if no state of this kind has it),
	 * then, given one (not NULL), that the same aggregate call asked for it.
	 */
	void		(*check_header) (const ValueStateKind *kind, const double *stored, const double *given);
};

/* The error for a state this module did not make, with why as its detail. */
extern void BadValueState(const ValueStateKind *kind, const char *why) pg_attribute_noreturn();

/*
 * A palloc'd copy of a state's values, validated (shape, NULLs, header,
 * finite values); the header is copied into header, the count into *count.
 */
extern double *ReadValueState(const ValueStateKind *kind, AnyArrayType *state, double *header, int *count);

/* Sort a state's values (as ReadValueState returns them) lowest first, to rank them. */
extern void SortValues(double *values, int count);

/*
 * Put values[p] for each of the ascending, distinct positions p where
 * SortValues would put them (the rest in no useful order): the order
 * statistics of a population without sorting all of it.
 */
extern void SelectValues(double *values, int count, const int *positions, int npositions);

/* Transition: argument 0 (a state or NULL) with value appended, for header. */
extern Datum AppendValueState(const ValueStateKind *kind, FunctionCallInfo fcinfo, const double *header,
							  double value);

/* Combine: the values of arguments 0 and 1 in one state of the same header. */
extern Datum CombineValueStates(const ValueStateKind *kind, FunctionCallInfo fcinfo);

#endif
