-- SPDX-License-Identifier: Apache-2.0
-- Start-up tasks, run by the C core once the database is migrated (before readiness): a
-- warning for an insecure cookie setting, and the first administrator when there are no users.
local config = require "agentlens.config"
local crypto = require "agentlens.crypto"
local log = require "agentlens.log"
local system = require "agentlens.system"
local time = require "agentlens.time"
local passwords = require "agentlens.auth.passwords"
local principal = require "agentlens.auth.principal"
local users = require "agentlens.store.users"

local M = {}

M.ADMIN_USERNAME = "admin"

-- The banner operators (and the e2e harness) scrape: keep its format.
function M.banner(password)
  return table.concat({
    "",
    "INITIAL ADMIN CREDENTIALS",
    "=========================",
    "Username: " .. M.ADMIN_USERNAME,
    "Password: " .. password,
    "=========================",
    "CHANGE THIS PASSWORD IMMEDIATELY",
    "",
  }, "\n") .. "\n"
end

-- Creates `admin` (role-admin) when the users table is empty, with auth.admin_password or a
-- generated password printed once to stdout. Several replicas may race: the unique username
-- lets one insert win and the others do nothing. -> true | nil, message
local function first_admin()
  local n, err = users.count()
  if not n then
    return nil, "cannot count users: " .. tostring(err)
  end
  if n > 0 then
    return true
  end
  local password = config.get("auth.admin_password")
  local generated = password == ""
  if generated then
    password = passwords.generate(20)
  else
    local weak = passwords.problem(password)
    if weak then
      return nil, "auth.admin_password (AGENTLENS_ADMIN_PASSWORD) does not meet the password policy: " .. weak
    end
  end
  local hash
  hash, err = crypto.password_hash(password)
  if not hash then
    return nil, "cannot hash the initial admin password: " .. tostring(err)
  end
  local id = crypto.uuid()
  local ok, code
  ok, err, code = users.insert({
    id = id, username = M.ADMIN_USERNAME, display_name = "Administrator", password_hash = hash,
    role_id = "role-admin", is_active = true, now = time.rfc3339(time.now()),
  })
  if not ok then
    if code == "unique" then
      return true -- another replica created it
    end
    return nil, "cannot create the initial admin user: " .. tostring(err)
  end
  principal.changed()
  if generated then
    system.print(M.banner(password))
    log.warn("created the initial admin user with a generated password, printed once to standard output; "
      .. "change it now", { username = M.ADMIN_USERNAME })
  else
    log.info("created the initial admin user with auth.admin_password", { username = M.ADMIN_USERNAME })
  end
  return true
end

function M.run()
  if not config.get("auth.cookie_secure") then
    log.warn("auth.cookie_secure is off: the session cookie lacks the Secure attribute and travels over plain "
      .. "HTTP; use this only for local development, and serve AgentLens over TLS (HTTPS) otherwise")
  end
  return first_admin()
end

return M
