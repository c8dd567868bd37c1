-- SPDX-License-Identifier: Apache-2.0
-- The password policy (one rule for every place a password is set) and generated passwords.
local crypto = require "agentlens.crypto"

local M = {}

M.MIN_LENGTH = 10
M.MAX_BYTES = 72 -- bcrypt reads no further

local function join_and(list)
  if #list == 1 then
    return list[1]
  end
  return table.concat(list, ", ", 1, #list - 1) .. " and " .. list[#list]
end

-- problem(password) -> nil when the password is acceptable, else a message naming exactly what
-- is missing, e.g. "password must contain an upper-case letter and a digit".
function M.problem(password)
  if type(password) ~= "string" or password == "" then
    return "password is required"
  end
  if #password > M.MAX_BYTES then
    return ("password must be at most %d bytes long"):format(M.MAX_BYTES)
  end
  local missing = {}
  if #password < M.MIN_LENGTH then
    missing[#missing + 1] = ("at least %d characters"):format(M.MIN_LENGTH)
  end
  if not password:find("%u") then
    missing[#missing + 1] = "an upper-case letter"
  end
  if not password:find("%l") then
    missing[#missing + 1] = "a lower-case letter"
  end
  if not password:find("%d") then
    missing[#missing + 1] = "a digit"
  end
  -- ASCII punctuation, or any non-ASCII character (symbols outside ASCII count as symbols).
  if not password:find("[%p\128-\255]") then
    missing[#missing + 1] = "a symbol"
  end
  if #missing == 0 then
    return nil
  end
  return "password must contain " .. join_and(missing)
end

local UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
local LOWER = "abcdefghijklmnopqrstuvwxyz"
local DIGITS = "0123456789"
local SYMBOLS = "!@#$%^&*()"
local ALL = UPPER .. LOWER .. DIGITS .. SYMBOLS

-- A uniformly random index in 1..n (n <= 256), by rejection sampling of random bytes.
local function random_index(n)
  local limit = 256 - 256 % n
  while true do
    local bytes = assert(crypto.random(16))
    for i = 1, #bytes do
      local b = bytes:byte(i)
      if b < limit then
        return b % n + 1
      end
    end
  end
end

local function pick(alphabet)
  local i = random_index(#alphabet)
  return alphabet:sub(i, i)
end

-- generate([length]) -> a random password (default 20 characters) with at least one upper-case
-- letter, lower-case letter, digit and one of !@#$%^&*(), from the kernel's random source.
function M.generate(length)
  length = length or 20
  assert(length >= 4, "generated passwords have at least 4 characters")
  local chars = { pick(UPPER), pick(LOWER), pick(DIGITS), pick(SYMBOLS) }
  for i = 5, length do
    chars[i] = pick(ALL)
  end
  for i = length, 2, -1 do -- Fisher-Yates, so the guaranteed classes sit anywhere
    local j = random_index(i)
    chars[i], chars[j] = chars[j], chars[i]
  end
  return table.concat(chars)
end

return M
