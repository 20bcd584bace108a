/*
 * result_desc.h — the blessed result descriptor of a C function returning a
 * composite, built once per call site.
 */
#ifndef CUSTOMER_TIER_RESULT_DESC_H
#define CUSTOMER_TIER_RESULT_DESC_H

#include "fmgr.h"
#include "access/tupdesc.h"

extern TupleDesc CachedResultDesc(FunctionCallInfo fcinfo);

#endif							/* CUSTOMER_TIER_RESULT_DESC_H */
