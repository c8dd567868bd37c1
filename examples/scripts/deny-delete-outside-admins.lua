-- SPDX-License-Identifier: Apache-2.0
-- Policy rule: only users whose role is "admin" may use routes that need catalog:delete, even
-- when another role grants that permission.
--
-- Use: copy this file into the scripts directory (--scripts-dir, AGENTLENS_SCRIPTS_DIR, or the
-- Helm chart's scripts ConfigMap). It takes effect at the next reload (a file change, SIGHUP or
-- POST /api/v1/system/reload); a rule of the wrong shape fails that reload and the previous
-- rules keep serving (GET /api/v1/system shows the error).
--
-- Anonymous callers are left to the built-in RBAC, which answers 401.
return {
  rules = {
    {
      name = "deny-delete-outside-admins",
      description = "catalog:delete routes are for the admin role only",
      when = function(ctx)
        return ctx.route.permission == "catalog:delete" and ctx.user ~= nil and ctx.user.role ~= "admin"
      end,
      decision = "deny",
      status = 403,
      message = "only administrators may delete catalog entries",
    },
  },
}
