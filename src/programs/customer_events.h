/*
 * customer_events.h — a program's change feed: the changes of tier,
 * lifecycle stage and churn flags of its customers (customer_events.c).
 */
#ifndef CUSTOMER_TIER_CUSTOMER_EVENTS_H
#define CUSTOMER_TIER_CUSTOMER_EVENTS_H

#include "postgres.h"

#include "utils/relcache.h"

typedef struct CustomerEvents CustomerEvents;

/* Registers the cache of which programs have consumers (at load). */
extern void CustomerEventsInit(void);
/* No events yet, for the customers table customers (open). */
extern CustomerEvents *NewCustomerEvents(Relation customers);
/* The events of one customer row written: old is NULL for a new customer. */
extern void AddCustomerEvents(CustomerEvents *events, const Datum *old, const bool *old_nulls,
							  const Datum *new, const bool *new_nulls);
/* Write them to the program's feed and wake its consumers (inside SPI or not). */
extern void FlushCustomerEvents(CustomerEvents *events);

#endif
