/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark (not a test): agentlens.json vs lua-cjson on a ~2 KB catalog-like object, in one process. */
#include <stdio.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua/api_json.h"

/* Called with (json); prints one line per codec and operation. */
static const char bench_lua[] =
	"local json = ...\n"
	"local obj = {\n"
	"  id = '6f1c2a8e-3b4d-4c5e-9f60-718293a4b5c6', name = 'weather-agent', display_name = 'Weather Agent',\n"
	"  description = 'Provides current conditions and multi-day forecasts for any city worldwide, with severe '\n"
	"    .. 'weather alerts, air quality and pollen levels. Answers in the language of the question, '\n"
	"    .. 'in metric or imperial units, and cites the station and model run it used (ECMWF, GFS, ICON).',\n"
	"  kind = 'a2a', url = 'https://agents.example.com/weather/v1',\n"
	"  card_url = 'https://agents.example.com/weather/.well-known/agent-card.json',\n"
	"  version = '1.4.2', protocol_version = '0.3.0', status = 'healthy', source = 'kubernetes',\n"
	"  namespace = 'agents-prod', service = 'weather-agent', port = 8080,\n"
	"  created_at = '2024-05-01T12:34:56Z', updated_at = '2024-06-11T08:00:01Z',\n"
	"  last_seen_at = '2024-06-11T08:00:01Z', latency_ms = 42.7, uptime_ratio = 0.9987, error_rate = 0.00125,\n"
	"  failures = 3, checks = 1234567,\n"
	"  tags = {'weather', 'forecast', 'alerts', 'geo', 'air-quality'},\n"
	"  skills = {\n"
	"    {id = 'forecast', name = 'Forecast', tags = {'forecast'},\n"
	"     description = 'Multi-day forecast for a location: highs, lows, precipitation, wind',\n"
	"     examples = {'Will it rain in Lyon tomorrow?', 'Weekend forecast for Oslo'}},\n"
	"    {id = 'alerts', name = 'Alerts', tags = {'alerts'},\n"
	"     description = 'Severe weather alerts for a region from national weather services',\n"
	"     examples = {'Any storm warnings for Florida?'}},\n"
	"    {id = 'current', name = 'Current conditions', tags = {'now'},\n"
	"     description = 'Temperature, wind, humidity, pressure',\n"
	"     examples = {'How windy is it in Wellington right now?', 'Humidity in Singapore'}},\n"
	"    {id = 'air', name = 'Air quality', tags = {'air'},\n"
	"     description = 'AQI, PM2.5, PM10, ozone, pollen counts and health advice',\n"
	"     examples = {'Is it safe to run outside in Delhi today?'}},\n"
	"  },\n"
	"  capabilities = {streaming = true, push_notifications = false, state_history = false},\n"
	"  input_modes = {'text/plain', 'application/json'},\n"
	"  output_modes = {'text/plain', 'application/json', 'image/png'},\n"
	"  labels = {app = 'weather', tier = 'backend', region = 'eu-west-1', team = 'geo'},\n"
	"}\n"
	"local function nfields(t) local n = 0 for _ in pairs(t) do n = n + 1 end return n end\n"
	"local function bench(label, f, arg)\n"
	"  local best = math.huge\n"
	"  for _ = 1, 5 do\n"
	"    local n, t0 = 100000, os.clock()\n"
	"    for _ = 1, n do f(arg) end\n"
	"    best = math.min(best, (os.clock() - t0) / n * 1e6)\n"
	"  end\n"
	"  print(string.format('%-28s %7.3f us/op', label, best))\n"
	"  return best\n"
	"end\n"
	"local text = json.encode(obj)\n"
	"print(string.format('object: %d top-level fields, %d bytes of JSON', nfields(obj), #text))\n"
	"local ours = bench('agentlens.json encode', json.encode, obj)\n"
	"bench('agentlens.json decode', json.decode, text)\n"
	"local ok, cjson = pcall(require, 'cjson')\n"
	"if ok then\n"
	"  local theirs = bench('cjson encode (unsorted)', cjson.encode, obj)\n"
	"  bench('cjson decode', cjson.decode, text)\n"
	"  print(string.format('encode ratio agentlens/cjson: %.2f', ours / theirs))\n"
	"else\n"
	"  print('lua-cjson not available: ' .. tostring(cjson))\n"
	"end\n";

int main(void)
{
	lua_State *L = luaL_newstate();
	if (!L)
		return 1;
	luaL_openlibs(L);
	if (luaL_loadbuffer(L, bench_lua, sizeof bench_lua - 1, "bench_json") != 0) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		return 1;
	}
	lua_pushcfunction(L, al_open_json);
	lua_call(L, 0, 1);
	if (lua_pcall(L, 1, 0, 0) != 0) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		return 1;
	}
	lua_close(L);
	return 0;
}
