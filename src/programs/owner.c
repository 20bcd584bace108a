/*
 * owner.c — the one way the extension acts with more rights than its caller.
 *
 * A program's schema, tables, views and trigger functions belong to the role
 * customer_tier_owner, which no login can become: so nobody but a superuser
 * can put a trigger, rule or default on them, and whatever writes them (a
 * superuser's forget, a pg_cron run) runs only the extension's own code.
 *
 * Creating or dropping those objects must therefore happen as that role.
 * run_as_owner() does it the way PostgreSQL's own maintenance commands run
 * index expressions as the table owner: it switches the current user to
 * customer_tier_owner inside a security-restricted operation (no SET ROLE, no
 * temporary objects, nothing left behind for the caller's session), calls one
 * of a fixed list of steps — customer_tier.owner_<step>(caller, program,
 * args) — passing the real caller so that the step checks the caller's own
 * rights, and switches back.  The steps are executable by the owner role
 * only, so this is the only way to reach them.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_auth_members.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/syscache.h"

#include "compat.h"
#include "owner.h"

PG_FUNCTION_INFO_V1(run_as_owner);

#define ADMIN_ROLE "customer_tier_admin"

static const char *const owner_steps[] = {
	"attach", "backfilled", "detach", "attach_feedback", "detach_feedback", NULL
};

/*
 * Become role inside a security-restricted operation (no SET ROLE, no
 * temporary objects, nothing left behind for the session), with the
 * search_path pinned to pg_catalog: whatever runs next resolves no name in a
 * schema another role controls.  EndAsRole undoes it; an error in between
 * ends the (sub)transaction, which restores the user and the settings itself.
 *
 * In a database with Citus, the owner's DDL stays on this node: a program
 * lives on one node (docs/citus.md), and Citus would otherwise replay its
 * CREATE SCHEMA on the workers as customer_tier_owner, which may not log in.
 */
void
BeginAsRole(Oid role, RoleSwitch *sw)
{
	GetUserIdAndSecContext(&sw->saved_user, &sw->saved_context);
	SetUserIdAndSecContext(role, sw->saved_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	sw->guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (GetConfigOption("citus.enable_ddl_propagation", true, false) != NULL)
		(void) set_config_option("citus.enable_ddl_propagation", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
}

void
EndAsRole(RoleSwitch *sw)
{
	AtEOXact_GUC(false, sw->guc_level);
	SetUserIdAndSecContext(sw->saved_user, sw->saved_context);
}

/*
 * NULL when the current user (customer_tier_owner, between BeginAsRole and
 * EndAsRole) may read every row of a CRM's table without running anything of
 * its owner's; otherwise why not, as an error detail, with the statement that
 * fixes it in *fix.  Reading needs SELECT on the table and no row-security
 * policy that applies: a policy's expression would run with the owner role's
 * rights, so such a table is read only by a customer_tier_owner that bypasses
 * row security.
 */
const char *
OwnerCannotRead(Oid relid, const char **fix)
{
	bool		privileged = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
	const char *table;

	if (privileged && check_enable_rls(relid, InvalidOid, true) != RLS_ENABLED)
	{
		*fix = NULL;
		return NULL;
	}
	table = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
	if (!privileged)
	{
		*fix = psprintf("GRANT SELECT ON %s TO " OWNER_ROLE, table);
		return psprintf(OWNER_ROLE " may not read %s.", table);
	}
	*fix = "ALTER ROLE " OWNER_ROLE " BYPASSRLS (a superuser)";
	return psprintf("%s has row-level security, whose policies would run as " OWNER_ROLE ".", table);
}

/* Whether any role is a member of role: a member could act as it. */
static bool
role_has_members(Oid role)
{
	CatCList   *members = SearchSysCacheList1(AUTHMEMROLEMEM, ObjectIdGetDatum(role));
	bool		any = members->n_members > 0;

	ReleaseSysCacheList(members);
	return any;
}

Datum
run_as_owner(PG_FUNCTION_ARGS)
{
	Oid			caller = GetUserId();
	Oid			owner;
	Oid			admin;
	Oid			step_fn;
	Oid			step_args[3] = {REGROLEOID, TEXTOID, JSONBOID};
	const char *step;
	const char *const *known;
	Datum		program;
	Datum		args;
	RoleSwitch	sw;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("step and program must not be null")));
	step = text_to_cstring(PG_GETARG_TEXT_PP(0));
	for (known = owner_steps; *known != NULL; known++)
		if (strcmp(*known, step) == 0)
			break;
	if (*known == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown owner step \"%s\"", step),
				 errhint("The steps are attach, backfilled, detach, attach_feedback and detach_feedback.")));

	owner = get_role_oid(OWNER_ROLE, false);
	admin = get_role_oid(ADMIN_ROLE, false);
	if (!has_privs_of_role(caller, admin))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only members of %s may change programs", ADMIN_ROLE),
				 errhint("A superuser grants it: GRANT %s TO <login>.", ADMIN_ROLE)));
	if (role_has_members(owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" has members", OWNER_ROLE),
				 errdetail("Its members could put triggers on every program's tables, which superusers' calls would run."),
				 errhint("Revoke it from every role (SELECT member::regrole FROM pg_auth_members WHERE roleid = '%s'::regrole lists them).",
						 OWNER_ROLE)));

	step_fn = LookupFuncName(list_make2(makeString("customer_tier"),
										makeString(psprintf("owner_%s", step))),
							 3, step_args, false);
	program = PG_GETARG_DATUM(1);
	args = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);

	BeginAsRole(owner, &sw);
	{
		LOCAL_FCINFO(call, 3);
		FmgrInfo	flinfo;

		fmgr_info(step_fn, &flinfo);
		InitFunctionCallInfoData(*call, &flinfo, 3, InvalidOid, NULL, NULL);
		call->args[0].value = ObjectIdGetDatum(caller);
		call->args[0].isnull = false;
		call->args[1].value = program;
		call->args[1].isnull = false;
		call->args[2].value = args;
		call->args[2].isnull = PG_ARGISNULL(2);
		FunctionCallInvoke(call);
	}
	EndAsRole(&sw);
	PG_RETURN_VOID();
}
