/*
 * owner.h — acting as another role inside a security-restricted operation.
 */
#ifndef CUSTOMER_TIER_OWNER_H
#define CUSTOMER_TIER_OWNER_H

#include "postgres.h"

#define OWNER_ROLE "customer_tier_owner"

typedef struct RoleSwitch
{
	Oid			saved_user;
	int			saved_context;
	int			guc_level;
} RoleSwitch;

extern void BeginAsRole(Oid role, RoleSwitch *sw);
extern void EndAsRole(RoleSwitch *sw);
extern const char *OwnerCannotRead(Oid relid, const char **fix);

#endif
