-- SPDX-License-Identifier: Apache-2.0
-- Loaded before every Lua spec: lets specs require product modules from lua/ and the helpers
-- in spec/support/ on disk.
package.path = "./lua/?.lua;./lua/?/init.lua;./spec/support/?.lua;" .. package.path
