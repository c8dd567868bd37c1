-- SPDX-License-Identifier: Apache-2.0
-- Policy rule: anyone may use the routes that need catalog:read, without logging in (a public
-- read-only catalog). Every other route keeps its built-in permission check.
--
-- Use: copy this file into the scripts directory (--scripts-dir, AGENTLENS_SCRIPTS_DIR, or the
-- Helm chart's scripts ConfigMap). It takes effect at the next reload (a file change, SIGHUP or
-- POST /api/v1/system/reload); a rule of the wrong shape fails that reload and the previous
-- rules keep serving (GET /api/v1/system shows the error).
--
-- Rules are tried in file-name order, first match wins: a deny rule in a file that sorts
-- earlier (e.g. 00-block-office-hours.lua) still applies before this one.
return {
  rules = {
    {
      name = "anonymous-catalog-read",
      description = "read the catalog without logging in",
      when = function(ctx)
        return ctx.route.permission == "catalog:read"
      end,
      decision = "allow",
    },
  },
}
